"""The paper ballot of each office (#27): the entidad's parties in ballot order with the names of the
approved candidacies electronico announced; the Presidencia's ballot is the same in every entidad; public,
printable."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.postal.config import Settings
from services.postal.main import create_app
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos
from shared.proceso import cargar
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases, serve
from tests.support.postal import Postal
from tests.support.registro import centro

PEF2024 = cargar("pef2024")
PRESIDENCIA: list[dict[str, Any]] = [
    {"nombre": "Bertha Xóchitl Gálvez Ruiz", "partidos": ["PAN", "PRI", "PRD"]},
    {"nombre": "Claudia Sheinbaum Pardo", "partidos": ["PVEM", "PT", "MORENA"]},
    {"nombre": "Jorge Álvarez Máynez", "partidos": ["MC"]},
]


@pytest.fixture
async def postal_2024(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon
) -> AsyncIterator[Postal]:
    url = await databases.new("postal")
    reloj = RelojManual(centro(2024, 4, 20, 10, 0))
    settings = Settings(
        database_url=url, kafka=offline_kafka, relay_enabled=False, consumers_enabled=False, **buzon.ajustes()
    )
    app = create_app(settings, reloj=reloj, proceso=PEF2024)
    async with serve(app) as client:
        yield Postal(app, client, reloj, PEF2024, buzon, settings)


def aprobadas(lista: list[dict[str, Any]], huella: str = "a" * 64) -> Envelope:
    return Envelope.new(
        event_type=eventos.CANDIDATURAS_APROBADAS,
        source="electronico",
        aggregate_id="nacional-presidencia",
        data=eventos.CandidaturasAprobadas(
            ambito="nacional", cargo="presidencia", huella=huella, candidaturas=lista
        ),
    )


def texto_del_pdf(pdf: bytes) -> str:
    """The text drawn on the pages (fpdf2 compresses each content stream with zlib)."""
    partes = []
    for flujo in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            partes.append(zlib.decompress(flujo).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(partes)


async def test_la_boleta_postal_lleva_los_nombres_aprobados_en_el_orden_de_la_boleta(
    postal_2024: Postal,
) -> None:
    # No token: the ballot is public.
    r = await postal_2024.client.get("/v1/boletas/14/presidencia")
    assert r.status_code == 200, r.text
    sin = r.json()
    assert sin["huella_candidaturas"] is None
    assert [c["opcion"] for c in sin["casillas"]] == [
        "PAN",
        "PRI",
        "PRD",
        "PVEM",
        "PT",
        "MC",
        "MORENA",
        "no_registrados",
    ]
    assert {c["candidatura"] for c in sin["casillas"]} == {None}
    pdf = await postal_2024.client.get("/v1/boletas/14/presidencia.pdf")
    assert "SIN CANDIDATURAS APROBADAS" in texto_del_pdf(pdf.content)

    assert await postal_2024.entregar(aprobadas(PRESIDENCIA)) == 1
    # A later announcement for the same ballot (a replay, or a forged second version) changes nothing.
    otra = [dict(PRESIDENCIA[0], nombre="Otra Persona"), *PRESIDENCIA[1:]]
    assert await postal_2024.entregar(aprobadas(otra, huella="b" * 64)) == 1
    for entidad in ("01", "09", "14"):  # the national office: the same ballot everywhere
        b = (await postal_2024.client.get(f"/v1/boletas/{entidad}/presidencia")).json()
        assert b["huella_candidaturas"] == "a" * 64
        casillas = {c["opcion"]: c for c in b["casillas"]}
        assert casillas["PRI"]["candidatura"] == "Bertha Xóchitl Gálvez Ruiz"
        assert casillas["PRI"]["coalicion"] == "Fuerza y Corazón por México"
        assert casillas["MORENA"]["candidatura"] == "Claudia Sheinbaum Pardo"
        assert (casillas["MC"]["candidatura"], casillas["MC"]["coalicion"]) == ("Jorge Álvarez Máynez", None)
        assert casillas["no_registrados"]["candidatura"] is None
    # Senaduría of Jalisco has no approved candidacies: parties alone.
    senaduria = (await postal_2024.client.get("/v1/boletas/14/senaduria")).json()
    assert senaduria["huella_candidaturas"] is None

    pdf = await postal_2024.client.get("/v1/boletas/09/presidencia.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    texto = texto_del_pdf(pdf.content)
    assert "Claudia Sheinbaum Pardo" in texto
    assert "Fuerza y Coraz" in texto
    assert "a" * 64 in texto
    assert texto.index("Acci") < texto.index("Movimiento Ciudadano") < texto.index("Morena")  # ballot order


@pytest.mark.parametrize(
    "ruta",
    [
        "/v1/boletas/33/presidencia",
        "/v1/boletas/14/gubernatura_x",
        "/v1/boletas/01/gubernatura",
        "/v1/boletas/14/PRESIDENCIA",
    ],
)
async def test_una_boleta_que_no_existe_responde_con_problema(postal_2024: Postal, ruta: str) -> None:
    r = await postal_2024.client.get(ruta)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
