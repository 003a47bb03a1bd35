"""computo's console: the MEC actas behind the real OpenID Connect sign-in (the local identity provider as a
process), over HTTP. An operator installs a mesa and captures its acta with the ballot's options in ballot
order; a second operator captures it without seeing the first's figures and, when they differ, sees the
differences field by field; an ine-admin corrects it with a reason; the acta de cómputo is closed, its
signature checked on the screen and its PDF served to a console session. And an attacker's view: another role,
another entidad, no session, a forged or missing CSRF token — each changes nothing. The same capture in
Chromium: tests/computo/test_consola_navegador.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from services.computo.models import Acta, ActaComputo, Bitacora, Captura, CorreccionActa, Mesa
from shared import firma
from shared.bus.envelope import Envelope
from shared.events import registro as eventos_registro
from shared.proceso import opciones
from shared.settings import KafkaSettings
from tests.support.computo import Computo, acta, app_de_prueba, mesa_asignada
from tests.support.comun import Databases, serve
from tests.support.consola import Identidad, cabecera, csrf, ingresar
from tests.support.registro import PEL2021

MESAS = "/consola/computo/mesas"
MESA = MESAS + "/09/1"
CARGO = PEL2021.entidades["09"].cargos[0].clave
OPCIONES = opciones(PEL2021.entidades["09"])
FUNCIONARIOS = {
    "presidente": "Laura Méndez",
    "secretario": "Jorge Ruiz",
    "escrutador_1": "Ana Soto",
    "escrutador_2": "Luis Vega",
    "suplente_1": "Rosa Díaz",
}


@pytest.fixture
async def consola(
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    identidad: Identidad,
) -> AsyncIterator[Computo]:
    app, reloj = await app_de_prueba(databases, offline_kafka, consola=identidad.ajustes())
    async with serve(app) as client:
        yield Computo(app, client, reloj, PEL2021, token)


def sin_tokens(html: str) -> str:
    """The page without its CSRF tokens (random text, which may contain any digits)."""
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


def formulario(votos: dict[str, int], html: str, **extra: str) -> dict[str, str]:
    """An acta as the capture form sends it: every option of the ballot, zeros but ``votos``."""
    total = sum(votos.values())
    return {
        "csrf": csrf(html),
        "cargo": CARGO,
        **{f"voto_{o}": str(votos.get(o, 0)) for o in OPCIONES},
        "total": str(total),
        "sobres_recibidos": str(total),
        "sobres_vacios": "",
        "sobres_con_varias_boletas": "",
        "incidentes": "",
    } | extra


def diferencias(html: str) -> list[tuple[str, str, str]]:
    tabla = re.search(r'<table class="diferencias" id="diferencias-[a-z_]+">(.*?)</table>', html, re.S)
    assert tabla, sin_tokens(html)[-3000:]
    return re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>", tabla.group(1)
    )


async def registrar_usuario(identidad: Identidad, sub: str, rol: str, nombre: str) -> None:
    """A user of the local provider beyond its five: its claims (the role) set before it signs in."""
    async with httpx.AsyncClient(timeout=10) as proveedor:
        r = await proveedor.put(f"{identidad.url}/users/{sub}", json={"rol": rol, "name": nombre})
    assert r.status_code == 204, r.text


async def en_bd(c: Computo, modelo: Any) -> list[Any]:
    async with c.app.state.runtime.maker() as s:
        return list((await s.execute(select(modelo))).scalars())


async def test_instalar_doble_captura_diferencias_y_correccion(
    consola: Computo, identidad: Identidad
) -> None:
    c = consola
    await c.entregar(mesa_asignada("09", 1, 4321))
    r = await c.client.get("/consola/computo/")
    assert r.status_code == 303
    assert r.headers["location"] == MESAS
    r = await c.client.get(MESA)
    assert r.status_code == 303
    assert r.headers["location"] == "/consola/computo/entrar?siguiente=%2Fconsola%2Fcomputo%2Fmesas%2F09%2F1"

    operadora, vuelta = await ingresar(c.client, "computo", "operadora")
    assert f'content="0;url={MESAS}"' in vuelta.text
    r = await c.client.get(MESAS, headers=cabecera(operadora))
    assert r.status_code == 200, r.text
    assert "Operadora del INE (local) · ine-operador" in r.text
    assert 'href="/consola/computo/mesas/09/1"' in r.text
    assert "Sin instalar" in r.text
    assert "Sin capturar" in r.text
    assert 'href="/comun/vmre.css"' in r.text
    assert (await c.client.get("/comun/vmre.css")).status_code == 200

    # The capture form: the options of the entidad's ballot, in ballot order, then the other figures.
    r = await c.client.get(MESA, headers=cabecera(operadora))
    assert r.status_code == 200
    assert re.findall(r'name="voto_([^"]+)"', r.text) == OPCIONES
    assert OPCIONES[:3] == ["PAN", "PRI", "PRD"]
    assert OPCIONES[-2:] == ["no_registrados", "nulos"]

    # Installation: an official missing is shown next to the field and nothing is stored.
    instalacion = MESA + "/instalacion"
    datos = FUNCIONARIOS | {"escrutador_2": "", "rep_PAN_1": "Pedro Gil", "rep_MORENA_1": "Eva Ríos"}
    r = await c.client.post(instalacion, data=datos | {"csrf": csrf(r.text)}, headers=cabecera(operadora))
    assert r.status_code == 422
    assert '<p class="error" id="escrutador_2-error">Este dato es obligatorio.</p>' in r.text
    assert 'value="Pedro Gil"' in r.text  # what was typed stays
    assert (await en_bd(c, Mesa))[0].instalada_at is None
    datos["escrutador_2"] = "Luis Vega"
    r = await c.client.post(instalacion, data=datos | {"csrf": csrf(r.text)}, headers=cabecera(operadora))
    assert r.status_code == 200, sin_tokens(r.text)[-2000:]
    assert "Mesa instalada." in r.text
    mesa = (await en_bd(c, Mesa))[0]
    assert mesa.instalada_at is not None
    assert mesa.funcionarios["escrutadores"] == ["Ana Soto", "Luis Vega"]
    assert mesa.funcionarios["suplentes"] == ["Rosa Díaz"]
    assert mesa.representantes == {"PAN": ["Pedro Gil"], "MORENA": ["Eva Ríos"]}

    # First capture, by the operator.
    primera = {"PAN": 3500, "MORENA": 821}
    capturas = MESA + "/actas"
    r = await c.client.post(capturas, data=formulario(primera, r.text), headers=cabecera(operadora))
    assert r.status_code == 200, sin_tokens(r.text)[-2000:]
    assert "Captura guardada. Falta la segunda captura, de otra persona." in r.text
    assert f'id="estado-{CARGO}">Una captura<' in r.text
    assert "3500" not in sin_tokens(r.text)  # not even to whoever typed it: a capture is never shown
    # The same person again: the service's refusal next to the form; nothing more stored.
    r = await c.client.post(capturas, data=formulario(primera, r.text), headers=cabecera(operadora))
    assert r.status_code == 409
    assert f'id="captura-{CARGO}-problema">Usted ya capturó esta acta' in r.text
    assert len(await en_bd(c, Captura)) == 1

    # A second operator (a user the provider learns now): the first capture's figures are nowhere.
    await registrar_usuario(identidad, "operador-2", "ine-operador", "Operador 2")
    segundo, _ = await ingresar(c.client, "computo", "operador-2")
    r = await c.client.get(MESA, headers=cabecera(segundo))
    assert r.status_code == 200
    assert "Operador 2 · ine-operador" in r.text
    pagina = sin_tokens(r.text)
    assert "3500" not in pagina
    assert "821" not in pagina
    assert re.findall(r'name="voto_PAN" type="text"[^>]*value="([^"]*)"', r.text) == [""]
    # An acta that does not add up: refused by the service, its reason next to the total; nothing stored.
    mala = formulario({"PAN": 3498, "MORENA": 823}, r.text, total="4320")
    r = await c.client.post(capturas, data=mala, headers=cabecera(segundo))
    assert r.status_code == 422
    assert re.search(
        rf'id="captura-{CARGO}-total-error">La suma de los votos por opción \(4321\) no coincide', r.text
    )
    assert 'value="4320"' in r.text
    assert len(await en_bd(c, Captura)) == 1
    # The second capture differs: the acta goes to review and the screen shows, field by field, both figures.
    r = await c.client.post(
        capturas, data=formulario({"PAN": 3498, "MORENA": 823}, r.text), headers=cabecera(segundo)
    )
    assert r.status_code == 200
    assert "NO coincide con la primera" in r.text
    assert f'id="estado-{CARGO}">En revisión: las capturas difieren<' in r.text
    assert diferencias(r.text) == [("Votos: PAN", "3500", "3498"), ("Votos: MORENA", "821", "823")]
    [guardada] = await en_bd(c, Acta)
    assert (guardada.estado, guardada.datos) == ("revision", None)
    assert sorted(x.operador for x in await en_bd(c, Captura)) == ["operador-2", "operadora"]
    r = await c.client.get(MESAS, headers=cabecera(segundo))
    assert "En revisión: las capturas difieren" in r.text

    # An operator does not correct: no form, and posting one is refused.
    assert "/correccion" not in r.text
    correccion = f"{MESA}/actas/{CARGO}/correccion"
    motivo = "Se recontaron los sobres con los representantes presentes."
    datos_corr = formulario({"PAN": 3499, "MORENA": 822}, r.text, motivo=motivo)
    r = await c.client.post(correccion, data=datos_corr, headers=cabecera(segundo))
    assert r.status_code == 403
    # The ine-admin corrects, with a reason (too short first: refused next to the field).
    admin, _ = await ingresar(c.client, "computo", "administradora")
    r = await c.client.get(MESA, headers=cabecera(admin))
    assert f'action="{correccion}"' in r.text
    assert diferencias(r.text) == [("Votos: PAN", "3500", "3498"), ("Votos: MORENA", "821", "823")]
    corta = datos_corr | {"csrf": csrf(r.text), "motivo": "error"}
    r = await c.client.post(correccion, data=corta, headers=cabecera(admin))
    assert r.status_code == 422
    assert f'id="correccion-{CARGO}-motivo-error">Escriba el motivo' in r.text
    assert (await en_bd(c, Acta))[0].estado == "revision"
    r = await c.client.post(correccion, data=datos_corr | {"csrf": csrf(r.text)}, headers=cabecera(admin))
    assert r.status_code == 200, sin_tokens(r.text)[-2000:]
    assert "Corrección guardada" in r.text
    assert f'id="estado-{CARGO}">Corregida<' in r.text
    assert "Versión 2, por administradora: " + motivo in r.text
    assert 'class="diferencias"' not in r.text
    [guardada] = await en_bd(c, Acta)
    assert guardada.estado == "corregida"
    assert guardada.diferencias is None
    assert guardada.datos["votos"]["PAN"] == 3499
    assert guardada.datos["total"] == 4321
    [corr] = await en_bd(c, CorreccionActa)
    assert (corr.quien, corr.motivo, corr.antes) == ("administradora", motivo, None)
    # The audit log says who did each thing (the console's session, as the API's token would).
    async with c.app.state.runtime.maker() as s:
        actores = [
            (b.actor, b.rol) for b in (await s.execute(select(Bitacora).order_by(Bitacora.id))).scalars()
        ]
    assert ("administradora", "ine-admin") in actores
    assert ("operador-2", "ine-operador") in actores


def lnere_cerrada(postal: int) -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.LNERE_CERRADA,
        source="registro",
        aggregate_id="09",
        data=eventos_registro.LnereCerrada(
            entidad="09",
            total=postal,
            postal=postal,
            electronica=0,
            por_pais={},
            cerrada_at=dt.datetime(2021, 4, 10, 5, tzinfo=dt.UTC),
        ),
    )


def sin_fecha(pdf: bytes) -> bytes:
    """A PDF without what fpdf2 derives from the moment it writes it (its date and its ID)."""
    return re.sub(rb"/CreationDate \(D:[^)]*\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", pdf)


async def test_cierre_firma_verificada_y_pdf(consola: Computo) -> None:
    c = consola
    await c.entregar(lnere_cerrada(20), mesa_asignada("09", 1, 10))
    computo = "/consola/computo/computos/09"
    admin, _ = await ingresar(c.client, "computo", "administradora")
    r = await c.client.get(computo, headers=cabecera(admin))
    assert r.status_code == 200
    assert "El cómputo de este cargo aún no se cierra." in r.text
    # Closing too early: the service says what is missing; nothing is published.
    r = await c.client.post(
        computo + "/cierre", data={"csrf": csrf(r.text), "cargo": CARGO}, headers=cabecera(admin)
    )
    assert r.status_code == 409
    assert f'id="problema-{CARGO}">No se puede cerrar el cómputo: faltan las actas' in r.text
    assert await en_bd(c, ActaComputo) == []
    # Two captures that agree (through the API), then the close from the console.
    buena = acta(total_por={"PAN": 6, "MORENA": 4})
    for sub in ("op-1", "op-2"):
        h = c.token("ine-operador", sub=sub)
        assert (await c.client.post("/v1/mesas/09/1/actas", json=buena, headers=h)).status_code == 200
    r = await c.client.post(
        computo + "/cierre", data={"csrf": csrf(r.text), "cargo": CARGO}, headers=cabecera(admin)
    )
    assert r.status_code == 200, sin_tokens(r.text)[-2000:]
    assert "Cómputo cerrado" in r.text
    clave = firma.clave_verificacion(firma.SEMILLA_DE_DESARROLLO)
    assert re.search(rf'id="firma-{CARGO}">\s*<p><strong>Firma válida', r.text)
    assert f"<code>{clave}</code>" in r.text
    assert f'href="{computo}/acta.pdf?cargo={CARGO}"' in r.text

    # The PDF through the console: the API's document (an auditor's session; the API with a token).
    auditora, _ = await ingresar(c.client, "computo", "auditora")
    pdf = await c.client.get(computo + "/acta.pdf", params={"cargo": CARGO}, headers=cabecera(auditora))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    api = await c.client.get("/v1/computos/09/acta.pdf", headers=c.token("auditor"))
    assert pdf.content.startswith(b"%PDF")
    assert sin_fecha(pdf.content) == sin_fecha(api.content)
    assert (await c.client.get(computo + "/acta.pdf")).status_code == 303  # no session: to the sign-in
    # An OPL reads its own entidad's acta, not another's.
    opl, _ = await ingresar(c.client, "computo", "opl-09")
    assert (await c.client.get(computo, headers=cabecera(opl))).status_code == 200
    assert (await c.client.get(computo + "/acta.pdf", headers=cabecera(opl))).status_code == 200
    otra = await c.client.get("/consola/computo/computos/16/acta.pdf", headers=cabecera(opl))
    assert otra.status_code == 403
    assert (await c.client.get("/consola/computo/computos/16", headers=cabecera(opl))).status_code == 403

    # A tampered acta (one figure changed in the database): the screen says the signature fails.
    async with c.app.state.runtime.maker() as s, s.begin():
        documento = (await s.execute(select(ActaComputo.documento))).scalar_one()
        falso = {**documento, "acta": {**documento["acta"], "participacion": "99.99"}}
        await s.execute(update(ActaComputo).values(documento=falso))
    r = await c.client.get(computo, headers=cabecera(auditora))
    assert re.search(rf'id="firma-{CARGO}">\s*<p><strong>La firma NO es válida', r.text)
    assert "Firma válida" not in r.text


async def test_otro_rol_otra_entidad_y_csrf_no_cambian_nada(consola: Computo) -> None:
    c = consola
    await c.entregar(mesa_asignada("09", 1, 10), mesa_asignada("16", 1, 10))
    capturas = MESA + "/actas"
    buena = {"PAN": 6, "MORENA": 4}
    # An auditor reads (as GET /v1/mesas) but neither captures, installs, corrects nor closes.
    auditora, _ = await ingresar(c.client, "computo", "auditora")
    r = await c.client.get(MESA, headers=cabecera(auditora))
    assert r.status_code == 200
    assert 'name="voto_PAN"' not in r.text
    assert 'action="/consola/computo/mesas/09/1/instalacion"' not in r.text
    suyo = formulario(buena, r.text) | FUNCIONARIOS  # with the auditor's own, valid, CSRF token
    for ruta in (
        capturas,
        MESA + "/instalacion",
        f"{MESA}/actas/{CARGO}/correccion",
        "/consola/computo/computos/09/cierre",
    ):
        r = await c.client.post(ruta, data=suyo, headers=cabecera(auditora))
        assert r.status_code == 403, ruta
        assert "Su rol (auditor) no usa esta pantalla." in r.text
    # The operator, with a forged CSRF token and without one: 403, nothing stored.
    operadora, _ = await ingresar(c.client, "computo", "operadora")
    pagina = (await c.client.get(MESA, headers=cabecera(operadora))).text
    for ruta, datos in (
        (capturas, formulario(buena, pagina)),
        (MESA + "/instalacion", {"csrf": csrf(pagina), **FUNCIONARIOS}),
    ):
        for malo in ({**datos, "csrf": "falso"}, {k: v for k, v in datos.items() if k != "csrf"}):
            r = await c.client.post(ruta, data=malo, headers=cabecera(operadora))
            assert r.status_code == 403, (ruta, r.text)
            assert "no se hizo nada" in r.text
    # Another session's token is no better.
    admin, _ = await ingresar(c.client, "computo", "administradora")
    otra = (await c.client.get(MESA, headers=cabecera(admin))).text
    r = await c.client.post(capturas, data=formulario(buena, otra), headers=cabecera(operadora))
    assert r.status_code == 403
    for ruta in (f"{MESA}/actas/{CARGO}/correccion", "/consola/computo/computos/09/cierre"):
        datos = formulario(buena, otra, motivo="Un motivo suficientemente largo.") | {"csrf": "falso"}
        assert (await c.client.post(ruta, data=datos, headers=cabecera(admin))).status_code == 403
    # No session at all: to the sign-in, nothing stored.
    r = await c.client.post(capturas, data=formulario(buena, pagina))
    assert r.status_code == 303
    assert await en_bd(c, Captura) == []
    assert await en_bd(c, Acta) == []
    assert await en_bd(c, ActaComputo) == []
    assert all(m.instalada_at is None for m in await en_bd(c, Mesa))
    # An OPL sees its own entidad's mesas only, and may not open another's.
    opl, _ = await ingresar(c.client, "computo", "opl-09")
    r = await c.client.get(MESAS, headers=cabecera(opl))
    assert r.status_code == 200
    assert 'id="mesa-09-1"' in r.text
    assert 'id="mesa-16-1"' not in r.text
    assert (await c.client.get(MESAS + "/16/1", headers=cabecera(opl))).status_code == 403
    r = await c.client.get(MESA, headers=cabecera(opl))
    assert r.status_code == 200
    assert 'name="voto_PAN"' not in r.text
    assert (
        await c.client.post(capturas, data=formulario(buena, r.text), headers=cabecera(opl))
    ).status_code == 403
    assert await en_bd(c, Captura) == []
