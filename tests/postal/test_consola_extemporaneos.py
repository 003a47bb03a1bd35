"""postal's console screen of the late envelopes (LGIPE 345.2) over HTTP, with real console sessions (the
local identity provider as a process): who reads the list by sender and how much of each name, who records
the act destroying them and what a forged form, a short list of attendees or a replay does — each refusal
records nothing. The same screen in Chromium: tests/postal/test_consola_navegador.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.postal.models import ActaDestruccion, Sobre
from tests.postal.test_extemporaneos import _tardios
from tests.support.consola import cabecera, csrf, ingresar
from tests.support.postal import Postal

Token = Callable[..., dict[str, str]]
PANTALLA = "/consola/postal/extemporaneos"
NOMBRE = "María Núñez Peña"
ENMASCARADO = "M*** N*** P***"


def acta(html: str, **filas: str) -> dict[str, str]:
    """The act's form as a person fills it: the place and two attendees, unless ``filas`` says otherwise."""
    datos = {
        "csrf": csrf(html),
        "entidad": "09",
        "lugar": "Local Único, Ciudad de México",
        "nombre_1": "Ana Torres Vega",
        "cargo_1": "Vocal Ejecutiva del INE",
        "nombre_2": "Juan Pérez Gómez",
        "cargo_2": "Representante del PAN",
        "nombre_3": "",
        "cargo_3": "",
        "nombre_4": "",
        "cargo_4": "",
    }
    return {**datos, **filas}


async def _ver(postal: Postal, sesion: dict[str, str], entidad: str | None = "09") -> httpx.Response:
    params = {"entidad": entidad} if entidad else {}
    return await postal.client.get(PANTALLA, params=params, headers=cabecera(sesion))


async def test_relacion_por_remitente_segun_el_rol(postal_con_consola: Postal, token: Token) -> None:
    postal = postal_con_consola
    await _tardios(postal, token)
    # INE's admin: without an entidad, the choice of one; with 09, the names in full and the act's form.
    admin, _ = await ingresar(postal.client, "postal", "administradora")
    r = await _ver(postal, admin, None)
    assert r.status_code == 200, r.text
    assert '<select id="entidad" name="entidad"' in r.text
    assert 'id="remitentes"' not in r.text
    r = await _ver(postal, admin)
    assert r.status_code == 200, r.text
    assert r.text.count(NOMBRE) == 2
    assert ENMASCARADO not in r.text
    assert '<p id="pendientes"><strong>2</strong>' in r.text
    assert 'id="form-destruccion"' in r.text
    assert '<th scope="col">' in r.text
    for campo in ("lugar", "nombre_1", "cargo_1", "nombre_4", "cargo_4"):
        assert f'<label for="{campo}">' in r.text, campo
    # The auditor and the OPL of 09 (who need not choose it): masked names, no form to record an act.
    auditora, _ = await ingresar(postal.client, "postal", "auditora")
    opl, _ = await ingresar(postal.client, "postal", "opl-09")
    for sesion, entidad in ((auditora, "09"), (opl, None), (opl, "09")):
        r = await _ver(postal, sesion, entidad)
        assert r.status_code == 200, r.text
        assert r.text.count(ENMASCARADO) == 2
        assert NOMBRE not in r.text
        assert "Núñez" not in r.text
        assert 'id="form-destruccion"' not in r.text
        assert ('<select id="entidad"' in r.text) == (sesion is auditora)  # an OPL does not choose
    # Another entidad for the OPL of 09, and a role this screen is not for: 403.
    r = await _ver(postal, opl, "14")
    assert r.status_code == 403
    assert "solo consulta la entidad 09" in r.text
    operadora, _ = await ingresar(postal.client, "postal", "operadora")
    r = await _ver(postal, operadora)
    assert r.status_code == 403
    # An entidad outside the process, or not an entidad: said next to the choice.
    r = await _ver(postal, admin, "31")
    assert r.status_code == 404
    assert 'id="entidad-error"' in r.text
    r = await _ver(postal, admin, "x")
    assert r.status_code == 422
    assert 'id="entidad-error"' in r.text


