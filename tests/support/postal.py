from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.postal.config import Settings
from services.postal.main import create_app
from services.postal.models import ProcessedEvent
from shared import webhooks
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import RelojManual
from shared.settings import AjustesConsola, KafkaSettings
from tests.factories import clave
from tests.support.comun import Buzon, Databases, serve
from tests.support.consola import Identidad
from tests.support.registro import PEL2021, centro

SECRETO = "secreto-local-mensajeria"


def inscrito(n: int, entidad: str = "09", pais: str = "US") -> Envelope:
    data = eventos_registro.InscritoPostal(
        entidad=entidad,
        numero=n,
        folio=f"VMRE-{n:05d}-AAAAA-BBBBB-{entidad}CCC",
        clave_elector=clave(n if entidad == "09" else n + 1_000_000 * int(entidad)),
        nombre="María",
        apellido_paterno="Núñez",
        apellido_materno="Peña",
        domicilio=eventos_registro.DomicilioPostal(
            calle_numero=f"{n} Main St", ciudad="Los Angeles", region="CA", codigo_postal="90015", pais=pais
        ),
        email=f"p{n}@example.com",
        telefono="+13105550000",
    )
    return Envelope.new(
        event_type=eventos_registro.LNERE_POSTAL_INSCRITO,
        source="registro",
        aggregate_id=f"{entidad}-{n:07d}",
        data=data,
    )


def firmar(cuerpo: bytes, secreto: str = SECRETO, t: int | None = None) -> dict[str, str]:
    """The headers of a carrier's request: its signature (``shared.webhooks``) at ``t`` (now by default)."""
    firma = webhooks.firmar(secreto, cuerpo, int(time.time()) if t is None else t)
    return {webhooks.CABECERA_FIRMA: firma, "content-type": "application/json"}


@dataclass
class Postal:
    app: FastAPI
    client: httpx.AsyncClient
    reloj: RelojManual
    proceso: Proceso
    buzon: Buzon
    settings: Settings

    async def entregar(self, *envelopes: Envelope) -> int:
        """Deliver events as the consumer does (same dedupe), in one transaction."""
        handlers = self.app.state.handlers
        aplicados = 0
        async with self.app.state.runtime.maker() as session, session.begin():
            for env in envelopes:
                handler = handlers[env.event_type]
                aplicados += await apply_once(session, ProcessedEvent, "postal.integracion", env, handler)
        return aplicados

    async def count(self, model: Any, *where: Any) -> int:
        async with self.app.state.runtime.maker() as session:
            query = select(func.count()).select_from(model)
            if where:
                query = query.where(*where)
            return int((await session.execute(query)).scalar_one())

    async def webhook(self, cuerpo: dict[str, Any], transportista: str = "mensajeria") -> httpx.Response:
        raw = json.dumps(cuerpo).encode()
        return await self.client.post(
            f"/v1/transportistas/{transportista}/eventos", content=raw, headers=firmar(raw)
        )


@pytest.fixture
async def postal(databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon) -> AsyncIterator[Postal]:
    """postal without relay (so without its sender: a test delivers with ``Notificador`` when it means to),
    its gateways pointed at the test's local mailbox."""
    url = await databases.new("postal")
    reloj = RelojManual(centro(2021, 4, 20, 10, 0))
    settings = Settings(
        database_url=url,
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=False,
        **buzon.ajustes(),
    )
    app = create_app(settings, reloj=reloj, proceso=PEL2021)
    async with serve(app) as client:
        yield Postal(app, client, reloj, PEL2021, buzon, settings)


async def app_con_consola(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, consola: AjustesConsola
) -> tuple[FastAPI, RelojManual, Settings]:
    """postal as the fixture above, with the staff console signing in against ``consola``'s provider."""
    reloj = RelojManual(centro(2021, 4, 20, 10, 0))
    settings = Settings(
        database_url=await databases.new("postal"),
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=False,
        consola=consola,
        **buzon.ajustes(),
    )
    return create_app(settings, reloj=reloj, proceso=PEL2021), reloj, settings


@pytest.fixture
async def postal_con_consola(  # the console's tests: postal signing in against the local provider
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, identidad: Identidad
) -> AsyncIterator[Postal]:
    app, reloj, settings = await app_con_consola(databases, offline_kafka, buzon, identidad.ajustes())
    async with serve(app) as client:
        yield Postal(app, client, reloj, PEL2021, buzon, settings)
