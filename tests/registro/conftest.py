from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.registro.config import Settings
from services.registro.main import create_app
from shared.proceso import Proceso, cargar
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Databases, serve

PEL2021 = cargar("pel2021")
CENTRO = PEL2021.tz


def centro(*args: int) -> dt.datetime:
    """An instant given in Centro local time (as the calendar and people say it)."""
    return dt.datetime(*args, tzinfo=CENTRO).astimezone(dt.UTC)


@dataclass
class Registro:
    app: FastAPI
    client: httpx.AsyncClient
    reloj: RelojManual
    proceso: Proceso

    async def count(self, model: Any, *where: Any) -> int:
        async with self.app.state.runtime.maker() as session:
            query = select(func.count()).select_from(model)
            if where:
                query = query.where(*where)
            return int((await session.execute(query)).scalar_one())

    async def rows(self, model: Any, *where: Any, order: Any = None) -> list[Any]:
        async with self.app.state.runtime.maker() as session:
            query = select(model).where(*where) if where else select(model)
            if order is not None:
                query = query.order_by(order)
            return list((await session.execute(query)).scalars())


@pytest.fixture
async def registro(databases: Databases, offline_kafka: KafkaSettings) -> AsyncIterator[Registro]:
    # No relay: these tests look at what is staged in the outbox, in the same transaction.
    url = await databases.new("registro")
    reloj = RelojManual(centro(2021, 1, 15, 10, 0))
    app = create_app(
        Settings(database_url=url, kafka=offline_kafka, relay_enabled=False), reloj=reloj, proceso=PEL2021
    )
    async with serve(app) as client:
        yield Registro(app, client, reloj, PEL2021)
