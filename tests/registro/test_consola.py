"""registro's review desk (the staff console, /consola/registro) behind the real OpenID Connect sign-in (the
local identity provider as a process), over HTTP, on both databases: the queue in order of arrival and its
filters, ten applications decided (one by one on the expediente, and as a batch) with who decided each, the
documents served only to a session of an allowed role; and an attacker's view: no session, another role, a
forged or missing CSRF token — each changes nothing. The same desk in Chromium:
tests/registro/test_consola_navegador.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import Bitacora, Historial, Solicitud
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, serve
from tests.support.consola import Identidad, cabecera, csrf, ingresar
from tests.support.registro import PEL2021, Registro, centro

RUTA = "/consola/registro"
COLA = RUTA + "/cola"
LOTE = COLA + "/lote"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 20


def expediente(folio: str) -> str:
    return f"{RUTA}/solicitudes/{folio}"


@pytest.fixture
async def mesa(
    databases: Databases, offline_kafka: KafkaSettings, identidad: Identidad
) -> AsyncIterator[Registro]:
    reloj = RelojManual(centro(2021, 1, 15, 10, 0))
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        consola=identidad.ajustes(),
    )
    app = create_app(settings, reloj=reloj, proceso=PEL2021)
    async with serve(app) as client:
        yield Registro(app, client, reloj, PEL2021)


async def nueva(registro: Registro, n: int, **kw: Any) -> str:
    r = await registro.client.post("/v1/solicitudes", json=solicitud(n, **kw))
    assert r.status_code == 201, r.text
    return str(r.json()["folio"])


async def documento(registro: Registro, folio: str, tipo: str, contenido: bytes, nombre: str) -> None:
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/documentos", data={"tipo": tipo}, files={"archivo": (nombre, contenido)}
    )
    assert r.status_code == 201, r.text


def folios_en(html: str) -> list[str]:
    """The folios of the queue's rows, in the order shown."""
    return re.findall(r'name="folio" value="([^"]+)"', html)


async def estado(registro: Registro, folio: str) -> str:
    return (await registro.solicitud(folio)).estado


async def decidir(
    registro: Registro, sesion: dict[str, str], folio: str, accion: str, **campos: Any
) -> httpx.Response:
    """A decision form of the expediente, posted with the page's own CSRF token."""
    pagina = await registro.client.get(expediente(folio), headers=cabecera(sesion))
    assert pagina.status_code == 200, pagina.text
    return await registro.client.post(
        f"{expediente(folio)}/{accion}", data={"csrf": csrf(pagina.text), **campos}, headers=cabecera(sesion)
    )


