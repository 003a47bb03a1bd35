from __future__ import annotations

from services.computo.models import Acta, Captura, Mesa
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos_electronico
from tests.support.computo import Computo, acta, mesa_asignada


def abierta(entidad: str, simulacro: bool = False) -> Envelope:
    return Envelope.new(
        event_type=eventos_electronico.ELECCION_ABIERTA,
        source="electronico",
        aggregate_id=f"E{entidad}{'s' if simulacro else ''}xxxxxxxxxxx",
        data=eventos_electronico.EleccionAbierta(
            eleccion=f"E{entidad}xxxxxxxxxxxx",
            entidad=entidad,
            cargo="diputacion_migrante",
            simulacro=simulacro,
            huella="h",
            clave_publica="k",
            acta={},
        ),
    )


async def test_mesas_de_la_asignacion_postal_y_la_electronica(computo: Computo) -> None:
    c = computo
    assert await c.entregar(mesa_asignada("09", 1, 1500), mesa_asignada("09", 2, 56), abierta("09")) == 3
    assert await c.entregar(abierta("16", simulacro=True)) == 1  # a drill installs no mesa
    r = await c.client.get("/v1/mesas", params={"entidad": "09"}, headers=c.token("ine-operador"))
    assert [(m["numero"], m["tipo"], m["sobres"]) for m in r.json()] == [
        (0, "electronica", 0),
        (1, "postal", 1500),
        (2, "postal", 56),
    ]
    assert await c.count(Mesa) == 3
    # An OPL sees its own entidad only.
    assert (await c.client.get("/v1/mesas", headers=c.token("opl", entidad="16"))).json() == []
    otra = await c.client.get("/v1/mesas", params={"entidad": "09"}, headers=c.token("opl", entidad="16"))
    assert otra.status_code == 403


async def test_instalacion_con_funcionarios_y_representantes(computo: Computo) -> None:
    c = computo
    await c.entregar(mesa_asignada("09", 1, 10))
    op = c.token("ine-operador")
    funcionarios = {
        "presidente": "Laura Méndez",
        "secretario": "Jorge Ruiz",
        "escrutadores": ["Ana Soto", "Luis Vega"],
        "suplentes": ["Rosa Díaz"],
    }
    malo = await c.client.post(
        "/v1/mesas/09/1/instalacion",
        json={"funcionarios": funcionarios, "representantes": {"XYZ": ["Pedro"]}},
        headers=op,
    )
    assert malo.status_code == 422
    assert "XYZ" in malo.json()["detail"]
    r = await c.client.post(
        "/v1/mesas/09/1/instalacion",
        json={"funcionarios": funcionarios, "representantes": {"PAN": ["Pedro Gil", "Eva Ríos"]}},
        headers=op,
    )
    assert r.status_code == 200
    assert r.json()["instalada_at"]
    assert r.json()["representantes"]["PAN"][1] == "Eva Ríos"


async def test_acta_que_no_cuadra_se_rechaza_sin_guardar_nada(computo: Computo) -> None:
    c = computo
    await c.entregar(mesa_asignada("09", 1, 210))
    mala = acta(total_por={"PAN": 120, "MORENA": 80, "nulos": 10}) | {"total": 205, "sobres_recibidos": 210}
    r = await c.client.post("/v1/mesas/09/1/actas", json=mala, headers=c.token("ine-operador"))
    assert r.status_code == 422
    assert (
        "La suma de los votos por opción (210) no coincide con el total de votos capturado (205)"
        in (r.json()["detail"])
    )
    assert r.json()["errors"][0]["campo"] == "total"
    # Two parties not in one coalition: that mark is a nulo, not an option.
    raro = acta(total_por={"PAN": 1}) | {"votos": acta()["votos"] | {"PAN+MORENA": 1}}
    r = await c.client.post("/v1/mesas/09/1/actas", json=raro, headers=c.token("ine-operador"))
    assert r.status_code == 422
    assert "PAN+MORENA" in r.json()["errors"][0]["mensaje"]
    assert await c.count(Acta) == 0
    assert await c.count(Captura) == 0


