"""Fixtures: the real broker (Tansu) on a free port, and fresh databases on SQLite and, when
``VMRE_TEST_DATABASE_URL`` is set, PostgreSQL (each test gets its own database)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from shared import migrations
from shared.auth import Rol, mint_token
from shared.broker import LocalBroker, free_port
from shared.settings import SERVICES, AuthSettings, KafkaSettings

PG_URL = os.environ.get("VMRE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

# In-process tests all come from one address (httpx's ASGITransport: 127.0.0.1) and many of them call public
# routes hundreds of times: the per-client limit (shared/limites.py) is lifted here. A test of the limit
# passes its own ``limite_publico_por_minuto`` to the service's Settings.
for _servicio in SERVICES:
    os.environ.setdefault(f"VMRE_{_servicio.upper()}_LIMITE_PUBLICO_POR_MINUTO", "100000000")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates one empty database per call, migrated to head; drops the PostgreSQL ones at the end."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []

    async def new(self, service: str, migrate: bool = True) -> str:
        if self.backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.tmp_path / f'{service}-{uuid.uuid4().hex[:6]}.db'}"
        else:
            assert PG_URL
            name = f"vmre_t_{service}_{uuid.uuid4().hex[:10]}"
            conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            self.created.append(name)
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        if migrate:
            await asyncio.to_thread(migrations.upgrade, service, url)
        return url

    async def drop_all(self) -> None:
        if not self.created:
            return
        assert PG_URL
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def databases(backend: str, tmp_path: Path) -> AsyncIterator[Databases]:
    dbs = Databases(backend, tmp_path)
    yield dbs
    await dbs.drop_all()


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    b = LocalBroker(port=free_port())
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def kafka_settings(broker: LocalBroker) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=broker.bootstrap)


@pytest.fixture
def offline_kafka() -> KafkaSettings:
    """A broker address where nothing listens: the broker is down."""
    return KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_ms=2000)


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    return AuthSettings()


@pytest.fixture(scope="session")
def token(auth_settings: AuthSettings) -> Callable[..., dict[str, str]]:
    def make(
        rol: str, entidad: str | None = None, partido: str | None = None, sub: str | None = None
    ) -> dict[str, str]:
        jwt = mint_token(auth_settings, Rol(rol), entidad=entidad, partido=partido, sub=sub)
        return {"Authorization": f"Bearer {jwt}"}

    return make


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumers) running, and an HTTP client on it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast feedback first: end-to-end tests (whole processes) run last."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