async def test_la_mesa_decide_diez_solicitudes_con_filtros_y_lote(mesa: Registro) -> None:
    registro = mesa
    # Twelve applications, in this order: entidad 09 or 14, some in Canada, some by mail.
    folios = [
        await nueva(
            registro,
            n,
            entidad="14" if n % 2 else "09",
            pais="CA" if n % 3 == 0 else "US",
            modalidad="postal" if n % 4 == 0 else "electronica",
        )
        for n in range(1, 13)
    ]
    # Two share one proof of address: both carry the alert.
    for folio in folios[:2]:
        await documento(registro, folio, "comprobante_domicilio", PDF, "recibo.pdf")
    await documento(registro, folios[0], "credencial_frente", JPEG, "frente.jpg")

    # Without a session: to the sign-in, remembering where it was going.
    r = await registro.client.get(COLA)
    assert r.status_code == 303
    assert r.headers["location"] == "/consola/registro/entrar?siguiente=%2Fconsola%2Fregistro%2Fcola"
    r = await registro.client.get(RUTA + "/")
    assert (r.status_code, r.headers["location"]) == (303, COLA)
    sesion, vuelta = await ingresar(registro.client, "registro", "operadora", COLA)
    assert vuelta.status_code == 200, vuelta.text
    assert f'content="0;url={COLA}"' in vuelta.text

    r = await registro.client.get(COLA, headers=cabecera(sesion))
    assert r.status_code == 200, r.text
    assert "Operadora del INE (local) · ine-operador" in r.text
    assert folios_en(r.text) == folios  # order of arrival
    assert "12 en esta página de 12 por dictaminar" in r.text
    # The filters narrow the queue (each and together) and say how many.
    casos: list[tuple[dict[str, str], list[int]]] = [
        ({"entidad": "14"}, [1, 3, 5, 7, 9, 11]),
        ({"pais": "CA"}, [3, 6, 9, 12]),
        ({"modalidad": "postal"}, [4, 8, 12]),
        ({"con_alertas": "1"}, [1, 2]),
        ({"entidad": "09", "pais": "CA"}, [6, 12]),
        ({"entidad": "99", "pais": "<script>"}, list(range(1, 13))),  # unknown values filter nothing
    ]
    for filtro, numeros in casos:
        r = await registro.client.get(COLA, params=filtro, headers=cabecera(sesion))
        assert r.status_code == 200, r.text
        assert folios_en(r.text) == [folios[n - 1] for n in numeros], filtro
        assert f"{len(numeros)} en esta página de {len(numeros)} por dictaminar" in r.text
    assert "<script>" not in r.text

    # The expediente: personal data (operators may see it), documents, alerts, the next in the queue.
    r = await registro.client.get(expediente(folios[0]), headers=cabecera(sesion))
    assert r.status_code == 200, r.text
    assert solicitud(1)["clave_elector"] in r.text
    assert "persona1@example.com" in r.text
    assert f'<img src="{expediente(folios[0])}/documentos/credencial_frente"' in r.text
    assert f'<a href="{expediente(folios[0])}/documentos/comprobante_domicilio"' in r.text
    assert "comprobante_reutilizado" in r.text
    assert f'href="{expediente(folios[1])}" accesskey="s"' in r.text
    assert 'accesskey="p"' in r.text

    # One by one, on the expediente's forms.
    r = await decidir(registro, sesion, folios[0], "dictamen", resultado="procedente")
    assert r.status_code == 200, r.text
    assert "Listo: la solicitud quedó procedente." in r.text
    assert f'<a href="{expediente(folios[1])}">' in r.text  # the next one, from the confirmation
    r = await decidir(
        registro,
        sesion,
        folios[1],
        "dictamen",
        resultado="improcedente",
        motivos=["firma", "comprobante_reutilizado"],
    )
    assert r.status_code == 200, r.text
    assert "quedó improcedente" in r.text
    # Improcedente without a motivo: refused, the problem next to the motivos, nothing changed.
    r = await decidir(registro, sesion, folios[2], "dictamen", resultado="improcedente")
    assert r.status_code == 422, r.text
    assert 'id="improcedente-motivos-error"' in r.text
    assert "necesita al menos un motivo" in r.text
    assert await estado(registro, folios[2]) == "recibida"
    r = await decidir(registro, sesion, folios[2], "dictamen", resultado="improcedente", motivos="requisitos")
    assert r.status_code == 200, r.text
    r = await decidir(registro, sesion, folios[3], "aclaracion", motivos=["comprobante_domicilio"])
    assert r.status_code == 200, r.text
    assert "se pidió la aclaración" in r.text
    # A baja without its motivo, then with one unknown: refused next to the field.
    for campos in ({}, {"motivo": "porque_si"}):
        r = await decidir(registro, sesion, folios[4], "baja", **campos)
        assert r.status_code == 422, r.text
        assert 'id="baja-motivo-error"' in r.text
        assert await estado(registro, folios[4]) == "recibida"
    r = await decidir(registro, sesion, folios[4], "baja", motivo="duplicada")
    assert r.status_code == 200, r.text
    # Already decided: the same use case refuses it (409), shown on the form; the state stays.
    r = await decidir(registro, sesion, folios[0], "aclaracion", motivos=["firma"])
    assert r.status_code == 200  # procedente still accepts an aclaración …
    r = await decidir(registro, sesion, folios[1], "baja", motivo="duplicada")
    assert r.status_code == 200
    pagina = await registro.client.get(expediente(folios[4]), headers=cabecera(sesion))
    r = await registro.client.post(
        f"{expediente(folios[4])}/dictamen",
        data={"csrf": csrf(pagina.text), "resultado": "procedente"},
        headers=cabecera(sesion),
    )
    assert r.status_code == 409, r.text
    assert "No se puede dictaminar una solicitud en estado baja" in r.text
    assert await estado(registro, folios[4]) == "baja"

    # The batch: all or nothing. One of them is not in the queue any more: none applies.
    r = await registro.client.get(COLA, headers=cabecera(sesion))
    assert folios_en(r.text) == folios[5:]
    token = csrf(r.text)
    r = await registro.client.post(
        LOTE, data={"csrf": token, "folio": [folios[5], folios[3]]}, headers=cabecera(sesion)
    )
    assert r.status_code == 422, r.text
    assert "No se aplicó ningún dictamen del lote" in r.text
    assert await estado(registro, folios[5]) == "recibida"
    r = await registro.client.post(LOTE, data={"csrf": token}, headers=cabecera(sesion))
    assert r.status_code == 422
    assert "Elija al menos una solicitud" in r.text
    r = await registro.client.post(
        LOTE, data={"csrf": token, "folio": folios[5:10], "entidad": "09"}, headers=cabecera(sesion)
    )
    assert r.status_code == 200, r.text
    assert "Listo: 5 dictaminada(s) procedente(s); 0 ya lo estaba(n)." in r.text
    assert folios_en(r.text) == [folios[11]]  # the queue again, with the filter it had (entidad 09)

    # The database: ten decided, each by the session's sub, as the API records it.
    esperados = ["en_aclaracion", "baja", "improcedente", "en_aclaracion", "baja", *["procedente"] * 5]
    assert [await estado(registro, f) for f in folios[:10]] == esperados
    assert [await estado(registro, f) for f in folios[10:]] == ["recibida", "recibida"]
    s = await registro.solicitud(folios[2])
    assert s.motivos == ["requisitos"]
    decisiones = await registro.rows(
        Historial, Historial.accion.in_(["dictamen", "aclaracion_solicitada", "baja"]), order=Historial.id
    )
    assert {h.folio for h in decisiones} == set(folios[:10])
    assert {(h.actor, h.rol) for h in decisiones} == {("operadora", "ine-operador")}
    [lote_de_uno] = [h for h in decisiones if h.folio == folios[7]]
    assert lote_de_uno.detalle == {"resultado": "procedente", "motivos": []}
    # The audit log knows who posted each decision (the console's session, not an anonymous caller).
    bitacora = await registro.rows(Bitacora, Bitacora.accion.like("POST /consola/registro/%"))
    assert len(bitacora) == 8  # the eight decisions that applied (the refused ones rolled back)
    assert {(b.actor, b.rol) for b in bitacora} == {("operadora", "ine-operador")}

    # The history on the expediente: who decided and when.
    r = await registro.client.get(expediente(folios[0]), headers=cabecera(sesion))
    historial = r.text.split('id="historial-titulo"', 1)[1]
    assert historial.count("operadora · ine-operador") == 2  # the dictamen and the aclaración
    assert "motivos: firma" in historial
    assert "15 de enero de 2021, 10:00:00" in historial
    # An unknown folio: a page that says so.
    r = await registro.client.get(expediente("VMRE-NO-EXISTE"), headers=cabecera(sesion))
    assert r.status_code == 404
    assert "No hay ninguna solicitud con ese folio" in r.text


