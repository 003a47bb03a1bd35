from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn

from services.tablero.config import Settings
from services.tablero.main import create_app
from services.tablero.models import ProcessedEvent
from shared.broker import free_port
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.settings import KafkaSettings
from tests.conftest import Databases, serve
from tests.registro.conftest import PEL2021
from tests.shared.test_webhooks import receptor  # noqa: F401  (a real local HTTP endpoint of an OPL)


@asynccontextmanager
async def en_http(app: Any) -> AsyncIterator[str]:
    """The app (with its lifespan) on a real local port, for what ASGITransport cannot do: stream
    (Server-Sent Events) and serve a real browser."""
    puerto = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=puerto, log_level="warning"))
    tarea = asyncio.create_task(server.serve())
    while not server.started:
        if tarea.done():
            tarea.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{puerto}"
    finally:
        server.should_exit = True
        await tarea


async def app_de_prueba(databases: Databases, kafka: KafkaSettings) -> Any:
    url = await databases.new("tablero")
    return create_app(
        Settings(
            database_url=url, kafka=kafka, relay_enabled=False, consumers_enabled=False, cache_segundos=0
        ),
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
