"""Input that schemathesis (tests/test_schemathesis.py) showed breaks the carriers' webhook, pinned here."""

from __future__ import annotations

from tests.support.postal import Postal, firmar


async def test_caracter_nulo_en_el_archivo_o_en_json_es_422_no_500(postal: Postal) -> None:
    """PostgreSQL cannot store U+0000: a guía with it was a 500 there (and a lookup on SQLite)."""
    ruta = "/v1/transportistas/mensajeria/eventos"
    csv = b"evento_id,guia,estado,ocurrido_at\nevt-1,MX1\x00234,entregado,2021-03-01T10:00:00Z\n"
    r = await postal.client.post(ruta, content=csv, headers={**firmar(csv), "content-type": "text/csv"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"campo": "cuerpo", "mensaje": "No se admite el carácter nulo (U+0000)."}]
    r = await postal.webhook(
        {
            "evento_id": "evt-1",
            "guia": "MX1\x00234",
            "estado": "entregado",
            "ocurrido_at": "2021-03-01T10:00Z",
        }
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "guia"
