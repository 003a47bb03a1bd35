"""The candidacies of each ballot (issue 27), attacked over HTTP: each OPL loads only its entidad's local
ballots and only before the deadline, a national office's only ine-admin; a bad list changes nothing and
names each field; ine-admin approves exactly the version it reviewed (a burst of approvals is one); an
approved ballot is locked; an election of the 2024 process opens only with its ballot approved, and then its
answers carry the names and its acta de apertura the fingerprint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.electronico.models import Outbox
from shared.events import electronico as eventos
from shared.proceso import cargar
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases
from tests.support.electronico import (
    PRESIDENCIA,
    Electronico,
    electronico_2024,
    inscrito,
)
from tests.support.registro import centro

PEF2024 = cargar("pef2024")
ANTES_DEL_LIMITE = centro(2024, 4, 1, 10, 0)  # candidaturas_limite: 20 Apr 2024 23:59 Centro
Token = Callable[..., dict[str, str]]
CDMX = [
    {"nombre": "Clara Brugada Molina", "partidos": ["MORENA", "PT", "PVEM"]},
    {"nombre": "Salomón Chertorivski Woldenberg", "partidos": ["MC"]},
    {"nombre": "Santiago Taboada Cortina", "partidos": ["PRD", "PAN", "PRI"]},
]


@pytest.fixture
async def e(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, token: Token, tmp_path: Path
) -> AsyncIterator[Electronico]:
    async with electronico_2024(databases, offline_kafka, buzon, token, tmp_path, ANTES_DEL_LIMITE) as (_, x):
        yield x


async def _todas(e: Electronico) -> list[dict[str, Any]]:
    r = await e.client.get("/v1/candidaturas")  # public: no token
    assert r.status_code == 200
    datos: list[dict[str, Any]] = r.json()
    return datos


async def test_el_opl_carga_y_el_ine_aprueba_la_version_revisada(e: Electronico) -> None:
    opl = e.token("opl", entidad="09")
    r = await e.client.put("/v1/candidaturas/09/jefatura_gobierno", json={"candidaturas": CDMX}, headers=opl)
    assert r.status_code == 200, r.text
    cargada = r.json()
    # Ballot order: by each candidacy's first party in the process file's order (PAN … PVEM, PT … MC).
    assert [c["nombre"] for c in cargada["candidaturas"]] == [
        "Santiago Taboada Cortina",
        "Clara Brugada Molina",
        "Salomón Chertorivski Woldenberg",
    ]
    assert cargada["candidaturas"][0]["partidos"] == ["PAN", "PRI", "PRD"]
    assert cargada["estado"] == "capturada"
    # The OPL corrects a name before approval: a new version, a new fingerprint.
    otra = [dict(CDMX[0], nombre="Clara Marina Brugada Molina"), *CDMX[1:]]
    r = await e.client.put("/v1/candidaturas/09/jefatura_gobierno", json={"candidaturas": otra}, headers=opl)
    nueva = r.json()["huella"]
    assert nueva != cargada["huella"]
    # ine-admin reviewed the first version: approving it now is refused, with what is there.
    admin = e.token("ine-admin")
    url = "/v1/candidaturas/09/jefatura_gobierno/aprobacion"
    r = await e.client.post(url, json={"huella": cargada["huella"]}, headers=admin)
    assert r.status_code == 409
    assert nueva in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    # The OPL cannot approve its own ballot.
    assert (await e.client.post(url, json={"huella": nueva}, headers=opl)).status_code == 403
    # A burst of approvals of the reviewed version: one approval, the same answer to each.
    respuestas = await asyncio.gather(
        *(e.client.post(url, json={"huella": nueva}, headers=admin) for _ in range(8))
    )
    assert {r.status_code for r in respuestas} == {200}
    assert len({r.json()["aprobada_at"] for r in respuestas}) == 1
    assert respuestas[0].json()["estado"] == "aprobada"
    # One event for postal (its paper ballots print the names), however many approvals came at once.
    async with e.app.state.runtime.maker() as session:
        aprobaciones = [
            json.loads(fila.payload)["data"]
            for fila in (await session.execute(select(Outbox))).scalars()
            if fila.event_type == eventos.CANDIDATURAS_APROBADAS
        ]
    assert aprobaciones == [
        {
            "ambito": "09",
            "cargo": "jefatura_gobierno",
            "huella": nueva,
            "candidaturas": respuestas[0].json()["candidaturas"],
        }
    ]
    # Approved: the ballot is locked.
    r = await e.client.put("/v1/candidaturas/09/jefatura_gobierno", json={"candidaturas": CDMX}, headers=opl)
    assert r.status_code == 409
    assert "aprobadas" in r.json()["detail"]
    (publica,) = await _todas(e)
    assert (publica["ambito"], publica["huella"], publica["estado"]) == ("09", nueva, "aprobada")


async def test_una_rafaga_de_primeras_cargas_deja_una_boleta(e: Electronico) -> None:
    opl = e.token("opl", entidad="09")
    url = "/v1/candidaturas/09/diputacion_migrante"
    respuestas = await asyncio.gather(
        *(e.client.put(url, json={"candidaturas": CDMX[i % 3 :]}, headers=opl) for i in range(8))
    )
    assert {r.status_code for r in respuestas} == {200}
    (boleta,) = await _todas(e)
    assert boleta["huella"] in {r.json()["huella"] for r in respuestas}


@pytest.mark.parametrize(
    ("ruta", "cuerpo", "quien", "estado", "dice"),
    [
        # Another entidad's ballot, a national office, a national office under an entidad, an unknown office.
        ("/v1/candidaturas/14/gubernatura", CDMX, {"rol": "opl", "entidad": "09"}, 403, "solo puede"),
        ("/v1/candidaturas/nacional/presidencia", PRESIDENCIA, {"rol": "opl", "entidad": "09"}, 403, "INE"),
        ("/v1/candidaturas/09/presidencia", PRESIDENCIA, {"rol": "opl", "entidad": "09"}, 404, "nacional"),
        ("/v1/candidaturas/nacional/senaduria", PRESIDENCIA, {"rol": "ine-admin"}, 404, "cargo nacional"),
        ("/v1/candidaturas/09/gubernatura", CDMX, {"rol": "opl", "entidad": "09"}, 404, "no es un cargo"),
        # A custodian or an auditor loads nothing.
        ("/v1/candidaturas/09/senaduria", CDMX, {"rol": "custodio"}, 403, ""),
        ("/v1/candidaturas/09/senaduria", CDMX, {"rol": "auditor"}, 403, ""),
    ],
)
async def test_quien_no_debe_no_carga(
    e: Electronico, ruta: str, cuerpo: list[dict[str, Any]], quien: dict[str, str], estado: int, dice: str
) -> None:
    otros = {k: v for k, v in quien.items() if k != "rol"}
    r = await e.client.put(ruta, json={"candidaturas": cuerpo}, headers=e.token(quien["rol"], **otros))
    assert r.status_code == estado, r.text
    assert dice in r.json()["detail"]
    assert await _todas(e) == []


@pytest.mark.parametrize(
    ("candidaturas", "campo", "dice"),
    [
        ([{"nombre": "Alguien", "partidos": ["PES"]}], "candidaturas.0.partidos", "PES no compite"),
        (
            [{"nombre": "Alguien", "partidos": ["PAN", "PRI"]}],
            "candidaturas.0.partidos",
            "no es una coalición",
        ),
        (
            [{"nombre": "Una", "partidos": ["MC"]}, {"nombre": "Otra", "partidos": ["MC"]}],
            "candidaturas.1.partidos",
            "MC ya postula",
        ),
        ([{"nombre": "Alguien", "partidos": ["MC", "MC"]}], "candidaturas.0.partidos", "dos veces"),
        ([{"nombre": "", "partidos": ["MC"]}], "candidaturas.0.nombre", ""),
        ([{"nombre": "Alguien", "partidos": []}], "candidaturas.0.partidos", ""),
    ],
)
async def test_una_lista_mala_no_cambia_nada_y_dice_que_campo(
    e: Electronico, candidaturas: list[dict[str, Any]], campo: str, dice: str
) -> None:
    opl = e.token("opl", entidad="09")
    r = await e.client.put("/v1/candidaturas/09/senaduria", json={"candidaturas": candidaturas}, headers=opl)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errores = r.json()["errors"]
    assert campo in [x["campo"] for x in errores]
    assert dice in " ".join(x["mensaje"] for x in errores)
    assert await _todas(e) == []


async def test_despues_del_plazo_no_se_carga(e: Electronico) -> None:
    e.reloj.ajustar(centro(2024, 4, 21, 0, 0))
    r = await e.client.put(
        "/v1/candidaturas/09/senaduria", json={"candidaturas": CDMX}, headers=e.token("opl", entidad="09")
    )
    assert r.status_code == 409
    assert "2024-04-20 23:59" in r.json()["detail"]
    assert await _todas(e) == []


async def test_la_eleccion_abre_solo_con_su_boleta_aprobada_y_lleva_los_nombres(e: Electronico) -> None:
    await e.entregar(inscrito(1, "01"))
    elecciones = {x["cargo"]: x["uuid"] for x in await e.elecciones("01")}
    presidencia = elecciones["presidencia"]
    await e.cerrar_lnere("01")
    await e.ceremonia(presidencia)
    admin = e.token("ine-admin")
    r = await e.client.post(f"/v1/elecciones/{presidencia}/apertura", headers=admin)
    assert r.status_code == 409
    assert "PUT /v1/candidaturas/nacional/presidencia" in r.json()["detail"]
    r = await e.client.put(
        "/v1/candidaturas/nacional/presidencia", json={"candidaturas": PRESIDENCIA}, headers=admin
    )
    huella = r.json()["huella"]
    r = await e.client.post(
        "/v1/candidaturas/nacional/presidencia/aprobacion", json={"huella": huella}, headers=admin
    )
    assert r.status_code == 200
    r = await e.client.post(f"/v1/elecciones/{presidencia}/apertura", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["acta"]["huella_candidaturas"] == huella
    detalle = (await e.client.get(f"/v1/elecciones/{presidencia}")).json()
    textos = {o["clave"]: o["texto"] for o in detalle["opciones"]}
    assert textos["MORENA"] == "Morena — Claudia Sheinbaum Pardo"
    assert textos["PAN+PRI+PRD"] == "Coalición: PAN + PRI + PRD — Bertha Xóchitl Gálvez Ruiz"
    assert textos["MC"] == "Movimiento Ciudadano — Jorge Álvarez Máynez"
    assert textos["nulos"] == "Voto nulo"
    belenios = await e.eleccion_belenios(presidencia)
    assert "Claudia Sheinbaum Pardo" in belenios.preguntas[0].respuestas[6]
    assert huella in detalle["eleccion_json"]  # the setup's description carries the fingerprint