async def test_doble_captura_revision_y_correccion_con_historial(computo: Computo) -> None:
    c = computo
    await c.entregar(mesa_asignada("09", 1, 210), mesa_asignada("09", 2, 100))
    uno, dos = c.token("ine-operador", sub="operador-1"), c.token("ine-operador", sub="operador-2")
    buena = acta(total_por={"PAN": 120, "MORENA": 80, "PAN+PRI": 3, "nulos": 7}, sobres_vacios=2)
    r = await c.client.post("/v1/mesas/09/1/actas", json=buena, headers=uno)
    assert r.status_code == 200
    assert r.json()["estado"] == "capturada"
    assert (await c.client.post("/v1/mesas/09/1/actas", json=buena, headers=uno)).status_code == 409
    r = await c.client.post("/v1/mesas/09/1/actas", json=buena, headers=dos)
    assert r.json()["estado"] == "validada"
    assert r.json()["datos"]["votos"]["PAN"] == 120
    assert r.json()["capturas"] == 2

    # Mesa 2: the captures disagree → review, with the differences named.
    a = acta(total_por={"PAN": 60, "MORENA": 40})
    b = acta(total_por={"PAN": 61, "MORENA": 39})
    await c.client.post("/v1/mesas/09/2/actas", json=a, headers=uno)
    r = await c.client.post("/v1/mesas/09/2/actas", json=b, headers=dos)
    assert r.json()["estado"] == "revision"
    assert r.json()["diferencias"] == ["votos.MORENA: 40 ≠ 39", "votos.PAN: 60 ≠ 61"]
    assert r.json()["datos"] is None
    advertencia = r.json()["advertencias"]
    assert advertencia == []
    # Only an ine-admin corrects, with a reason; the history keeps who, when, why, before and after.
    cargo = a["cargo"]
    corr = a | {"motivo": "Se recontaron las boletas de la mesa con los representantes presentes."}
    assert (await c.client.put(f"/v1/mesas/09/2/actas/{cargo}", json=corr, headers=uno)).status_code == 403
    admin = c.token("ine-admin", sub="admin-cdmx")
    r = await c.client.put(f"/v1/mesas/09/2/actas/{cargo}", json=corr, headers=admin)
    assert r.status_code == 200
    assert r.json()["estado"] == "corregida"
    assert r.json()["version"] == 2
    (h,) = r.json()["historial"]
    assert h["quien"] == "admin-cdmx"
    assert h["motivo"].startswith("Se recontaron")
    assert h["antes"] is None
    assert h["despues"]["votos"]["PAN"] == 60
    # A later capture cannot overwrite a corrected acta.
    assert (
        await c.client.post("/v1/mesas/09/2/actas", json=b, headers=c.token("ine-operador"))
    ).status_code == 409
    # An OPL reads its own entidad's actas only.
    assert (
        await c.client.get(f"/v1/mesas/09/2/actas/{cargo}", headers=c.token("opl", entidad="09"))
    ).status_code == 200
    assert (
        await c.client.get(f"/v1/mesas/09/2/actas/{cargo}", headers=c.token("opl", entidad="16"))
    ).status_code == 403


async def test_sobres_distintos_de_las_marcas_se_senalan(computo: Computo) -> None:
    c = computo
    await c.entregar(mesa_asignada("09", 1, 12))
    a = acta(total_por={"PAN": 5, "MORENA": 5})
    r = await c.client.post("/v1/mesas/09/1/actas", json=a, headers=c.token("ine-operador"))
    assert r.status_code == 200
    assert any("12 marcas de «votó»" in x for x in r.json()["advertencias"])
    electronica = await c.client.post("/v1/mesas/09/0/actas", json=a, headers=c.token("ine-operador"))
    assert electronica.status_code == 404  # no electronic MEC until electronico opens its election
