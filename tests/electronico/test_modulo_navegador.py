"""The kiosk of a consular site in a real browser (Debian's Chromium, Playwright, axe): prepared once with the
site's key file; the staff's turn code opens it; the voter marks both 2024 ballots and confirms without typing
any credential (the kiosk opened them, sealed, with the site's key); the kiosk encrypts, sends, shows the
receipts and closes the session. A kiosk of another site refuses a turn that is not its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.electronico import models as em
from shared.cripto import sede as sello
from shared.numeros import numero_adicional
from shared.settings import KafkaSettings
from tests.electronico.test_modulo import adicional
from tests.support.comun import Buzon, Databases
from tests.support.consola import (
    Identidad,
    cabecera,
    csrf,
    identidad,  # noqa: F401  (the local identity provider, a process)
    ingresar,
)
from tests.support.electronico import Electronico, electronico_2024, sede_2024
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import PEF2024, centro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
EN_LA_JORNADA = centro(2024, 6, 2, 10, 0)
LA = "los-angeles"


@pytest.fixture
async def sede(
    databases: Databases,
    offline_kafka: KafkaSettings,
    buzon: Buzon,
    token: Callable[..., dict[str, str]],
    tmp_path: Path,
    identidad: Identidad,  # noqa: F811
) -> AsyncIterator[tuple[str, Electronico]]:
    """electronico of 2024 on election day, its console signing in with the local identity provider."""
    async with electronico_2024(
        databases,
        offline_kafka,
        buzon,
        token,
        tmp_path,
        EN_LA_JORNADA,
        http=True,
        consola=identidad.ajustes(),
    ) as x:
        await sede_2024(x[1])
        yield x


async def abrir_turno(e: Electronico, numero: int) -> str:
    r = await e.client.post(
        f"/v1/modulo/{LA}/turnos",
        json={"entidad": "01", "numero": numero},
        headers=e.token("ine-operador", sede=LA, sub="operadora-la"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["codigo"])


# What a script on the kiosk's page would try: read the site's key back from where the kiosk keeps it.
EXPORTAR = """() => new Promise((ok) => {
  const r = indexedDB.open("vmre-modulo-clave", 1);
  r.onsuccess = () => {
    const g = r.result.transaction("clave").objectStore("clave").get("sede");
    g.onsuccess = () => crypto.subtle.exportKey("jwk", g.result.llave).then(() => ok("si"), () => ok("no"));
  };
})"""


async def preparar(browser: Any, base: str, clave: Path) -> tuple[Any, list[str]]:
    """A kiosk prepared by the staff with the site's key file, as they do once."""
    pagina, problemas = await pagina_nueva(browser, ESCRITORIO)
    await pagina.goto(f"{base}/modulo")
    await pagina.get_by_label("Clave de la sede (archivo .jwk)").set_input_files(str(clave))
    await pagina.get_by_role("button", name="Preparar el módulo").click()
    return pagina, problemas


async def comenzar(pagina: Any, codigo: str) -> None:
    await pagina.get_by_label("Código del turno (se lo da el personal de la sede)").fill(codigo)
    await pagina.get_by_role("button", name="Comenzar a votar").click()