async def test_documentos_solo_con_sesion_y_rol(mesa: Registro) -> None:
    registro = mesa
    folio = await nueva(registro, 1)
    await documento(registro, folio, "credencial_frente", JPEG, "frente.jpg")
    await documento(registro, folio, "comprobante_domicilio", PDF, "recibo.pdf")
    url = f"{expediente(folio)}/documentos/credencial_frente"
    sesion, _ = await ingresar(registro.client, "registro", "operadora")
    r = await registro.client.get(url, headers=cabecera(sesion))
    assert r.status_code == 200
    assert r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    r = await registro.client.get(
        f"{expediente(folio)}/documentos/comprobante_domicilio", headers=cabecera(sesion)
    )
    assert (r.status_code, r.headers["content-type"], r.content) == (200, "application/pdf", PDF)
    for otro in ("credencial_reverso", "..%2F..%2Fetc", "inventado"):
        r = await registro.client.get(f"{expediente(folio)}/documentos/{otro}", headers=cabecera(sesion))
        assert r.status_code == 404, otro
    # The read is in the audit log, with who read it.
    lecturas = await registro.rows(
        Bitacora, Bitacora.accion.like("GET /consola/registro/solicitudes/{folio}/doc%")
    )
    assert [(b.actor, b.estado) for b in lecturas] == [("operadora", "ok"), ("operadora", "ok")]

    # Without a session: to the sign-in, never the bytes.
    r = await registro.client.get(url)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/consola/registro/entrar?siguiente=")
    assert JPEG not in r.content
    # An auditor signs in, but the desk is not theirs: 403 on the document, the queue, the expediente, and
    # on each decision (even with their own session's token); nothing changes.
    auditora, _ = await ingresar(registro.client, "registro", "auditora")
    token_auditora = jwt.decode(auditora["vmre_consola"], options={"verify_signature": False})["csrf"]
    for ruta in (url, COLA, expediente(folio)):
        r = await registro.client.get(ruta, headers=cabecera(auditora))
        assert r.status_code == 403, ruta
        assert "auditor" in r.text
        assert JPEG not in r.content
    for ruta, datos in (
        (f"{expediente(folio)}/dictamen", {"resultado": "procedente"}),
        (f"{expediente(folio)}/aclaracion", {"motivos": "firma"}),
        (f"{expediente(folio)}/baja", {"motivo": "duplicada"}),
        (LOTE, {"folio": folio}),
    ):
        r = await registro.client.post(
            ruta, data={"csrf": token_auditora, **datos}, headers=cabecera(auditora)
        )
        assert r.status_code == 403, ruta
    assert await estado(registro, folio) == "recibida"
    assert await registro.count(Historial, Historial.accion == "dictamen") == 0


