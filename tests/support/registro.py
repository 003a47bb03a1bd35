from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import Notificacion, Solicitud
from shared.proceso import Proceso, cargar
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Databases, serve

PEL2021 = cargar("pel2021")
PEF2024 = cargar("pef2024")
CENTRO = PEL2021.tz


def centro(anio: int, mes: int, dia: int, hora: int = 0, minuto: int = 0, segundo: int = 0) -> dt.datetime:
    """An instant given in Centro local time (as the calendar and people say it)."""
    return dt.datetime(anio, mes, dia, hora, minuto, segundo, tzinfo=CENTRO).astimezone(dt.UTC)


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

    # --- what the platform staged for the applicant (registro's `notificaciones`, read decrypted) -----------

    async def avisos(self, plantilla: str | None = None, destino: str | None = None) -> list[Notificacion]:
        """The messages staged, oldest first; by template and/or contact (the contact is encrypted: filtered
        here, not in SQL)."""
        where = [Notificacion.plantilla == plantilla] if plantilla else []
        filas = await self.rows(Notificacion, *where, order=Notificacion.id)
        return [f for f in filas if destino is None or f.destino == destino]

    async def codigo(self, destino: str) -> str:
        """The code of the last confirmation message sent to ``destino``."""
        [*_, ultimo] = await self.avisos("codigo_confirmacion", destino)
        assert ultimo.mensaje is not None
        encontrado = re.search(r"\b(\d{6})\b", ultimo.mensaje)
        assert encontrado, ultimo.mensaje
        return encontrado.group(1)

    async def solicitud(self, folio: str) -> Solicitud:
        [s] = await self.rows(Solicitud, Solicitud.folio == folio)
        return s

    async def confirmar(self, folio: str, pedido: httpx.Response, destino: str) -> httpx.Response:
        """The applicant confirms a pending change (``pedido``: its 202) with the code from their message."""
        assert pedido.status_code == 202, pedido.text
        return await self.client.post(
            f"/v1/solicitudes/{folio}/confirmacion",
            json={"confirmacion": pedido.json()["confirmacion"], "codigo": await self.codigo(destino)},
        )


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


@pytest.fixture
async def registro_2024(databases: Databases, offline_kafka: KafkaSettings) -> AsyncIterator[Registro]:
    """registro for 2024's federal process (several offices, in-person voting), during its registration."""
    url = await databases.new("registro")
    reloj = RelojManual(dt.datetime(2024, 1, 15, 16, 0, tzinfo=dt.UTC))
    app = create_app(
        Settings(database_url=url, kafka=offline_kafka, relay_enabled=False), reloj=reloj, proceso=PEF2024
    )
    async with serve(app) as client:
        yield Registro(app, client, reloj, PEF2024)
