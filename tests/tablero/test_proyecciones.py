"""tablero's projections from every service's events: each counted once, older versions ignored, drills left
out, results once published; the dashboard JSON with ETags; the live stream (SSE) pushes each change."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx

from shared.bus.envelope import Envelope
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.settings import KafkaSettings
from tests.factories import evento_recibida
from tests.support.comun import Databases, en_http
from tests.support.tablero import app_de_prueba, deliver

T = dt.datetime(2021, 5, 23, 16, 30, tzinfo=dt.UTC)  # 11:30 Centro (UTC-5 in 2021)


def actualizada(folio: str, estado: str, version: int, modalidad: str = "postal") -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.SOLICITUD_DICTAMINADA,
        source="registro",
        aggregate_id=folio,
        aggregate_version=version,
        data=eventos_registro.SolicitudActualizada(
            folio=folio, entidad="09", pais="US", modalidad=modalidad, estado=estado
        ),
    )


def paquete(numero: int, estado: str) -> Envelope:
    return Envelope.new(
        event_type=eventos_postal.paquete_event_type(estado),
        source="postal",
        aggregate_id=f"09-{numero:07d}",
        data=eventos_postal.PaqueteActualizado(
            entidad="09", numero=numero, pais="US", estado=estado, lote=1, ocurrido_at=T
        ),
    )


def voto_internet(numero: int, simulacro: bool = False) -> Envelope:
    return Envelope.new(
        event_type=eventos_electronico.VOTO_EMITIDO,
        source="electronico",
        aggregate_id=f"09-{numero:07d}",
        data=eventos_electronico.VotoEmitido(
            eleccion="E" * 14, entidad="09", numero=numero, simulacro=simulacro, emitido_at=T
        ),
    )


async def test_cifras_de_todos_los_servicios(tablero: Any, token: Any) -> None:
    app, client = tablero
    eventos = [
        evento_recibida("09", "postal", "A"),
        evento_recibida("09", "electronica", "B"),
        evento_recibida("16", "postal", "C"),
        actualizada("A", "procedente", 2),
        actualizada("A", "recibida", 1),  # older than what was applied: ignored
        Envelope.new(
            event_type=eventos_registro.LNERE_CERRADA,
            source="registro",
            aggregate_id="09",
            data=eventos_registro.LnereCerrada(
                entidad="09", total=2, postal=1, electronica=1, por_pais={"US": {"postal": 1}}, cerrada_at=T
            ),
        ),
        paquete(1, "integrado"),
        paquete(1, "enviado"),
        paquete(1, "entregado"),
        paquete(1, "entregado"),  # a second notice of the same state counts once
        Envelope.new(
            event_type=eventos_postal.VOTO_REGISTRADO,
            source="postal",
            aggregate_id="09-0000001",
            data=eventos_postal.VotoRegistrado(entidad="09", numero=1, recibido_at=T),
        ),
        voto_internet(2),
        voto_internet(3, simulacro=True),  # a drill never reaches the public figures
    ]
    for e in eventos:
        await deliver(app, e)
    r = await client.get("/v1/tablero", params={"entidad": "09"})
    assert r.status_code == 200
    c = r.json()
    assert c["nombre"] == "Ciudad de México"
    assert c["solicitudes"]["total"] == 2
    assert c["solicitudes"]["por_estado"] == {"procedente": 1, "recibida": 1}
    assert c["solicitudes"]["por_dia"] == [
        {"dia": "2020-12-31", "total": 2}
    ]  # 00:00 UTC is the 31st in Centro
    assert c["lnere"] == {
        "total": 2,
        "postal": 1,
        "electronica": 1,
        "presencial": 0,
        "por_sede": {},
        "por_entidad": {"09": 2},
    }
    assert c["paquetes"] == {"entregado": 1, "enviado": 1, "integrado": 1}
    assert c["votos"] == {
        "postal": 1,
        "electronica": 1,
        "total": 2,
        "participacion": "100.00",
        "electronica_por_hora": [{"hora": "2021-05-23T11:00:00-05:00", "votos": 1}],
    }
    todas = (await client.get("/v1/tablero")).json()
    assert todas["solicitudes"]["por_entidad"] == {"09": 2, "16": 1}
    assert todas["resultados"] == []

    # ETags: the same version answers 304; a new event changes it.
    etag = r.headers["etag"]
    assert (
        await client.get("/v1/tablero", params={"entidad": "09"}, headers={"If-None-Match": etag})
    ).status_code == 304
    documento = {
        "acta": {"participacion": "72.84", "votos": {"total": 2}, "distribucion": {"PAN": 2}},
        "firma": "f",
    }
    await deliver(
        app,
        Envelope.new(
            event_type=eventos_computo.ACTA_PUBLICADA,
            source="computo",
            aggregate_id="09-diputacion_migrante",
            data=eventos_computo.ActaPublicada(
                entidad="09", cargo="diputacion_migrante", documento=documento
            ),
        ),
    )
    r2 = await client.get("/v1/tablero", params={"entidad": "09"}, headers={"If-None-Match": etag})
    assert r2.status_code == 200
    assert r2.json()["resultados"][0]["distribucion"] == {"PAN": 2}
    actas = await client.get("/v1/entidades/09/actas", headers=token("opl", "09"))
    assert actas.json() == [{"cargo": "diputacion_migrante", **documento}]
    assert (await client.get("/v1/tablero", params={"entidad": "33"})).status_code == 422


async def test_el_flujo_en_vivo_empuja_cada_cambio(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    app = await app_de_prueba(databases, offline_kafka)
    async with en_http(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as client:
        await deliver(app, evento_recibida("09", "postal", "A"))

        async def leer(n: int) -> list[dict[str, Any]]:
            vistos: list[dict[str, Any]] = []
            async with client.stream("GET", "/v1/tablero/stream", params={"entidad": "09"}) as r:
                assert r.headers["content-type"].startswith("text/event-stream")
                async for linea in r.aiter_lines():
                    if linea.startswith("data: "):
                        vistos.append(json.loads(linea[6:]))
                        if len(vistos) == 1:
                            await deliver(app, evento_recibida("09", "postal", "B"))
                        if len(vistos) == n:
                            break
            return vistos

        vistos = await asyncio.wait_for(leer(2), timeout=20)
    assert [v["solicitudes"]["total"] for v in vistos] == [1, 2]


async def test_api_de_los_opl_y_datos_abiertos(tablero: Any, token: Any) -> None:
    app, client = tablero
    for i in range(7):
        await deliver(app, evento_recibida("09", "postal" if i % 3 else "electronica", f"A{i}"))
    await deliver(app, evento_recibida("16", "postal", "B0"))
    opl = token("opl", "09")
    r = await client.get("/v1/entidades/09/cifras", headers=opl)
    assert r.status_code == 200
    assert r.json()["solicitudes"]["total"] == 7
    assert (
        await client.get("/v1/entidades/09/cifras", headers=opl | {"If-None-Match": r.headers["etag"]})
    ).status_code == 304
    assert (await client.get("/v1/entidades/16/cifras", headers=opl)).status_code == 403
    assert (await client.get("/v1/entidades/16/cifras")).status_code == 401

    # A series, paged; the same as CSV.
    r = await client.get(
        "/v1/entidades/09/series/solicitudes", params={"dimension": "modalidad", "por_pagina": 1}, headers=opl
    )
    assert r.json()["elementos"] == [{"valor": "electronica", "total": 3}]
    assert r.json()["siguiente"] == 2
    r = await client.get(
        "/v1/entidades/09/series/solicitudes",
        params={"dimension": "modalidad", "pagina": 2, "por_pagina": 1},
        headers=opl,
    )
    assert r.json()["elementos"] == [{"valor": "postal", "total": 4}]
    assert r.json()["siguiente"] is None
    r = await client.get("/v1/entidades/09/series/solicitudes", params={"formato": "csv"}, headers=opl)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text == "modalidad,total\nelectronica,3\npostal,4\n"
    assert (await client.get("/v1/entidades/09/series/nada", headers=opl)).status_code == 404

    # Open data: small cells (< 5) suppressed, never a single person identifiable.
    filas = (await client.get("/v1/datos-abiertos/agregados.json")).json()
    modalidad_09 = {
        f["valor"]: f["total"] for f in filas if f["entidad"] == "09" and f["dimension"] == "modalidad"
    }
    assert modalidad_09 == {"electronica": None, "postal": None}
    assert {f["total"] for f in filas if f["entidad"] == "16"} == {None}
    assert any(f["total"] == 7 for f in filas if f["entidad"] == "09" and f["dimension"] == "estado")
    from services.tablero.schemas import DatoAbierto

    assert all(DatoAbierto.model_validate(f).model_dump() == f for f in filas)  # what OpenAPI documents
    csv = (await client.get("/v1/datos-abiertos/agregados.csv")).text
    assert csv.startswith("entidad,serie,dimension,valor,total\n")
    assert "09,solicitudes,estado,recibida,7" in csv
    esquema = (await client.get("/v1/datos-abiertos/esquema.json")).json()
    assert esquema["items"]["properties"]["total"]["minimum"] == 5


async def test_webhook_empuja_los_cambios_de_su_entidad(tablero: Any, token: Any, receptor: Any) -> None:
    from services.tablero import repository
    from services.tablero.models import Entrega, Suscripcion
    from shared.reloj import RelojManual
    from shared.webhooks import Despachador

    app, client = tablero
    r = await client.post("/v1/webhooks", json={"url": receptor.url}, headers=token("opl", "09"))
    assert r.status_code == 201
    receptor.secreto = r.json()["secreto"]
    await client.post("/v1/webhooks", json={"url": receptor.url + "/otra"}, headers=token("opl", "16"))
    for folio in ("A", "B", "C"):  # three events, one push
        await deliver(app, evento_recibida("09", "postal", folio))
    maker = app.state.runtime.maker
    async with maker() as s, s.begin():
        assert await repository.avisar_cambios(s, app.state.proceso, T) == 1
    async with maker() as s, s.begin():
        assert await repository.avisar_cambios(s, app.state.proceso, T) == 0  # nothing new: no push
    reloj = RelojManual(dt.datetime.now(dt.UTC))
    despachador = Despachador(maker, Entrega, Suscripcion, reloj=reloj)
    try:
        assert await despachador.entregar_pendientes() == 1  # the OPL's endpoint answers 500 the first time
        reloj.avanzar(dt.timedelta(hours=2))
        assert await despachador.entregar_pendientes() == 1  # retried
    finally:
        await despachador.aclose()
    assert [ok for _, _, ok in receptor.recibidas] == [True, True]
    cuerpo = json.loads(receptor.recibidas[-1][1])
    assert cuerpo["evento"] == "tablero.cifras.actualizadas"
    assert cuerpo["datos"]["solicitudes"]["total"] == 3
    # The payload is the one OpenAPI documents (its `webhooks`), and its `datos` the same as GET …/cifras.
    from services.tablero.schemas import AvisoCifras

    AvisoCifras.model_validate_json(receptor.recibidas[-1][1])
    api = (await client.get("/v1/entidades/09/cifras", headers=token("opl", "09"))).json()
    assert cuerpo["datos"] == api
    log = (await client.get("/v1/webhooks/entregas", headers=token("opl", "09"))).json()
    assert [(e["estado"], e["intentos"]) for e in log] == [("entregada", 2)]


async def test_el_contrato_de_los_opl_esta_en_openapi(tablero: Any, token: Any) -> None:
    """What an OPL integrator codes against: every field of the figures, the series and the webhook payload,
    with examples, in /openapi.json; and the answer follows it."""
    from services.tablero.schemas import Cifras, Serie

    _, client = tablero
    doc = (await client.get("/openapi.json")).json()
    esquemas = doc["components"]["schemas"]

    def esquema_200(ruta: str) -> dict[str, Any]:
        contenido = doc["paths"][ruta]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        return dict(esquemas[contenido["$ref"].rsplit("/", 1)[1]])

    cifras = esquema_200("/v1/entidades/{entidad}/cifras")
    assert (
        set(cifras["properties"])
        == set(Cifras.model_fields)
        >= {"solicitudes", "lnere", "votos", "resultados"}
    )
    assert esquema_200("/v1/tablero") == cifras
    votos = esquemas[cifras["properties"]["votos"]["$ref"].rsplit("/", 1)[1]]
    assert votos["properties"]["participacion"]["examples"] == ["59.46"]
    serie = esquema_200("/v1/entidades/{entidad}/series/{serie}")
    assert set(serie["properties"]) == set(Serie.model_fields)
    actas = doc["paths"]["/v1/entidades/{entidad}/actas"]["get"]["responses"]["200"]["content"]
    assert actas["application/json"]["schema"]["items"]["$ref"].endswith("/ActaFirmada")
    assert "participacion" in esquemas["ActaDeComputo"]["properties"]
    aviso = doc["webhooks"]["tablero.cifras.actualizadas"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert aviso["schema"]["$ref"].endswith("/AvisoCifras")
    assert esquemas["AvisoCifras"]["properties"]["datos"]["$ref"].endswith("/Cifras")
    # The answers follow their schema.
    Cifras.model_validate_json(
        (await client.get("/v1/entidades/09/cifras", headers=token("opl", "09"))).content
    )
    r = await client.get("/v1/entidades/09/series/solicitudes", headers=token("opl", "09"))
    assert Serie.model_validate_json(r.content).serie == "solicitudes"


async def test_la_lnere_cuenta_a_quienes_votan_en_persona_por_sede(tablero: Any) -> None:
    """2024: the closed list of each entidad carries its in-person voters per consular site (#27); the
    national figures add the entidades' sites together."""
    app, client = tablero
    for entidad, por_sede in (("09", {"los-angeles": 2, "madrid": 1}), ("16", {"los-angeles": 1})):
        presencial = sum(por_sede.values())
        await deliver(
            app,
            Envelope.new(
                event_type=eventos_registro.LNERE_CERRADA,
                source="registro",
                aggregate_id=entidad,
                data=eventos_registro.LnereCerrada(
                    entidad=entidad,
                    total=presencial + 1,
                    postal=1,
                    electronica=0,
                    presencial=presencial,
                    por_pais={"US": {"postal": 1, "presencial": presencial}},
                    por_sede=por_sede,
                    cerrada_at=T,
                ),
            ),
        )
    lnere = (await client.get("/v1/tablero")).json()["lnere"]
    assert (lnere["total"], lnere["presencial"]) == (6, 4)
    assert lnere["por_sede"] == {"los-angeles": 3, "madrid": 1}


async def test_las_boletas_adicionales_de_cada_sede_se_ven_en_vivo(tablero: Any) -> None:
    """Election day (#27): each extra ballot a site hands out shows on the dashboard, per site; a repeated
    event counts once."""
    app, client = tablero
    entregas = [("los-angeles", "09"), ("los-angeles", "16"), ("madrid", "09")]
    eventos = [
        Envelope.new(
            event_type=eventos_registro.BOLETA_ADICIONAL_ENTREGADA,
            source="registro",
            aggregate_id=sede,
            data=eventos_registro.BoletaAdicionalEntregada(
                sede=sede, entidad=entidad, entregadas=n, tope=1500, entregada_at=T
            ),
        )
        for n, (sede, entidad) in enumerate(entregas, start=1)
    ]
    for evento in [*eventos, eventos[0]]:
        await deliver(app, evento)
    adicionales = (await client.get("/v1/tablero")).json()["boletas_adicionales"]
    assert adicionales == {"total": 3, "por_sede": {"los-angeles": 2, "madrid": 1}}


async def test_la_participacion_de_cada_sede_cuenta_personas_una_vez(tablero: Any) -> None:
    """Election day (#27): a person who votes in a site's module counts once in its turnout however many
    ballots (offices) they cast; internet ballots and drills do not count there."""
    app, client = tablero

    def voto(eleccion: str, entidad: str, numero: int, sede: str | None, simulacro: bool = False) -> Envelope:
        return Envelope.new(
            event_type=eventos_electronico.VOTO_EMITIDO,
            source="electronico",
            aggregate_id=f"{entidad}-{numero:07d}",
            data=eventos_electronico.VotoEmitido(
                eleccion=eleccion,
                entidad=entidad,
                numero=numero,
                simulacro=simulacro,
                emitido_at=T,
                sede=sede,
            ),
        )

    for evento in (
        voto("presidencia01xxxx", "01", 1, "los-angeles"),
        voto("senaduria01xxxxxx", "01", 1, "los-angeles"),  # the same person, second office
        voto("presidencia09xxxx", "09", 1, "madrid"),
        voto("presidencia01xxxx", "01", 2, None),  # by internet
        voto("simulacro01xxxxxx", "01", 3, "los-angeles", simulacro=True),
        voto("presidencia01xxxx", "01", -2_600_001, "los-angeles"),  # an extra ballot: not on the LNERE
    ):
        await deliver(app, evento)
    cifras = (await client.get("/v1/tablero")).json()
    # The site's turnout is of its list; extra ballots are counted as handed (boletas_adicionales).
    assert cifras["votos_sede"] == {"total": 2, "por_sede": {"los-angeles": 1, "madrid": 1}}
    assert cifras["votos"]["electronica"] == 5  # ballots: every office, in person or not
