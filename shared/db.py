"""Database engine and sessions: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) when the URL says so."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import sqlite3
import weakref
from pathlib import Path
from typing import Any, cast

import aiosqlite
from sqlalchemy import DateTime, MetaData, Table, bindparam, event, inspect, select, text
from sqlalchemy.dialects.postgresql.dml import Insert as PgInsert
from sqlalchemy.dialects.sqlite.dml import Insert as SqliteInsert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

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

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:  # noqa: ARG002 — SQLAlchemy TypeDecorator signature
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store instants in UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:  # noqa: ARG002 — SQLAlchemy TypeDecorator signature
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # SQL parameters never reach an error message or a log line: they may be personal data.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

        async def conectar() -> aiosqlite.Connection:
            return await _ConexionEnLinea(
                functools.partial(sqlite3.connect, database, timeout=30, check_same_thread=False), 64
            )

        engine = create_async_engine(url, async_creator=conectar, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        if database != ":memory:":
            clave = str(Path(database).resolve())
            _ESCRITORES.setdefault(clave, _EscritorUnico()).vigilar(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


class _ConexionEnLinea(aiosqlite.Connection):
    """aiosqlite's connection, but each call runs in the event loop's thread instead of a worker thread.

    A statement of this platform takes SQLite tens of microseconds; handing it to a thread and back cost
    about 0.4 ms of CPU and a context switch each (measured: a primary-key SELECT through an AsyncSession,
    0.58 → 0.15 ms of CPU). What could make a call wait — another writer — never reaches SQLite from this
    process (``_EscritorUnico`` queues writers in asyncio first). The price: a long query (an archive, an
    export) holds the loop while it runs; this is the embedded default, PostgreSQL runs production.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


