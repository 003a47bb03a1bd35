"""A person registers in a real browser (Chromium, through Playwright): the form with an error shown next to
its field, the review, the documents, the confirmation; the folio arrives by SMTP in the local mailbox; «my
application» with that folio; the operator asks for an aclaración and the person corrects a field with the
code that arrives by mail. axe-core on every page (no serious or critical violation), in Spanish and
English, on a phone and on a desktop; screenshots in var/capturas/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.registro.models import Documento, Notificacion, Solicitud
from shared.notificaciones import Notificador
from tests.factories import solicitud
from tests.support.comun import Buzon, en_http
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import Registro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 64


def _credencial(directorio: Path) -> tuple[Path, Path]:
    """Both sides of a voter ID, as the files a person attaches."""
    frente, reverso = directorio / "frente.png", directorio / "reverso.png"
    frente.write_bytes(PNG)
    reverso.write_bytes(PNG)
    return frente, reverso


async def _entregar(registro: Registro, buzon: Buzon) -> None:
    """What registro's relay does in `make run`: its pending messages leave over SMTP to the local mailbox."""
    remitente = Notificador(
        registro.app.state.runtime.maker,
        Notificacion,
        registro.app.state.settings.model_copy(update=buzon.ajustes()),
        metrics=registro.app.state.metrics,
    )
    await remitente.enviar_pendientes()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_inscribirse_y_corregir_en_el_navegador(
    registro: Registro,
    buzon: Buzon,
    navegador: Any,  # noqa: F811
    token: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    datos = solicitud(7)
    frente, reverso = _credencial(tmp_path)
    async with en_http(registro.app, lifespan="off") as base:
        pagina, problemas = await pagina_nueva(navegador)
        await pagina.goto(f"{base}/inscripcion")
        await accesible(pagina, "inscripcion")

        # The form, with a voter key that does not match the birth date: refused, the error next to the field.
        await pagina.fill("#clave_elector", "GOMZAN85031209M700")
        await pagina.fill("#nombre", datos["nombre"])
        await pagina.fill("#apellido_paterno", datos["apellido_paterno"])
        await pagina.fill("#apellido_materno", datos["apellido_materno"])
        await pagina.fill("#fecha_nacimiento", datos["fecha_nacimiento"])
        await pagina.check(f"input[name=sexo][value={datos['sexo']}]")
        await pagina.select_option("#entidad", datos["entidad"])
        # The address hints follow the country chosen.
        await pagina.select_option("#pais", "CA")
        assert "K1A 0B1" in await pagina.inner_text("#domicilio\\.codigo_postal-ayuda")
        assert "Provincia" in await pagina.inner_text("#domicilio\\.region-ayuda")
        await pagina.select_option("#pais", "US")
        assert "90015-1234" in await pagina.inner_text("#domicilio\\.codigo_postal-ayuda")
        for campo, valor in datos["domicilio"].items():
            await pagina.fill(f"#domicilio\\.{campo}", valor)
        await pagina.fill("#email", datos["email"])
        await pagina.fill("#telefono", datos["telefono"])
        await pagina.check("input[name=modalidad][value=electronica]")
        await pagina.click("button[type=submit]")
        error = pagina.locator("#clave_elector-error")
        await error.wait_for()
        assert "clave" in (await error.inner_text()).lower()
        assert await pagina.get_attribute("#clave_elector", "aria-invalid") == "true"
        # The error list is focused, for a screen reader, and links to the field.
        assert await pagina.evaluate("document.activeElement.id") == "errores"
        await accesible(pagina, "inscripcion-errores")

        # Corrected (what was typed is still there), reviewed, documents attached, sent.
        assert await pagina.input_value("#nombre") == datos["nombre"]
        await pagina.fill("#clave_elector", datos["clave_elector"])
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("text=Revise sus datos")
        await accesible(pagina, "inscripcion-revision")
        await pagina.set_input_files("#credencial_frente", str(frente))
        await pagina.set_input_files("#credencial_reverso", str(reverso))
        await pagina.click("text=Enviar mi solicitud")
        await pagina.wait_for_selector("text=Recibimos su solicitud")
        texto = await pagina.inner_text("main")
        assert "p***@example.com" in texto
        await accesible(pagina, "inscripcion-enviada")
        assert sorted(d.tipo for d in await registro.rows(Documento)) == [
            "credencial_frente",
            "credencial_reverso",
        ]

        # The folio arrives in the local mailbox, over SMTP.
        await _entregar(registro, buzon)
        [acuse] = buzon.mensajes(datos["email"])
        [fila] = await registro.rows(Solicitud)
        folio = fila.folio
        assert folio in acuse["texto"], acuse["texto"]
        assert folio not in texto

        # «My application» with that folio.
        await pagina.goto(f"{base}/mi-solicitud")
        await accesible(pagina, "mi-solicitud")
        await pagina.fill("#folio", folio)
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("text=Recibida: el INE la está revisando")
        await accesible(pagina, "mi-solicitud-estado")

        # The operator asks for an aclaración; the person corrects the city with the code from the mail.
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/aclaracion",
            json={"motivos": ["comprobante_domicilio"]},
            headers=token("ine-operador"),
        )
        assert r.status_code == 200, r.text
        await pagina.goto(f"{base}/mi-solicitud")
        await pagina.fill("#folio", folio)
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("text=Corregir mis datos")
        await accesible(pagina, "mi-solicitud-aclaracion")
        await pagina.fill("#domicilio\\.ciudad", "San Diego")
        await pagina.click("text=Enviarme el código")
        await pagina.wait_for_selector("text=Confirme con su código")
        await accesible(pagina, "mi-solicitud-codigo")
        buzon.nuevo_comienzo()
        await _entregar(registro, buzon)
        textos = [m["texto"] for m in buzon.mensajes(datos["email"])]
        [codigo] = [c for texto in textos if (c := re.search(r"confirmar un cambio .* es: (\d{6})", texto))]
        await pagina.fill("#codigo", codigo.group(1))
        await pagina.click("text=Confirmar el cambio")
        await pagina.wait_for_selector("text=aplicamos el cambio")
        assert (await registro.solicitud(folio)).ciudad == "San Diego"
        await accesible(pagina, "mi-solicitud-aplicado")

        # English, on a desktop.
        escritorio, problemas_escritorio = await pagina_nueva(navegador, ESCRITORIO)
        await escritorio.goto(f"{base}/inscripcion?lang=en")
        await escritorio.wait_for_selector("text=Register to vote from abroad")
        await accesible(escritorio, "inscripcion-en-escritorio")
        await escritorio.click("text=Español")
        await escritorio.wait_for_selector("text=Inscribirme para votar desde el extranjero")
        assert problemas == problemas_escritorio == []  # no script error, nothing the policy refused


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sin_javascript_y_con_el_teclado(registro: Registro, navegador: Any) -> None:  # noqa: F811
    """The form and its errors work with JavaScript off; the keyboard alone reaches and sends it."""
    async with en_http(registro.app, lifespan="off") as base:
        contexto = await navegador.new_context(java_script_enabled=False, locale="es-MX")
        pagina = await contexto.new_page()
        await pagina.goto(f"{base}/inscripcion")
        await pagina.fill("#nombre", "Ana")
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("#clave_elector-error")
        assert await pagina.input_value("#nombre") == "Ana"
        assert "Este dato es obligatorio." in await pagina.inner_text("#apellido_paterno-error")
        await contexto.close()

        pagina, problemas = await pagina_nueva(navegador)
        await pagina.goto(f"{base}/mi-solicitud")
        # The first Tab reaches «skip to content»; Enter takes the focus past the header.
        await pagina.keyboard.press("Tab")
        assert await pagina.evaluate("document.activeElement.className") == "saltar"
        await pagina.keyboard.press("Enter")
        # The navigation to the anchor follows the key press: wait for it (a loaded CI saw the old URL).
        await pagina.wait_for_url("**#principal", timeout=5000)
        assert pagina.url.endswith("#principal")
        # Tab by Tab to the folio field, typed, sent with Enter.
        for _ in range(10):
            if await pagina.evaluate("document.activeElement.id") == "folio":
                break
            await pagina.keyboard.press("Tab")
        assert await pagina.evaluate("document.activeElement.id") == "folio"
        await pagina.keyboard.type("F-NOEXISTE")
        await pagina.keyboard.press("Enter")
        await pagina.wait_for_selector("#folio-error")
        assert problemas == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_inscribirse_para_votar_en_persona_en_una_sede(
    registro_2024: Registro,
    navegador: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """2024 (#27): the form offers the in-person modality and the consular sites; the site is asked for only
    with that modality, shown in the review and in «my application»; no address or phone is needed."""
    registro = registro_2024
    datos = solicitud(8)
    frente, reverso = _credencial(tmp_path)
    async with en_http(registro.app, lifespan="off") as base:
        pagina, problemas = await pagina_nueva(navegador)
        await pagina.goto(f"{base}/inscripcion")
        for campo in ("clave_elector", "nombre", "apellido_paterno", "apellido_materno", "fecha_nacimiento"):
            await pagina.fill(f"#{campo}", datos[campo])
        await pagina.check(f"input[name=sexo][value={datos['sexo']}]")
        await pagina.select_option("#entidad", "09")
        await pagina.select_option("#pais", "US")
        await pagina.fill("#email", datos["email"])
        await pagina.check("input[name=modalidad][value=presencial]")
        await pagina.click("button[type=submit]")  # no site chosen: the error is next to the field
        error = pagina.locator("#sede-error")
        await error.wait_for()
        assert "sede consular" in await error.inner_text()
        assert await pagina.get_attribute("#sede", "aria-invalid") == "true"
        await accesible(pagina, "inscripcion-presencial-sin-sede")

        await pagina.select_option("#sede", "chicago")
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("text=Revise sus datos")
        assert "Consulado General de México en Chicago" in await pagina.inner_text("main")
        await accesible(pagina, "inscripcion-presencial-revision")
        await pagina.set_input_files("#credencial_frente", str(frente))
        await pagina.set_input_files("#credencial_reverso", str(reverso))
        await pagina.click("text=Enviar mi solicitud")
        await pagina.wait_for_selector("text=Recibimos su solicitud")
        [fila] = await registro.rows(Solicitud)
        assert (fila.modalidad, fila.sede, fila.telefono, fila.calle_numero) == (
            "presencial",
            "chicago",
            None,
            None,
        )

        await pagina.goto(f"{base}/mi-solicitud")
        await pagina.fill("#folio", fila.folio)
        await pagina.click("button[type=submit]")
        await pagina.wait_for_selector("text=Recibida: el INE la está revisando")
        assert "Consulado General de México en Chicago" in await pagina.inner_text("dl.resumen")
        await accesible(pagina, "mi-solicitud-presencial")
        assert problemas == []
