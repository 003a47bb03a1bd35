"""The services as real processes (uvicorn), a real broker, real databases: driven over HTTP only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.hijos import free_port, parent_death_signal
from tests.support.comun import PG_URL, Buzon, Databases
from vmre.broker import LocalBroker

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(self, name: str, env: dict[str, str], log_dir: Path, servicio: str | None = None) -> None:
        """``name`` is the service, or (with ``servicio``) one of its processes: ``postal-relay``."""
        self.name = name
        self.servicio = servicio or name
        self.port = free_port()
        self.env = {**env, f"VMRE_{self.servicio.upper()}_PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # The child gets its own copy of the descriptor: ours closes once it has started.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    f"services.{self.servicio}.main:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=parent_death_signal,
                # Its own process group, as a pod is its own container: a kill takes what the service
                # started too (electronico's ballot verifiers, a forkserver and its workers, outlived a
                # SIGKILL otherwise).
                start_new_session=True,
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(15)

    async def wait_healthy(self, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=1) as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None, self.logs()
                assert self.process.poll() is None, self.logs()
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} no respondió /healthz en {timeout} s\n{self.logs()}")

    def logs(self) -> str:
        if not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        # Request lines drown the rest: keep what the service said about itself.
        return "\n".join([line for line in lines if '"vmre.http"' not in line][-60:])

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever it left in its group


class Stack:
    def __init__(
        self, broker: LocalBroker, urls: dict[str, str], log_dir: Path, buzon: Buzon | None = None
    ) -> None:
        self.broker = broker
        self.urls = urls
        env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
        env.update(
            {
                "VMRE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                "VMRE_LOG_FORMAT": "json",
                "VMRE_LOG_LEVEL": "INFO",
                # Where the services deliver e-mail and SMS in local mode.
                **(buzon.entorno() if buzon is not None else {}),
            }
        )
        for service, url in urls.items():
            env[f"VMRE_{service.upper()}_DATABASE_URL"] = url
            # Every request comes from 127.0.0.1: no per-client limit on public routes (shared/limites.py).
            env[f"VMRE_{service.upper()}_LIMITE_PUBLICO_POR_MINUTO"] = "100000000"
        self.services = {name: ServiceProcess(name, env, log_dir) for name in urls}

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    async def start(self) -> None:
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            await service.wait_healthy()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()


@pytest.fixture
def e2e_backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


@pytest.fixture
async def slice_stack(
    e2e_backend: str, e2e_broker: LocalBroker, tmp_path: Path, buzon: Buzon
) -> AsyncIterator[Stack]:
    dbs = Databases(e2e_backend, tmp_path)
    urls = {service: await dbs.new(service) for service in ("registro", "tablero")}
    stack = Stack(e2e_broker, urls, tmp_path, buzon)
    try:
        await stack.start()
        yield stack
    finally:
        stack.stop()
        await dbs.drop_all()