_ESCRITURAS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class _EscritorUnico:
    """One write transaction at a time per SQLite database file and process, queued in asyncio.

    SQLite has one writer. Left to itself, a connection that finds the database locked sleeps in SQLite's
    busy handler (1, 2, 5 … 100 ms, polling) while the writer ahead of it may finish in one millisecond; and
    with ``_ConexionEnLinea`` that sleep would hold the event loop, writer included. Here the first write
    statement of a transaction waits for an asyncio lock instead (woken as soon as the previous writer
    commits), and the commit, rollback or closing of that connection releases it. Reads take no lock. One
    lock per file, shared by every engine of the process on it. Other processes writing the same file (a
    ``vmre`` command) still meet SQLite's ``busy_timeout``.
    """

    ESPERA = 30.0  # seconds, as the busy_timeout: then the same "database is locked" error

    def __init__(self) -> None:
        self.candados: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.dueno: Any = None  # the DBAPI connection in a write transaction, and the lock it holds
        self.candado: asyncio.Lock | None = None

    def vigilar(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._antes)
        dialecto = sync.dialect
        for metodo in ("do_commit", "do_rollback", "do_close", "do_terminate"):
            setattr(dialecto, metodo, self._liberando(getattr(dialecto, metodo)))

    def _antes(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        dbapi = _dbapi(conn.connection)
        if self.dueno is dbapi or not statement.lstrip()[:7].upper().startswith(_ESCRITURAS):
            return
        loop = asyncio.get_running_loop()
        candado = self.candados.setdefault(loop, asyncio.Lock())
        try:
            await_only(_adquirir(candado, self.ESPERA))
        except TimeoutError:
            raise OperationalError(statement, None, Exception("database is locked")) from None
        self.dueno, self.candado = dbapi, candado

    def _liberando(self, original: Any) -> Any:
        def envuelto(dbapi_connection: Any) -> None:
            try:
                original(dbapi_connection)
            finally:
                if self.dueno is not None and self.dueno is _dbapi(dbapi_connection):
                    candado, self.dueno, self.candado = self.candado, None, None
                    assert candado is not None
                    candado.release()

        return envuelto


_ESCRITORES: dict[str, _EscritorUnico] = {}


async def _adquirir(candado: asyncio.Lock, espera: float) -> None:
    """``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` returns an acquired lock to a task
    cancelled in the same instant, swallowing the cancellation (a service's loop then never stops)."""
    async with asyncio.timeout(espera):
        await candado.acquire()


def _dbapi(conexion: Any) -> Any:
    """The driver's connection under SQLAlchemy's pool proxy (events see one, the dialect the other)."""
    return getattr(conexion, "dbapi_connection", conexion)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLAlchemy 2.0 never caches the compiled SQL of the dialects' INSERT … ON CONFLICT (their ``Insert`` says
# ``inherit_cache = False``: the ON CONFLICT clause is not part of the cache key), so every such statement was
# compiled again on each execution (the SQL log said ``[no key]``; an application and a ballot each run one).
# These subclasses put the conflict's columns in the cache key; the clause they render is always ``DO
# NOTHING`` on exactly those columns, so equal keys mean equal SQL (tests/shared/test_db.py).
def _recorrido(clase: Any) -> list[tuple[str, Any]]:
    """The dialect Insert's cache-key traversal, its ON CONFLICT clause replaced by the conflict's columns."""
    return [
        *((n, t) for n, t in clase._traverse_internals if n != "_post_values_clause"),
        ("_conflicto", InternalTraversal.dp_string_list),
    ]


class _SinConflictoPg(PgInsert):
    inherit_cache = True
    _traverse_internals = _recorrido(PgInsert)
    _conflicto: tuple[str, ...] = ()


class _SinConflictoSqlite(SqliteInsert):
    inherit_cache = True
    _traverse_internals = _recorrido(SqliteInsert)
    _conflicto: tuple[str, ...] = ()


def _insert_sin_conflicto(session: AsyncSession, model: type[Any], values: Any, conflict: list[str]) -> Any:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, in the session's dialect (PostgreSQL or SQLite); its
    compiled SQL is cached like any other statement's."""
    return _sin_conflicto(session.get_bind().dialect.name, model.__table__, tuple(conflict), False).values(
        values
    )


@functools.cache
def _sin_conflicto(dialecto: str, tabla: Table, conflicto: tuple[str, ...], con_id: bool) -> Any:
    clase = _SinConflictoPg if dialecto == "postgresql" else _SinConflictoSqlite
    stmt = clase(tabla).on_conflict_do_nothing(index_elements=list(conflicto))
    stmt._conflicto = conflicto
    return stmt.returning(tabla.c.id) if con_id else stmt


@functools.cache
def _insert_de(tabla: Table) -> Any:
    return tabla.insert()


@functools.cache
def _por_clave(model: Any, bloqueo: str | None) -> Any:
    columnas = inspect(model).primary_key
    stmt = select(model).where(*(c == bindparam(f"pk{i}") for i, c in enumerate(columnas)))
    if bloqueo is None:
        return stmt
    if bloqueo not in ("compartido", "exclusivo"):
        raise ValueError(f"bloqueo desconocido: {bloqueo!r}")
    # Under a lock the row is read again even if the session already holds it (as ``session.get`` does).
    return stmt.with_for_update(read=bloqueo == "compartido").execution_options(populate_existing=True)


async def por_clave(session: AsyncSession, model: type[Any], clave: Any, bloqueo: str | None = None) -> Any:
    """``session.get`` by primary key (a value, or a tuple for a composite key) with a statement built once:
    ``session.get`` builds and annotates its query on every call (a fifth of an application's CPU, py-spy).
    ``bloqueo``: ``"compartido"`` (FOR SHARE) or ``"exclusivo"`` (FOR UPDATE) on PostgreSQL."""
    valores = clave if isinstance(clave, tuple) else (clave,)
    parametros = {f"pk{i}": v for i, v in enumerate(valores)}
    return (await session.execute(_por_clave(cast(Any, model), bloqueo), parametros)).scalar_one_or_none()


# These rows go through the model's table (SQLAlchemy Core) with the values as parameters: no statement is
# built per call and no ORM bulk machinery runs — on the hot routes (an application, a ballot) SQLAlchemy was
# half of the CPU of a request, much of it building statements (py-spy, docs/rendimiento.md). The session is
# flushed first, so pending ORM objects still reach the database before these rows.
async def insertar(
    session: AsyncSession, model: type[Any], filas: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """A plain INSERT of one row (a dict) or many (a list; none, nothing) into the model's table."""
    if not filas:
        return  # an empty list would insert one row of defaults
    await session.flush()
    await session.execute(_insert_de(model.__table__), filas)


async def insert_if_absent(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite): True if the row was inserted.

    Concurrent inserts of one key leave exactly one row and never break the caller's transaction.
    """
    await session.flush()
    stmt = _sin_conflicto(session.get_bind().dialect.name, model.__table__, tuple(conflict), False)
    result = await session.execute(stmt, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_if_absent_id(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> int | None:
    """``insert_if_absent`` that returns the new row's ``id`` (None if the key was already there)."""
    await session.flush()
    stmt = _sin_conflicto(session.get_bind().dialect.name, model.__table__, tuple(conflict), True)
    return (await session.execute(stmt, values)).scalar_one_or_none()


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