async def test_en_el_modulo_la_persona_vota_sin_escribir_su_credencial(
    sede: tuple[str, Electronico],
    navegador: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, e = sede
    clave = tmp_path / "sede-los-angeles.jwk"
    clave.write_text(sello.jwk_de_desarrollo(LA))  # `vmre sede clave los-angeles --desarrollo`
    # Prepared once by the staff: the site's key stays in this kiosk.
    pagina, problemas = await preparar(navegador, base, clave)
    enviados: list[str] = []
    pagina.on("request", lambda rq: enviados.append(rq.post_data or "") if rq.method == "POST" else None)
    await pagina.get_by_text(f"Módulo de la sede {LA}.").wait_for()
    # The key stays in the kiosk as a non-extractable CryptoKey: it survives a reload, and no script on the
    # page can read it back (nor is it in localStorage).
    await pagina.reload()
    await pagina.get_by_text(f"Módulo de la sede {LA}.").wait_for()
    assert await pagina.evaluate("localStorage.length") == 0
    exportable = await pagina.evaluate(EXPORTAR)
    assert exportable == "no"
    await accesible(pagina, "modulo-turno")

    # The site's staff, signed in to the console (the identity provider's `sede` claim), open a turn for
    # the voter whose ID the door checked (entidad 01, number 1); its code is typed on the kiosk, alone.
    # They come from the door's screen, whose link fills the form in (nothing opens until they press).
    consola, _ = await pagina_nueva(navegador, ESCRITORIO)
    await consola.goto(base + "/consola/electronico/turnos?entidad=01&numero=1")
    await consola.get_by_role("button", name="sede-los-angeles").click()  # the provider's own page
    await consola.wait_for_url(base + "/consola/electronico/turnos?entidad=01&numero=1")
    assert await consola.get_by_label("Entidad de la credencial").input_value() == "01"
    assert await consola.get_by_label("Número en la LNERE de su entidad").input_value() == "1"
    assert await e.count(em.Turno) == 0
    await consola.get_by_role("button", name="Abrir turno").click()
    await consola.locator("#codigo").wait_for()
    assert "Presidencia de la República · Aguascalientes" in await consola.locator("#turno").inner_text()
    await accesible(consola, "consola-turno")
    codigo = await consola.locator("#codigo").inner_text()
    # Someone not on this site's list: the screen says so and opens nothing.
    await consola.get_by_label("Entidad de la credencial").select_option("01")
    await consola.get_by_label("Número en la LNERE de su entidad").fill("3")  # Chicago's
    await consola.get_by_role("button", name="Abrir turno").click()
    await consola.locator("#problema").wait_for()
    assert "No hay en la lista de esta sede" in await consola.locator("#problema").inner_text()
    await comenzar(pagina, codigo)
    presidencia = "Presidencia de la República · Aguascalientes"
    senaduria = "Senaduría · Aguascalientes"
    boletas = pagina.locator("#lista fieldset legend")
    await boletas.first.wait_for()
    assert await boletas.all_inner_texts() == [presidencia, senaduria]
    morena = "Morena — Claudia Sheinbaum Pardo"
    pan = "Partido Acción Nacional — Nombre de Prueba Senado"
    await pagina.get_by_role("group", name=presidencia).get_by_role("radio", name=morena, exact=True).check()
    await pagina.get_by_role("group", name=senaduria).get_by_role("radio", name=pan, exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()

    # One confirmation for both, and no credential to type: the kiosk holds them, opened with the site's key.
    await pagina.locator("#confirmacion").wait_for()
    assert await pagina.locator("#resumen li").all_inner_texts() == [
        f"{presidencia}: {morena}",
        f"{senaduria}: {pan}",
    ]
    assert await pagina.locator("#pide-credenciales").is_hidden()
    assert await pagina.locator("#credenciales input").count() == 0
    await accesible(pagina, "modulo-confirmar")
    await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
    await pagina.locator("#acuses .rastreador").nth(1).wait_for()
    rastreadores = await pagina.locator("#acuses .rastreador").all_inner_texts()
    await accesible(pagina, "modulo-acuses")

    # The kiosk closes the session and waits for the next turn.
    await pagina.get_by_role("button", name="Terminar y salir").click()
    await pagina.get_by_label("Código del turno (se lo da el personal de la sede)").wait_for()
    assert problemas == []

    async with e.app.state.runtime.maker() as s:
        guardadas = (await s.execute(select(em.Boleta.texto, em.Boleta.rastreador))).tuples().all()
        sesiones = (await s.execute(select(em.Sesion))).scalars().all()
        selladas = (
            await s.execute(
                select(em.Credencial.eleccion, em.Credencial.sellada).where(em.Credencial.numero == 1)
            )
        ).tuples()
        privadas = [sello.abrir(clave.read_text(), x or "", sello.contexto(LA, u, 1)) for u, x in selladas]
    assert sorted(r for _, r in guardadas) == sorted(rastreadores)
    assert sesiones == []  # closed
    # What left the browser: the turn's code and the two encrypted ballots — no choice, no credential.
    boletas_enviadas = [b for b in enviados if '"answers"' in b]
    assert sorted(boletas_enviadas) == sorted(t for t, _ in guardadas)
    assert all("Sheinbaum" not in b and "MORENA" not in b.upper() for b in enviados)
    assert len(privadas) == 2
    assert not any(p in b for p in privadas for b in enviados)


async def test_la_consola_de_turnos_sin_token_csrf_o_con_otro_rol_no_abre_nada(
    sede: tuple[str, Electronico],
) -> None:
    """Over HTTP, as an attacker would: a forged, missing or foreign CSRF token, or a signed-in role that is
    not the site's staff, opens no turn; the site's staff with their token do."""
    _, e = sede
    ruta = "/consola/electronico/turnos"
    personal, _ = await ingresar(e.client, "electronico", "sede-los-angeles")
    otra, _ = await ingresar(e.client, "electronico", "operadora")  # INE staff, no site
    ajeno = csrf((await e.client.get(ruta, headers=cabecera(otra))).text)
    datos = {"entidad": "01", "numero": "1"}
    for token in ({"csrf": "falso"}, {}, {"csrf": ajeno}):
        r = await e.client.post(ruta, data={**token, **datos}, headers=cabecera(personal))
        assert r.status_code == 403, (token, r.text[:300])
    r = await e.client.post(ruta, data={"csrf": ajeno, **datos}, headers=cabecera(otra))
    assert r.status_code == 403
    assert "no es del personal de una sede" in r.text
    auditora, _ = await ingresar(e.client, "electronico", "auditora")
    assert (await e.client.get(ruta, headers=cabecera(auditora))).status_code == 403
    assert await e.count(em.Turno) == 0
    propio = csrf((await e.client.get(ruta, headers=cabecera(personal))).text)
    r = await e.client.post(ruta, data={"csrf": propio, "entidad": "01"}, headers=cabecera(personal))
    assert r.status_code == 422
    assert await e.count(em.Turno) == 0
    r = await e.client.post(ruta, data={"csrf": propio, **datos}, headers=cabecera(personal))
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    assert await e.count(em.Turno) == 1


async def test_un_modulo_de_otra_sede_no_abre_el_turno(
    sede: tuple[str, Electronico],
    navegador: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, e = sede
    clave = tmp_path / "sede-chicago.jwk"
    clave.write_text(sello.generar("chicago")[0])
    pagina, problemas = await preparar(navegador, base, clave)
    await comenzar(pagina, await abrir_turno(e, 2))
    aviso = pagina.locator("#aviso")
    await aviso.get_by_text(
        "Este turno es de la sede los-angeles y este módulo es de la sede chicago."
    ).wait_for()
    assert await pagina.locator("#elecciones").is_hidden()
    assert await e.count(em.Sesion) == 0  # the kiosk closed the session it could not use
    assert problemas == []


async def test_con_una_boleta_adicional_se_vota_la_presidencia_en_el_modulo(
    sede: tuple[str, Electronico],
    navegador: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Someone not on the LNERE with a valid voter ID: the door handed them an extra ballot of entidad 01
    (registro's event: folio 1 at Los Ángeles). The staff come from the door's link to the turns screen, open
    the turn with the folio, and the kiosk gives the voter the national office only, with one of the site's
    reserve credentials, opened in the kiosk with the site's key."""
    base, e = sede
    await e.entregar(adicional(1))
    clave = tmp_path / "sede-los-angeles.jwk"
    clave.write_text(sello.jwk_de_desarrollo(LA))
    pagina, problemas = await preparar(navegador, base, clave)
    await pagina.get_by_text(f"Módulo de la sede {LA}.").wait_for()

    consola, _ = await pagina_nueva(navegador, ESCRITORIO)
    await consola.goto(base + "/consola/electronico/turnos?entidad=01&adicional=1")
    await consola.get_by_role("button", name="sede-los-angeles").click()
    await consola.wait_for_url(base + "/consola/electronico/turnos?entidad=01&adicional=1")
    assert await consola.get_by_label("Número en la LNERE de su entidad").input_value() == ""
    folio = consola.get_by_label("Folio de la boleta adicional (quien no está en la LNERE)")
    assert await folio.input_value() == "1"
    # A folio this site never handed opens nothing, and says what to do.
    await folio.fill("2")
    await consola.get_by_role("button", name="Abrir turno").click()
    await consola.locator("#problema").wait_for()
    assert (
        "no ha entregado la boleta adicional con folio 2" in await consola.locator("#problema").inner_text()
    )
    assert await e.count(em.Turno) == 0
    await consola.get_by_label("Folio de la boleta adicional (quien no está en la LNERE)").fill("1")
    await consola.get_by_role("button", name="Abrir turno").click()
    await consola.locator("#codigo").wait_for()
    presidencia = "Presidencia de la República · Aguascalientes"
    assert f"Votará en: {presidencia}" in await consola.locator("#turno").inner_text()
    await accesible(consola, "consola-turno-adicional")
    codigo = await consola.locator("#codigo").inner_text()

    await comenzar(pagina, codigo)
    boletas = pagina.locator("#lista fieldset legend")
    await boletas.first.wait_for()
    assert await boletas.all_inner_texts() == [presidencia]  # the national office only
    mc = "Movimiento Ciudadano — Jorge Álvarez Máynez"
    await pagina.get_by_role("group", name=presidencia).get_by_role("radio", name=mc, exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()
    await pagina.locator("#confirmacion").wait_for()
    assert await pagina.locator("#resumen li").all_inner_texts() == [f"{presidencia}: {mc}"]
    assert await pagina.locator("#credenciales input").count() == 0
    await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
    await pagina.locator("#acuses .rastreador").first.wait_for()
    [rastreador] = await pagina.locator("#acuses .rastreador").all_inner_texts()
    await accesible(pagina, "modulo-acuse-adicional")
    await pagina.get_by_role("button", name="Terminar y salir").click()
    await pagina.get_by_label("Código del turno (se lo da el personal de la sede)").wait_for()
    assert problemas == []

    numero = numero_adicional(PEF2024, LA, 1)
    async with e.app.state.runtime.maker() as s:
        [(votante, guardado)] = (
            (await s.execute(select(em.Votante.numero, em.Boleta.rastreador).join(em.Boleta))).tuples().all()
        )
    assert (votante, guardado) == (numero, rastreador)
