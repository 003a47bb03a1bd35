"""The closing report from the read model: votes and results copied from the actas, drills and their
participation, late envelopes destroyed, the timeline, incidents and recounts; who may read which report;
the same report after a replay from zero."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from services.tablero import repository
from shared.bus.envelope import Envelope
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from tests.factories import evento_recibida
from tests.support.tablero import deliver

Token = Callable[..., dict[str, str]]
T = dt.datetime(2021, 5, 23, 16, 30, tzinfo=dt.UTC)  # 11:30 Centro
DRILL = "Simulacro0000A1"
REAL = "Eleccion000009A"


def _evento(event_type: str, aggregate_id: str, data: Any) -> Envelope:
    return Envelope.new(event_type=event_type, source="prueba", aggregate_id=aggregate_id, data=data)


def _acta() -> dict[str, Any]:
    """A published acta de cómputo of 09 (its shape: shared/actas.py), with an incident and a recount."""
    return {
        "acta": {
            "documento": "Acta de cómputo de entidad",
            "proceso": "pel2021",
            "entidad": "09",
            "entidad_nombre": "Ciudad de México",
            "cargo": "diputacion_migrante",
            "lnere": {"postal": 2, "electronica": 2, "total": 4},
            "votos": {"postal": 1, "electronica": 2, "total": 3},
            "participacion": "75.00",
            "resultados": {
                "partidos": {"PAN": 2, "MORENA": 1},
                "combinaciones": {},
                "no_registrados": 0,
                "nulos": 0,
            },
            "por_modalidad": {"postal": {"PAN": 1}, "electronica": {"PAN": 1, "MORENA": 1}},
            "distribucion": {"PAN": 2, "MORENA": 1},
            "candidaturas": {"PAN": 2, "MORENA": 1},
            "actas": [
                {"mesa": 1, "tipo": "postal", "votos": 1, "estado": "validada", "incidentes": ["Sobre roto"]},
                {"mesa": 0, "tipo": "electronica", "votos": 2, "eleccion": REAL, "boletas": 2},
            ],
            "recuento": ["La diferencia entre primero y segundo lugar es menor a un punto."],
            "reglas": "LGIPE",
            "publicada_at": "2021-06-07T03:00:00+00:00",
        },
        "firma": "ab" * 32,
        "clave_verificacion": "cd" * 16,
    }


def _eventos() -> list[Envelope]:
    lnere = eventos_registro.LnereCerrada(
        entidad="09",
        total=4,
        postal=2,
        electronica=2,
        por_pais={"US": {"postal": 2, "electronica": 1}, "CA": {"electronica": 1}},
        cerrada_at=T - dt.timedelta(days=60),
    )
    eventos = [
        evento_recibida("09", "postal", "A"),
        evento_recibida("09", "electronica", "B"),
        evento_recibida("14", "postal", "C"),
        _evento(eventos_registro.LNERE_CERRADA, "09", lnere),
    ]
    for numero in (1, 2):
        for estado in ("integrado", "enviado", "entregado"):
            eventos.append(
                _evento(
                    eventos_postal.paquete_event_type(estado),
                    f"09-{numero}",
                    eventos_postal.PaqueteActualizado(
                        entidad="09", numero=numero, pais="US", estado=estado, lote=1, ocurrido_at=T
                    ),
                )
            )
    for clasificacion, numero in (("en_tiempo", 1), ("extemporaneo", 2)):
        eventos.append(
            _evento(
                eventos_postal.SOBRE_RECIBIDO,
                f"sobre-{numero}",
                eventos_postal.SobreRecibido(
                    entidad="09", numero=numero, clasificacion=clasificacion, recibido_at=T
                ),
            )
        )
    eventos.append(
        _evento(
            eventos_postal.SOBRES_DESTRUIDOS,
            "destruccion-1",
            eventos_postal.SobresDestruidos(
                entidad="09", acta=1, sobres=1, celebrada_at=T + dt.timedelta(days=14)
            ),
        )
    )
    for uuid, simulacro, credenciales in ((DRILL, True, 2), (REAL, False, 2)):
        eventos.append(
            _evento(
                eventos_electronico.ELECCION_PREPARADA,
                uuid,
                eventos_electronico.EleccionPreparada(
                    eleccion=uuid,
                    entidad="09",
                    cargo="diputacion_migrante",
                    nombre=f"Elección {uuid}",
                    simulacro=simulacro,
                ),
            )
        )
        eventos.append(
            _evento(
                eventos_electronico.ELECCION_ABIERTA,
                uuid,
                eventos_electronico.EleccionAbierta(
                    eleccion=uuid,
                    entidad="09",
                    cargo="diputacion_migrante",
                    simulacro=simulacro,
                    huella="h",
                    clave_publica="k",
                    acta={
                        "abierta_at": (T - dt.timedelta(days=20 if simulacro else 1)).isoformat(),
                        "credenciales": credenciales,
                    },
                ),
            )
        )
    for numero, uuid, simulacro in ((1, DRILL, True), (3, REAL, False), (4, REAL, False)):
        eventos.append(
            _evento(
                eventos_electronico.VOTO_EMITIDO,
                f"09-{numero}",
                eventos_electronico.VotoEmitido(
                    eleccion=uuid, entidad="09", numero=numero, simulacro=simulacro, emitido_at=T
                ),
            )
        )
    eventos.append(
        _evento(
            eventos_postal.VOTO_REGISTRADO,
            "09-1",
            eventos_postal.VotoRegistrado(entidad="09", numero=1, recibido_at=T),
        )
    )
    eventos.append(
        _evento(
            eventos_computo.ACTA_PUBLICADA,
            "09-diputacion_migrante",
            eventos_computo.ActaPublicada(entidad="09", cargo="diputacion_migrante", documento=_acta()),
        )
    )
    return eventos


async def test_informe_final_con_las_cifras_de_las_actas(tablero: Any, token: Token) -> None:
    app, client = tablero
    admin = token("ine-admin")
    # Before any acta: the report exists and says it is not complete; votes are the live counters.
    await deliver(app, evento_recibida("09", "postal", "Z"))
    r = await client.get("/v1/informe-final.json", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["completo"] is False
    assert r.json()["entidades"]["09"]["votos"]["fuente"] == "votos_recibidos"

    for evento in _eventos():
        assert await deliver(app, evento)
    r = await client.get("/v1/entidades/09/informe-final.json", headers=token("opl", entidad="09"))
    assert r.status_code == 200, r.text
    informe = r.json()
    acta = _acta()["acta"]
    e = informe["entidades"]["09"]
    assert informe["alcance"] == "09"
    assert informe["completo"] is True
    # Votes, participation and results: the acta's, exactly (the live counters would say 1 + 2 as well,
    # but the source is the acta).
    assert e["votos"]["fuente"] == "acta"
    assert {k: e["votos"][k] for k in ("postal", "electronica", "total")} == acta["votos"]
    assert e["votos"]["participacion"] == acta["participacion"]
    assert e["votos"]["participacion_por_modalidad"] == {"postal": "50.00", "electronica": "100.00"}
    copia = e["cargos"][0]["acta"]
    for campo in (
        "votos",
        "participacion",
        "resultados",
        "distribucion",
        "candidaturas",
        "recuento",
        "lnere",
    ):
        assert copia[campo] == acta[campo], campo
    assert copia["firma"] == "ab" * 32
    assert e["lnere"]["total"] == 4
    assert e["lnere"]["cerrada_at"].startswith("2021-03-24T")
    assert informe["lnere_por_pais"] == {"CA": {"electronica": 1}, "US": {"electronica": 1, "postal": 2}}
    assert e["paquetes"] == {"entregado": 2, "enviado": 2, "integrado": 2}
    assert e["sobres"] == {
        "por_clasificacion": {"en_tiempo": 1, "extemporaneo": 1},
        "extemporaneos_destruidos": 1,
        "actas_de_destruccion": 1,
    }
    # Drills: their own participation, never in the public figures.
    assert [
        (s["eleccion"], s["credenciales"], s["participantes"], s["participacion"])
        for s in informe["simulacros"]
    ] == [(DRILL, 2, 1, "50.00")]
    assert informe["incidentes"] == [
        {"entidad": "09", "cargo": "diputacion_migrante", "mesa": 1, "incidente": "Sobre roto"}
    ]
    assert informe["recuentos"][0]["motivos"] == acta["recuento"]
    etapas = {x["etapa"]: x for x in informe["cronologia"]}
    assert etapas["envío de paquetes"]["observado"] == {"desde": "2021-05-23", "hasta": "2021-05-23"}
    assert etapas["destrucción de sobres extemporáneos"]["observado"] == {
        "desde": "2021-06-06",
        "hasta": "2021-06-06",
    }
    assert etapas["simulacros"]["observado"]["desde"].startswith("2021-05-03T11:30")
    assert etapas["cómputo (actas publicadas)"]["observado"]["desde"].startswith("2021-06-06T22:00")
    assert etapas["voto por internet"]["previsto"]["desde"].startswith("2021-05-22T20:00")

    # The national report holds the same entidad's figures; the OPL cannot read it, nor another entidad's.
    nacional = (await client.get("/v1/informe-final.json", headers=token("auditor"))).json()
    assert nacional["entidades"]["09"] == e
    assert nacional["totales"]["votos"] == 3
    assert set(nacional["entidades"]) == set(app.state.proceso.entidades)
    assert (await client.get("/v1/informe-final.json", headers=token("opl", entidad="09"))).status_code == 403
    assert (
        await client.get("/v1/entidades/09/informe-final.json", headers=token("opl", entidad="14"))
    ).status_code == 403
    assert (await client.get("/v1/informe-final.json", headers=token("ine-operador"))).status_code == 403
    assert (await client.get("/v1/informe-final.json")).status_code == 401
    assert (await client.get("/v1/informe-final.xml", headers=admin)).status_code == 404
    assert (await client.get("/v1/entidades/09/informe-final.xml", headers=admin)).status_code == 422
    assert (await client.get("/v1/entidades/31/informe-final.json", headers=admin)).status_code == 404

    pdf = await client.get("/v1/entidades/09/informe-final.pdf", headers=token("opl", entidad="09"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # A replay from zero rebuilds the same report (only the moment it was generated differs).
    async with app.state.runtime.maker() as session, session.begin():
        await repository.reset(session)
    for evento in [evento_recibida("09", "postal", "Z"), *_eventos()]:
        assert await deliver(app, evento)
    otra = (await client.get("/v1/entidades/09/informe-final.json", headers=admin)).json()
    assert {**otra, "generado_at": None} == {**informe, "generado_at": None}


def test_el_resultado_nacional_suma_las_actas_de_cada_entidad() -> None:
    """pef2024's Presidencia: one acta per entidad; the national result is their sum, preliminary (and said
    so) while an entidad's acta is missing."""
    from services.tablero.informe import nacionales
    from shared.proceso import cargar

    proceso = cargar("pef2024")

    def acta(postal: int, internet: int, morena: int, pan: int, lnere: int) -> dict[str, Any]:
        total = postal + internet
        return {
            "lnere": {"postal": lnere, "electronica": lnere, "total": 2 * lnere},
            "votos": {"postal": postal, "electronica": internet, "total": total},
            "participacion": repository.porcentaje(total, 2 * lnere),
            "resultados": {
                "partidos": {"MORENA": morena, "PAN": pan},
                "combinaciones": {"PAN+PRI": 0},
                "no_registrados": 0,
                "nulos": total - morena - pan,
            },
            "distribucion": {"MORENA": morena, "PAN": pan},
            "candidaturas": {"Sigamos Haciendo Historia": morena, "Fuerza y Corazón por México": pan},
        }

    detalle: dict[str, Any] = {
        "01": {"cargos": [{"cargo": "presidencia", "acta": acta(2, 5, 4, 2, 10)}, {"cargo": "senaduria"}]},
        "09": {"cargos": [{"cargo": "presidencia", "acta": acta(3, 7, 6, 3, 8)}]},
        "15": {"cargos": [{"cargo": "presidencia", "acta": None}]},
    }
    (presidencia,) = nacionales(proceso, detalle)
    assert (presidencia["cargo"], presidencia["actas"], presidencia["de"]) == ("presidencia", 2, 3)
    assert presidencia["completo"] is False
    assert presidencia["votos"] == {"postal": 5, "electronica": 12, "total": 17}
    assert presidencia["lnere"]["total"] == 36
    assert presidencia["participacion"] == "47.22"
    assert presidencia["resultados"]["partidos"] == {"MORENA": 10, "PAN": 5}
    assert presidencia["resultados"]["nulos"] == 2
    assert presidencia["candidaturas"] == {"Sigamos Haciendo Historia": 10, "Fuerza y Corazón por México": 5}
    assert presidencia["por_entidad"]["09"] == {
        "votos": 10,
        "participacion": "62.50",
        "distribucion": {"MORENA": 6, "PAN": 3},
    }
    assert "15" not in presidencia["por_entidad"]
    detalle["15"]["cargos"][0]["acta"] = acta(0, 1, 1, 0, 1)
    assert nacionales(proceso, detalle)[0]["completo"] is True
    assert nacionales(cargar("pel2021"), detalle) == []  # no national office in 2021
