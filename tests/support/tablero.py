from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.tablero.config import Settings
from services.tablero.main import create_app
from services.tablero.models import ProcessedEvent
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.reloj import Reloj
from shared.settings import KafkaSettings
from tests.shared.test_webhooks import receptor  # noqa: F401  (a real local HTTP endpoint of an OPL)
from tests.support.comun import Databases, serve
from tests.support.registro import PEL2021


async def app_de_prueba(
    databases: Databases, kafka: KafkaSettings, *, reloj: Reloj | None = None, **ajustes: Any
) -> Any:
    """tablero on a fresh database, no relay nor consumers (events arrive through ``deliver``); ``ajustes``
    adds settings (the console's provider, the internal URLs of the overview)."""
    url = await databases.new("tablero")
    return create_app(
        Settings(
            database_url=url,
            kafka=kafka,
            relay_enabled=False,
            consumers_enabled=False,
            cache_segundos=0,
            **ajustes,
        ),
        reloj=reloj,
        proceso=PEL2021,
    )


@pytest.fixture
async def tablero(databases: Databases, offline_kafka: KafkaSettings) -> AsyncIterator[tuple[Any, Any]]:
    app = await app_de_prueba(databases, offline_kafka)
    async with serve(app) as client:
        yield app, client


async def deliver(app: Any, envelope: Envelope) -> bool:
    """Apply an event as the consumer does (same inbox), in one transaction."""
    async with app.state.runtime.maker() as session, session.begin():
        return await apply_once(
            session, ProcessedEvent, "tablero.proyecciones", envelope, app.state.handlers[envelope.event_type]
        )
