"""Input that schemathesis (tests/test_schemathesis.py) found to break the services, pinned here: every case
answers 422 problem+json naming the field, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from services.registro.models import Solicitud
from shared import problems
from tests import factories
from tests.support.registro import Registro


async def test_texto_con_caracter_nulo_es_422_que_nombra_el_campo(registro: Registro) -> None:
    """PostgreSQL cannot store U+0000: it was a 500 there (and stored on SQLite)."""
    datos = factories.solicitud(7) | {"nombre": "Ana\x00"}
    datos["domicilio"] = datos["domicilio"] | {"ciudad": "Los\x00Angeles"}
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 422
    assert r.headers["content-type"] == problems.PROBLEM_JSON
    assert {e["campo"] for e in r.json()["errors"]} == {"nombre", "domicilio.ciudad"}
    assert await registro.count(Solicitud) == 0
    r = await registro.client.get("/v1/estadisticas", params={"entidad": "0\x009"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "entidad"


async def test_cuerpo_que_no_es_utf8_y_cursor_enorme_son_422(
    registro: Registro, token: Callable[..., dict[str, str]]
) -> None:
    r = await registro.client.post(
        "/v1/solicitudes", content=b'{"nombre": "\xff"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "cuerpo"
    r = await registro.client.get("/v1/lnere/09", params={"despues": 2**70}, headers=token("ine-admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "despues"


async def test_openapi_documenta_los_errores_como_problem_json(registro: Registro) -> None:
    spec = (await registro.client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for ruta, operaciones in spec["paths"].items():
        for metodo, op in operaciones.items():
            for status, respuesta in op["responses"].items():
                if status[0] in "45":
                    assert list(respuesta["content"]) == [problems.PROBLEM_JSON], (metodo, ruta, status)
            if op.get("security") == [{"HTTPBearer": []}]:
                assert {"401", "403"} <= set(op["responses"]), (metodo, ruta)
