from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import Outbox, Solicitud
from shared.events.registro import SOLICITUD_RECIBIDA
from tests.conftest import Databases, serve

VALIDA = {"clave_elector": "GOMZAN85031209M700", "entidad": "09", "modalidad": "electronica"}


@pytest.fixture
async def registro(databases: Databases, offline_kafka):  # type: ignore[no-untyped-def]
    # No relay: these tests look at what is staged in the outbox, in the same transaction.
    url = await databases.new("registro")
    app = create_app(Settings(database_url=url, kafka=offline_kafka, relay_enabled=False))
    async with serve(app) as client:
        yield app, client


async def count(app, model) -> int:  # type: ignore[no-untyped-def]
    async with app.state.runtime.maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_solicitud_valida_se_guarda_y_deja_un_evento_minimo(registro) -> None:  # type: ignore[no-untyped-def]
    app, client = registro
    r = await client.post("/v1/solicitudes", json=VALIDA)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["estado"] == "recibida"
    assert body["folio"].startswith("VMRE-") and len(body["folio"]) == 28

    async with app.state.runtime.maker() as session:
        rows = (await session.execute(select(Outbox))).scalars().all()
    assert len(rows) == 1
    envelope = json.loads(rows[0].payload)
    assert envelope["event_type"] == SOLICITUD_RECIBIDA
    assert envelope["aggregate_id"] == body["folio"]
    assert envelope["correlation_id"] == r.headers["x-correlation-id"]
    assert set(envelope["data"]) == {"folio", "entidad", "modalidad", "recibida_at"}
    assert VALIDA["clave_elector"] not in rows[0].payload  # personal data stays in registro

    r = await client.get(f"/v1/solicitudes/{body['folio']}")
    assert r.status_code == 200
    assert r.json() == {"folio": body["folio"], "estado": "recibida", "motivos": []}


async def test_correlation_id_del_cliente_llega_al_evento(registro) -> None:  # type: ignore[no-untyped-def]
    app, client = registro
    r = await client.post("/v1/solicitudes", json=VALIDA, headers={"X-Correlation-ID": "mesa-7-abc"})
    assert r.status_code == 201
    assert r.headers["x-correlation-id"] == "mesa-7-abc"
    async with app.state.runtime.maker() as session:
        row = (await session.execute(select(Outbox))).scalar_one()
    assert json.loads(row.payload)["correlation_id"] == "mesa-7-abc"


@pytest.mark.parametrize(
    ("cambio", "campo"),
    [
        ({"clave_elector": "GOMZAN8503120"}, "clave_elector"),
        ({"clave_elector": "gomzan85031209m700"}, "clave_elector"),
        ({"entidad": "33"}, "entidad"),
        ({"entidad": "9"}, "entidad"),
        ({"modalidad": "presencial"}, "modalidad"),
    ],
)
async def test_dato_invalido_422_nombra_el_campo_y_no_guarda_nada(registro, cambio, campo) -> None:  # type: ignore[no-untyped-def]
    app, client = registro
    r = await client.post("/v1/solicitudes", json={**VALIDA, **cambio})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "/problemas/validacion"
    assert [e["campo"] for e in problem["errors"]] == [campo]
    assert all(e["mensaje"] for e in problem["errors"])
    assert await count(app, Solicitud) == 0
    assert await count(app, Outbox) == 0


async def test_campos_faltantes_y_json_roto(registro) -> None:  # type: ignore[no-untyped-def]
    _, client = registro
    r = await client.post("/v1/solicitudes", json={})
    assert r.status_code == 422
    assert {e["campo"] for e in r.json()["errors"]} == {"clave_elector", "entidad", "modalidad"}
    assert {e["mensaje"] for e in r.json()["errors"]} == {"Campo obligatorio."}
    r = await client.post(
        "/v1/solicitudes", content=b"{no es json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_duplicada_409_con_el_folio_existente(registro) -> None:  # type: ignore[no-untyped-def]
    app, client = registro
    primera = (await client.post("/v1/solicitudes", json=VALIDA)).json()
    r = await client.post("/v1/solicitudes", json={**VALIDA, "entidad": "14", "modalidad": "postal"})
    assert r.status_code == 409
    assert r.json()["folio"] == primera["folio"]
    assert r.json()["estado"] == "recibida"
    assert r.json()["type"] == "/problemas/solicitud-duplicada"
    assert await count(app, Solicitud) == 1
    assert await count(app, Outbox) == 1


async def test_cincuenta_duplicadas_concurrentes_dejan_un_registro(registro) -> None:  # type: ignore[no-untyped-def]
    app, client = registro
    respuestas = await asyncio.gather(*(client.post("/v1/solicitudes", json=VALIDA) for _ in range(50)))
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos.count(201) == 1, codigos
    assert codigos.count(409) == 49, codigos
    folio = next(r.json()["folio"] for r in respuestas if r.status_code == 201)
    assert {r.json()["folio"] for r in respuestas if r.status_code == 409} == {folio}
    assert await count(app, Solicitud) == 1
    assert await count(app, Outbox) == 1


async def test_folio_inexistente_404_problem(registro) -> None:  # type: ignore[no-untyped-def]
    _, client = registro
    r = await client.get("/v1/solicitudes/VMRE-XXXXX-XXXXX-XXXXX-XXXXX")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404


async def test_ruta_inexistente_y_metodo_no_permitido_son_problem_json(registro) -> None:  # type: ignore[no-untyped-def]
    _, client = registro
    r = await client.get("/v1/nada")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await client.delete("/v1/solicitudes")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
