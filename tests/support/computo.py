from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.computo.config import Settings
from services.computo.main import create_app
from services.computo.models import ProcessedEvent
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.events import postal as eventos_postal
from shared.proceso import Proceso, opciones
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.shared.test_webhooks import receptor  # noqa: F401  (a real local HTTP endpoint of an OPL)
from tests.support.comun import Databases, serve
from tests.support.cripto import belenios  # noqa: F401  (fixtures these tests share)
from tests.support.electronico import electronico  # noqa: F401
from tests.support.registro import PEL2021, centro

JORNADA = centro(2021, 6, 6, 18, 30)


def mesa_asignada(entidad: str, mesa: int, sobres: int) -> Envelope:
    return Envelope.new(
        event_type=eventos_postal.MESA_ASIGNADA,
        source="postal",
        aggregate_id=f"{entidad}-mesa-{mesa}",
        data=eventos_postal.MesaAsignada(entidad=entidad, mesa=mesa, sobres=sobres),
    )


def acta(entidad: str = "09", total_por: dict[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    """An acta of entidad's office that adds up: every option of the ballot, zeros but ``total_por``."""
    ent = PEL2021.entidades[entidad]
    votos = dict.fromkeys(opciones(ent), 0) | (total_por or {})
    total = sum(votos.values())
    return {"cargo": ent.cargos[0].clave, "votos": votos, "total": total, "sobres_recibidos": total} | extra


@dataclass
class Computo:
    app: FastAPI
    client: httpx.AsyncClient
    reloj: RelojManual
    proceso: Proceso
    token: Callable[..., dict[str, str]]

    async def entregar(self, *envelopes: Envelope) -> int:
        n = 0
        async with self.app.state.runtime.maker() as session, session.begin():
            for env in envelopes:
                h = self.app.state.handlers[env.event_type]
                n += await apply_once(session, ProcessedEvent, "computo.mesas", env, h)
        return n

    async def count(self, model: Any) -> int:
        async with self.app.state.runtime.maker() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def app_de_prueba(
    databases: Databases, kafka: KafkaSettings, **ajustes: Any
) -> tuple[Any, RelojManual]:
    """computo on a fresh database at election-day evening, no relay nor consumers (events arrive through
    ``entregar``); ``ajustes`` adds settings (the console's provider)."""
    reloj = RelojManual(JORNADA)
    settings = Settings(
        database_url=await databases.new("computo"),
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        **ajustes,
    )
    return create_app(settings, reloj=reloj, proceso=PEL2021), reloj


@pytest.fixture
async def computo(
    databases: Databases, offline_kafka: KafkaSettings, token: Callable[..., dict[str, str]]
) -> AsyncIterator[Computo]:
    app, reloj = await app_de_prueba(databases, offline_kafka)
    async with serve(app) as client:
        yield Computo(app, client, reloj, PEL2021, token)
