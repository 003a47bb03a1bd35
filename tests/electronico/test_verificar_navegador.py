"""«Verificar mi voto» in a real browser (Debian's headless Chromium through Playwright): a voter votes in the
booth (first access with TOTP, the ballot, confirmation after the booth explained the receipt), goes from the
list of ballots to «verificar» and pastes the receipt → found; a receipt that no ballot has → not found, the
error next to the field and focused; a malformed one → refused; a drill's ballot → marked SIMULACRO. axe-core
on every page (no serious or critical violation), in Spanish and English, on a phone and on a desktop;
screenshots ``verificar*.png`` in var/capturas/."""

from __future__ import annotations

from typing import Any

import pytest

from shared.cripto import grupo as gr
from tests.support.comun import en_http
from tests.support.electronico import PASSWORD, Cuenta, Electronico
from tests.support.navegador import (  # noqa: F401
    ESCRITORIO,
    TELEFONO,
    accesible,
    ingresar_a_la_cabina,
    navegador,
    pagina_nueva,
)

pytestmark = [pytest.mark.e2e, pytest.mark.externo]

TEXTOS = {
    "es": {
        "buscar": "Buscar mi acuse",
        "encontrado": "Su boleta está en el tablón público",
        "no_esta": "Este acuse no está en el tablón público de ninguna elección.",
        "formato": "Esto no es un acuse",
        "simulacro": "SIMULACRO: esta boleta es de un simulacro",
    },
    "en": {
        "buscar": "Look up my receipt",
        "encontrado": "Your ballot is on the public bulletin board",
        "no_esta": "This receipt is not on the public bulletin board of any election.",
        "formato": "This is not a receipt",
        "simulacro": "DRILL: this ballot belongs to a drill",
    },
}


def _cuenta(e: Electronico, i: int) -> Cuenta:
    return sorted((c for u, c in e.cuentas.items() if u.startswith("V09")), key=lambda c: c.usuario)[i]