async def test_acta_de_destruccion_desde_la_consola(postal_con_consola: Postal, token: Token) -> None:
    postal = postal_con_consola
    await _tardios(postal, token)
    admin, _ = await ingresar(postal.client, "postal", "administradora")
    pantalla = await _ver(postal, admin)
    assert pantalla.status_code == 200, pantalla.text

    # Without the CSRF token, or a forged one: 403, no act.
    datos = acta(pantalla.text)
    for csrf_enviado in (None, "falso"):
        enviado = {k: v for k, v in datos.items() if k != "csrf"}
        if csrf_enviado:
            enviado["csrf"] = csrf_enviado
        r = await postal.client.post(PANTALLA, data=enviado, headers=cabecera(admin))
        assert r.status_code == 403, r.text
        assert "no se hizo nada" in r.text
    assert await postal.count(ActaDestruccion) == 0

    # One attendee: 422, the reason next to the attendees, what was typed kept, no act.
    r = await postal.client.post(
        PANTALLA, data=acta(pantalla.text, nombre_2="", cargo_2=""), headers=cabecera(admin)
    )
    assert r.status_code == 422, r.text
    assert 'id="asistentes-error"' in r.text
    assert 'value="Local Único, Ciudad de México"' in r.text
    # A row with a name and no position: the error next to that field.
    r = await postal.client.post(PANTALLA, data=acta(pantalla.text, cargo_2=""), headers=cabecera(admin))
    assert r.status_code == 422, r.text
    assert 'id="cargo_2-error"' in r.text
    assert await postal.count(ActaDestruccion) == 0
    assert await postal.count(Sobre, Sobre.acta_destruccion_id.is_not(None)) == 0

    # The act: both late envelopes of 09, the confirmation, the act in the list with its PDF.
    r = await postal.client.post(PANTALLA, data=acta(pantalla.text), headers=cabecera(admin))
    assert r.status_code == 200, r.text
    assert await postal.count(ActaDestruccion) == 1
    async with postal.app.state.runtime.maker() as session:
        registrada = (await session.execute(ActaDestruccion.__table__.select())).one()
    assert registrada.sobres == 2
    assert registrada.registrada_por == "administradora"
    assert [a["nombre"] for a in registrada.asistentes] == ["Ana Torres Vega", "Juan Pérez Gómez"]
    assert f"Acta {registrada.id} registrada: 2 sobres destruidos" in r.text
    pdf = f"{PANTALLA}/09/destrucciones/{registrada.id}.pdf"
    assert f'href="{pdf}"' in r.text
    assert '<p id="pendientes"><strong>0</strong>' in r.text
    assert await postal.count(Sobre, Sobre.acta_destruccion_id == registrada.id) == 2

    # A replay: 409 next to the form, still one act.
    r = await postal.client.post(PANTALLA, data=acta(pantalla.text), headers=cabecera(admin))
    assert r.status_code == 409, r.text
    assert 'id="problema"' in r.text
    assert "ya están en un acta" in r.text
    assert await postal.count(ActaDestruccion) == 1

    # The auditor cannot record an act (even with a session's own token), nor can the OPL.
    auditora, _ = await ingresar(postal.client, "postal", "auditora")
    propia = await _ver(postal, auditora)
    r = await postal.client.post(PANTALLA, data=acta(propia.text), headers=cabecera(auditora))
    assert r.status_code == 403
    opl, _ = await ingresar(postal.client, "postal", "opl-09")
    r = await postal.client.post(PANTALLA, data=acta(pantalla.text), headers=cabecera(opl))
    assert r.status_code == 403
    assert await postal.count(ActaDestruccion) == 1

    # The printable act: the OPL of 09 reads its own, as the API serves it; another entidad's: 403.
    r = await postal.client.get(pdf, headers=cabecera(opl))
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    api = await postal.client.get(
        f"/v1/extemporaneos/09/destrucciones/{registrada.id}.pdf", headers=token("opl", entidad="09")
    )
    assert api.status_code == 200
    assert api.content.startswith(b"%PDF")
    r = await postal.client.get(f"{PANTALLA}/14/destrucciones/{registrada.id}.pdf", headers=cabecera(opl))
    assert r.status_code == 403
    # The admin on 14, which has no such act: 404 on the screen.
    r = await postal.client.get(f"{PANTALLA}/14/destrucciones/{registrada.id}.pdf", headers=cabecera(admin))
    assert r.status_code == 404
    assert f"No hay acta de destrucción {registrada.id}" in r.text
    # Without a session: to the sign-in.
    r = await postal.client.get(pdf)
    assert r.status_code == 303
