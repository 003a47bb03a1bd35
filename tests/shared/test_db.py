"""shared/db.py's inserts on a real database (SQLite and PostgreSQL): ON CONFLICT DO NOTHING whose compiled
SQL is cached (SQLAlchemy 2.0 compiled it on every execution), keyed by its conflict's columns, and plain
inserts through the table that still come after the session's pending ORM objects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, select

from services.tablero.models import Outbox, ProcessedEvent
from shared.db import insert_if_absent, insert_if_absent_id, insertar, make_engine, make_sessionmaker
from tests.support.comun import Databases


@pytest.fixture
async def tablero_db(databases: Databases):  # type: ignore[no-untyped-def]
    engine = make_engine(await databases.new("tablero"))
    vistas: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _ver(*args: Any) -> None:  # conn, cursor, statement, parameters, context, executemany
        statement, context = args[2], args[4]
        vistas.append((statement, context.cache_hit == context.dialect.CACHE_HIT))

    yield make_sessionmaker(engine), vistas
    await engine.dispose()


def _fila(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "topic": "t", "key": "k", "event_type": "e", "payload": "{}"}


async def test_on_conflict_se_compila_una_vez_y_su_clave_incluye_el_conflicto(tablero_db) -> None:  # type: ignore[no-untyped-def]
    maker, vistas = tablero_db
    async with maker() as session, session.begin():
        e1, e2 = str(uuid.uuid4()), str(uuid.uuid4())
        assert await insert_if_absent(
            session, ProcessedEvent, {"consumer": "c", "event_id": e1}, ["consumer", "event_id"]
        )
        assert not await insert_if_absent(
            session, ProcessedEvent, {"consumer": "c", "event_id": e1}, ["consumer", "event_id"]
        )
        assert await insert_if_absent(
            session, ProcessedEvent, {"consumer": "c", "event_id": e2}, ["consumer", "event_id"]
        )
        inserciones = [v for v in vistas if "INSERT INTO processed_events" in v[0]]
        assert [hit for _, hit in inserciones] == [False, True, True]
        # Same table and columns, another conflict target: another statement, never the cached one.
        vistas.clear()
        nuevo = await insert_if_absent_id(session, Outbox, _fila(e1), ["event_id"])
        assert nuevo is not None
        assert await insert_if_absent_id(session, Outbox, _fila(e1), ["event_id"]) is None
        assert not await insert_if_absent(session, Outbox, {**_fila(e2), "id": nuevo}, ["id"])
        assert await insert_if_absent(session, Outbox, _fila(e2), ["event_id"])
        sql = [s for s, _ in vistas if "INSERT INTO outbox" in s]
        assert sum("ON CONFLICT (event_id)" in s for s in sql) == 3
        assert sum("ON CONFLICT (id)" in s for s in sql) == 1
        total = await session.scalar(select(func.count()).select_from(Outbox))
        assert total == 2


async def test_insertar_va_despues_de_los_objetos_pendientes_de_la_sesion(tablero_db) -> None:  # type: ignore[no-untyped-def]
    maker, _ = tablero_db
    e = str(uuid.uuid4())
    async with maker() as session, session.begin():
        session.add(ProcessedEvent(consumer="c", event_id=e))  # pending, not flushed
        assert not await insert_if_absent(
            session, ProcessedEvent, {"consumer": "c", "event_id": e}, ["consumer", "event_id"]
        )
        await insertar(session, Outbox, [_fila(str(uuid.uuid4())), _fila(str(uuid.uuid4()))])
        await insertar(session, Outbox, _fila(str(uuid.uuid4())))
        await insertar(session, Outbox, [])  # nothing (not a row of defaults)
    async with maker() as session:
        assert await session.scalar(select(func.count()).select_from(Outbox)) == 3
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
