"""Database engine and sessions: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) when the URL says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

# The largest value of an INTEGER column on PostgreSQL (int4) and of a BIGINT. Ids, numbers and cursors that
# reach a query are bounded by them in the API, so that a huge number is a 422 and not a driver overflow.
ENTERO_MAX = 2**31 - 1
ENTERO_GRANDE_MAX = 2**63 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """timestamptz on PostgreSQL; on SQLite a naive value read back as UTC. Always aware in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store instants in UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # SQL parameters never reach an error message or a log line: they may be personal data.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _insert_sin_conflicto(session: AsyncSession, model: type[Any], values: Any, conflict: list[str]) -> Any:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, in the session's dialect (PostgreSQL or SQLite)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model).values(values).on_conflict_do_nothing(index_elements=conflict)


async def insert_if_absent(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite): True if the row was inserted.

    Concurrent inserts of one key leave exactly one row and never break the caller's transaction.
    """
    result = await session.execute(_insert_sin_conflicto(session, model, values, conflict))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_if_absent_id(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> int | None:
    """``insert_if_absent`` that returns the new row's ``id`` (None if the key was already there)."""
    stmt = _insert_sin_conflicto(session, model, values, conflict).returning(model.id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def insert_many_if_absent(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """``insert_if_absent`` for many rows (same keys), a page per statement: how many were inserted."""
    por_pagina = max(1, 30_000 // len(rows[0]))  # under both drivers' limit of bound parameters per statement
    nuevos = 0
    for i in range(0, len(rows), por_pagina):
        stmt = _insert_sin_conflicto(session, model, rows[i : i + por_pagina], conflict)
        nuevos += (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
    return nuevos


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success, roll back on any error."""
    async with maker() as session, session.begin():
        yield session