async def _votar_en_la_cabina(pagina: Any, base: str, cuenta: Cuenta, eleccion: str) -> str:
    """First access and login, choose, confirm, the receipt."""
    await ingresar_a_la_cabina(pagina, base, cuenta.usuario, cuenta.clave_acceso, PASSWORD)
    boleta = pagina.get_by_role("group", name=eleccion, exact=True)  # the drill is listed too
    await boleta.get_by_role("radio", name="Morena", exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()
    # The drill's ballot, left unmarked, is not cast now: the confirmation says so.
    assert "No marcó: SIMULACRO" in await pagina.locator("#sin-marcar").inner_text()
    # Before casting: what the receipt is for, and where it is checked.
    explica = pagina.locator("#explica-acuse")
    assert await explica.is_visible()
    assert "acuse" in await explica.inner_text()
    assert await explica.locator("a").get_attribute("href") == "/verificar"
    await accesible(pagina, "verificar-cabina-confirmacion")
    credencial = cuenta.credenciales[eleccion]
    await pagina.get_by_label("Credencial de votación").fill(credencial)
    await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
    await pagina.locator("#acuses .rastreador").wait_for()
    rastreador: str = await pagina.locator("#acuses .rastreador").inner_text()
    # After: a link to «verificar».
    assert await pagina.locator("#ir-verificar").get_attribute("href") == "/verificar"
    await accesible(pagina, "verificar-cabina-acuse")
    # The list of ballots shows the receipt, when it was recorded, and the link.
    await pagina.get_by_role("button", name="Volver a mis boletas").click()
    guardado = pagina.locator(".acuse-guardado")
    await guardado.wait_for()
    texto = await guardado.inner_text()
    assert rastreador in texto
    assert "hora del Centro de México" in texto
    await accesible(pagina, "verificar-cabina-boletas")
    return rastreador


async def _buscar(pagina: Any, base: str, idioma: str, rastreador: str) -> None:
    await pagina.goto(f"{base}/verificar?lang={idioma}")
    await pagina.fill("#rastreador", rastreador)
    await pagina.get_by_role("button", name=TEXTOS[idioma]["buscar"]).click()


async def _recorrido(
    pagina: Any, base: str, idioma: str, nombre: str, real: str, simulacro: str, ninguno: str
) -> None:
    """Every page of «verificar» (the form, found, a drill's ballot, not found, malformed), axe on each."""
    t = TEXTOS[idioma]
    await pagina.goto(f"{base}/verificar?lang={idioma}")
    await accesible(pagina, f"verificar-{nombre}")

    await _buscar(pagina, base, idioma, real)
    await pagina.get_by_role("heading", name=t["encontrado"]).wait_for()
    assert await pagina.locator("#acuse").inner_text() == real
    assert await pagina.locator("#es-simulacro").count() == 0
    await accesible(pagina, f"verificar-encontrado-{nombre}")

    await _buscar(pagina, base, idioma, simulacro)
    await pagina.get_by_role("heading", name=t["encontrado"]).wait_for()
    assert t["simulacro"] in await pagina.locator("#es-simulacro").inner_text()
    await accesible(pagina, f"verificar-simulacro-{nombre}")

    await _buscar(pagina, base, idioma, ninguno)
    error = pagina.locator("#rastreador-error")
    await error.wait_for()
    assert await error.inner_text() == t["no_esta"]
    assert await pagina.get_attribute("#rastreador", "aria-invalid") == "true"
    assert await pagina.input_value("#rastreador") == ninguno
    assert await pagina.evaluate("document.activeElement.id") == "errores"  # read first by a screen reader
    await accesible(pagina, f"verificar-no-encontrado-{nombre}")

    await _buscar(pagina, base, idioma, "no-es-un-acuse")
    await error.wait_for()
    assert (await error.inner_text()).startswith(t["formato"])
    await accesible(pagina, f"verificar-formato-{nombre}")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_verificar_mi_voto_en_el_navegador(
    abierta: tuple[Electronico, str],
    navegador: Any,  # noqa: F811
) -> None:
    e, uuid = abierta
    # A drill of the same entidad, opened, with a ballot cast through the API by another voter.
    sim = await e.simulacro_abierto()
    otra = await e.primer_acceso_e_ingreso(_cuenta(e, 1))
    voto = await e.votar(sim["uuid"], otra, await e.boleta(sim["uuid"], otra, "PAN"))
    assert voto.status_code == 201, voto.text
    en_simulacro = voto.json()["rastreador"]
    cuenta = _cuenta(e, 0)
    nombre = (await e.client.get(f"/v1/elecciones/{uuid}")).json()["nombre"]

    async with en_http(e.app, lifespan="off") as base:
        telefono, problemas = await pagina_nueva(navegador, TELEFONO)
        rastreador = await _votar_en_la_cabina(telefono, base, cuenta, nombre)
        # From the list of ballots to «verificar», and the receipt pasted there → found.
        await telefono.locator(".acuse-guardado a").click()
        await telefono.wait_for_url(f"{base}/verificar")
        await telefono.fill("#rastreador", rastreador)
        await telefono.get_by_role("button", name="Buscar mi acuse").click()
        await telefono.get_by_role("heading", name=TEXTOS["es"]["encontrado"]).wait_for()
        tablon = await e.client.get(f"/v1/elecciones/{uuid}/tablon", params={"rastreador": rastreador})
        assert tablon.json()["boletas"][0]["rastreador"] == rastreador
        assert nombre in await telefono.inner_text("main")
        descarga = telefono.get_by_role("link", name="Descargar el registro público")
        assert await descarga.get_attribute("href") == f"/v1/elecciones/{uuid}/archivo.bel"
        assert await telefono.locator("#comando-vmre").inner_text() == f"vmre verificar --un-voto {uuid}.bel"
        async with telefono.expect_download() as espera:
            await descarga.click()
        bajado = await espera.value
        assert bajado.suggested_filename == f"{uuid}.bel"

        ninguno = gr.sha256_b64("ninguna boleta tiene esta huella")
        await _recorrido(telefono, base, "es", "es-telefono", rastreador, en_simulacro, ninguno)
        await _recorrido(telefono, base, "en", "en-telefono", rastreador, en_simulacro, ninguno)
        escritorio, problemas_escritorio = await pagina_nueva(navegador, ESCRITORIO, "en-US")
        await _recorrido(escritorio, base, "es", "es-escritorio", rastreador, en_simulacro, ninguno)
        await _recorrido(escritorio, base, "en", "en-escritorio", rastreador, en_simulacro, ninguno)
        # The language link of the page.
        await escritorio.click("text=Español")
        await escritorio.wait_for_selector("text=Verificar mi voto por internet")
        assert problemas == problemas_escritorio == []  # no script error, nothing the policy refused