async def test_csrf_falso_o_ausente_no_cambia_nada(mesa: Registro) -> None:
    registro = mesa
    folio = await nueva(registro, 1)
    sesion, _ = await ingresar(registro.client, "registro", "operadora")
    # The operator's real token works on another session's form? No: each session has its own.
    otra, _ = await ingresar(registro.client, "registro", "administradora")
    ajeno = csrf((await registro.client.get(COLA, headers=cabecera(otra))).text)
    for ruta, datos in (
        (f"{expediente(folio)}/dictamen", {"resultado": "procedente"}),
        (f"{expediente(folio)}/dictamen", {"resultado": "improcedente", "motivos": "firma"}),
        (f"{expediente(folio)}/aclaracion", {"motivos": "firma"}),
        (f"{expediente(folio)}/baja", {"motivo": "duplicada"}),
        (LOTE, {"folio": folio}),
    ):
        for token in ({"csrf": "falso"}, {}, {"csrf": ajeno}, {"csrf": ""}):
            r = await registro.client.post(ruta, data={**token, **datos}, headers=cabecera(sesion))
            assert r.status_code == 403, (ruta, token, r.text[:300])
            assert "no se hizo nada" in r.text
    assert await estado(registro, folio) == "recibida"
    assert (
        await registro.count(Historial, Historial.folio == folio, Historial.accion != "solicitud_recibida")
        == 0
    )
    # The same forms with the session's own token do apply (the refusals above were the token's).
    r = await decidir(registro, sesion, folio, "dictamen", resultado="procedente")
    assert r.status_code == 200, r.text
    assert await estado(registro, folio) == "procedente"
    assert await registro.count(Solicitud, Solicitud.estado == "procedente") == 1
