"""Fixtures: the real broker (Tansu) on a free port, and fresh databases on SQLite and, when
``VMRE_TEST_DATABASE_URL`` is set, PostgreSQL (each test gets its own database)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from shared import migrations
from shared.auth import Rol, mint_token
from shared.hijos import free_port, parent_death_signal, port_open
from shared.settings import SERVICES, AuthSettings, KafkaSettings
from vmre import buzon as buzon_local
from vmre.broker import LocalBroker

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
def e2e_broker() -> Iterator[LocalBroker]:
    """A broker of the test's own: no other test's events on its topics, and it may be stopped."""
    b = LocalBroker(port=free_port())
    b.start()
    yield b
    b.stop()


@pytest.fixture
def offline_kafka() -> KafkaSettings:
    """A broker address where nothing listens: the broker is down."""
    return KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_ms=2000)


class Buzon:
    """The local mailbox (``python -m vmre.buzon``: a real SMTP server and the SMS endpoint), a process."""

    def __init__(self, directorio: Path) -> None:
        self.directorio = directorio
        self.smtp_port, self.http_port = free_port(), free_port()
        self.proceso: subprocess.Popen[bytes] | None = None
        self.desde = 0  # messages before this line belong to earlier tests

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def ajustes(self) -> dict[str, Any]:
        """What a service's Settings need to deliver here."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.smtp_port,
            "smtp_tls": "ninguno",
            "sms_url": self.http,
        }

    def entorno(self) -> dict[str, str]:
        return {
            "VMRE_BUZON_SMTP": f"127.0.0.1:{self.smtp_port}",
            "VMRE_BUZON_HTTP": f"127.0.0.1:{self.http_port}",
        }

    def iniciar(self) -> None:
        self.proceso = subprocess.Popen(
            [sys.executable, "-m", "vmre.buzon", "--dir", str(self.directorio)],
            env={**os.environ, **self.entorno()},
            stdout=subprocess.DEVNULL,
            preexec_fn=parent_death_signal,
        )
        limite = time.monotonic() + 30
        while not (port_open("127.0.0.1", self.smtp_port) and port_open("127.0.0.1", self.http_port)):
            assert self.proceso.poll() is None, "el buzón local terminó al arrancar"
            assert time.monotonic() < limite, "el buzón local no abrió sus puertos en 30 s"
            time.sleep(0.05)

    def detener(self) -> None:
        if self.proceso is not None and self.proceso.poll() is None:
            self.proceso.terminate()
            self.proceso.wait(10)

    def mensajes(self, para: str | None = None) -> list[dict[str, Any]]:
        return list(buzon_local.leer(buzon_local.archivo(self.directorio), para, self.desde))

    def nuevo_comienzo(self) -> None:
        self.desde = sum(1 for _ in buzon_local.leer(buzon_local.archivo(self.directorio)))


@pytest.fixture(scope="session")
def buzon_sesion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Buzon]:
    b = Buzon(tmp_path_factory.mktemp("buzon"))
    b.iniciar()
    yield b
    b.detener()


@pytest.fixture
def buzon(buzon_sesion: Buzon) -> Buzon:
    """The mailbox, showing only what this test sends."""
    buzon_sesion.nuevo_comienzo()
    return buzon_sesion


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    return AuthSettings()


@pytest.fixture(scope="session")
def token(auth_settings: AuthSettings) -> Callable[..., dict[str, str]]:
    def make(
        rol: str,
        entidad: str | None = None,
        partido: str | None = None,
        sub: str | None = None,
        sede: str | None = None,
    ) -> dict[str, str]:
        jwt = mint_token(auth_settings, Rol(rol), entidad=entidad, partido=partido, sub=sub, sede=sede)
        return {"Authorization": f"Bearer {jwt}"}

    return make


@asynccontextmanager
async def en_http(
    app: Any, *, puerto: int | None = None, lifespan: Literal["auto", "on", "off"] = "auto"
) -> AsyncIterator[str]:
    """An ASGI app on a real loopback port (its base URL), for what ASGITransport cannot do: stream
    (Server-Sent Events), serve a real browser, answer before reading a body, receive a webhook."""
    puerto = puerto or free_port()
    configuracion = uvicorn.Config(app, host="127.0.0.1", port=puerto, log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(configuracion)
    tarea = asyncio.create_task(server.serve())
    while not server.started:
        if tarea.done():
            tarea.result()  # it could not start: say why
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{puerto}"
    finally:
        server.should_exit = True
        await tarea


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumers) running, and an HTTP client on it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


# What a fixture brings that `make test-unit` goes without (markers in pyproject.toml): a test that uses it,
# directly or through other fixtures, gets the marker. A test that starts an outside program itself (Chromium,
# kubectl, checkov…) says so with ``pytest.mark.externo``; one that takes seconds of CPU, with
# ``pytest.mark.slow``.
MARCADORES_POR_FIXTURE = {
    "broker": "kafka",  # the session's local Tansu broker
    "kafka_settings": "kafka",
    "e2e_broker": "kafka",
    "belenios": "externo",  # belenios-tool 3.0, the reference implementation
    "eleccion_de_belenios": "externo",
    "abierta": "slow",  # an election opened: five custodians' key ceremony, seconds of CPU
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from the fixtures each test uses; then fast feedback first: end-to-end tests (whole processes)
    run last."""
    for item in items:
        fixturas = set(getattr(item, "fixturenames", ()))
        for fixtura, marcador in MARCADORES_POR_FIXTURE.items():
            if fixtura in fixturas and item.get_closest_marker(marcador) is None:
                item.add_marker(marcador)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
