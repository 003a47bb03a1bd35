from __future__ import annotations

import pytest

from shared.bus.envelope import Envelope
from tests.factories import evento_recibida
from tests.support.tablero import deliver


def recibida(folio: str, entidad: str, modalidad: str) -> Envelope:
    return evento_recibida(entidad, modalidad, folio)


async def test_resumen_cuenta_cada_evento_una_vez(tablero) -> None:  # type: ignore[no-untyped-def]
    app, client = tablero
    r = await client.get("/v1/resumen")
    assert r.json() == {"solicitudes": {"total": 0, "por_entidad": {}, "por_modalidad": {}}}
    eventos = [
        recibida("A", "09", "postal"),
        recibida("B", "09", "electronica"),
        recibida("C", "14", "postal"),
    ]
    for e in eventos:
        assert await deliver(app, e) is True
    assert await deliver(app, eventos[0]) is False  # redelivered: no effect
    r = await client.get("/v1/resumen")
    assert r.json() == {
        "solicitudes": {
            "total": 3,
            "por_entidad": {"09": 2, "14": 1},
            "por_modalidad": {"electronica": 1, "postal": 2},
        }
    }


async def test_opl_solo_ve_su_entidad(tablero, token) -> None:  # type: ignore[no-untyped-def]
    app, client = tablero
    await deliver(app, recibida("A", "09", "postal"))
    await deliver(app, recibida("B", "14", "postal"))

    r = await client.get("/v1/entidades/09/resumen", headers=token("opl", "09"))
    assert r.status_code == 200
    assert r.json() == {"entidad": "09", "solicitudes": {"total": 1, "por_modalidad": {"postal": 1}}}

    r = await client.get("/v1/entidades/14/resumen", headers=token("opl", "09"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "09" in r.json()["detail"]

    for rol in ("ine-admin", "ine-operador", "auditor"):
        r = await client.get("/v1/entidades/14/resumen", headers=token(rol))
        assert r.status_code == 200, rol
        assert r.json()["solicitudes"]["total"] == 1

    r = await client.get("/v1/entidades/14/resumen", headers=token("custodio"))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("headers", "detalle"),
    [
        ({}, "Falta el encabezado"),
        ({"Authorization": "Bearer no.es.jwt"}, "Token inválido"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Falta el encabezado"),
    ],
)
async def test_sin_token_valido_401(tablero, headers, detalle) -> None:  # type: ignore[no-untyped-def]
    _, client = tablero
    r = await client.get("/v1/entidades/09/resumen", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert detalle in r.json()["detail"]


async def test_entidad_invalida_422(tablero, token) -> None:  # type: ignore[no-untyped-def]
    _, client = tablero
    r = await client.get("/v1/entidades/99/resumen", headers=token("ine-admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "entidad"


async def test_resumen_publico_se_calcula_una_vez_por_version(tablero) -> None:  # type: ignore[no-untyped-def]
    """A public route: each request used to add up every counter (48 ms of CPU under load, `make bench`).
    Now a burst of requests reads the counters once per version of the read model, and a client that has
    the version gets 304."""
    import asyncio

    from sqlalchemy import event

    app, client = tablero
    await deliver(app, recibida("A", "09", "postal"))
    lecturas: list[str] = []

    def contar(*args: object) -> None:  # conn, cursor, statement, …
        if "FROM conteos" in str(args[2]):
            lecturas.append(str(args[2]))

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", contar)
    try:
        respuestas = await asyncio.gather(*(client.get("/v1/resumen") for _ in range(30)))
        assert {r.status_code for r in respuestas} == {200}
        assert len({r.headers["etag"] for r in respuestas}) == 1
        assert all(r.json()["solicitudes"]["total"] == 1 for r in respuestas)
        assert len(lecturas) == 1
        r = await client.get("/v1/resumen", headers={"If-None-Match": respuestas[0].headers["etag"]})
        assert r.status_code == 304
        assert len(lecturas) == 1
        await deliver(app, recibida("B", "14", "postal"))  # a new version: counted again
        r = await client.get("/v1/resumen", headers={"If-None-Match": respuestas[0].headers["etag"]})
        assert r.status_code == 200
        assert r.json()["solicitudes"]["total"] == 2
        assert len(lecturas) == 2
    finally:
        event.remove(engine, "before_cursor_execute", contar)
