"""Stopping `vmre run` leaves nothing behind, in bounded time (issue #23): Ctrl-C from a terminal, SIGTERM and
SIGKILL of the supervisor, each with the broker alive or already gone; and electronico's verifier pool (a
forkserver and its workers) dies with a service that is killed.

A process belongs to a run if its environment carries the run's mark: every process the run starts inherits
it, even one its parent no longer knows (an orphan adopted by init, a pool's worker)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.e2e.test_run import ROOT, platform_env, start_platform, wait_all_healthy

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

LIMITE = 15.0  # seconds from the signal until no process of the run is left
MARCA = "PRUEBA_PARADA_MARCA"


def procesos_de(marca: str) -> dict[int, str]:
    """The live processes (a zombie is dead) whose environment carries ``marca``: pid → command line."""
    aguja = f"{MARCA}={marca}".encode()
    vivos: dict[int, str] = {}
    for entrada in os.listdir("/proc"):
        if not entrada.isdigit():
            continue
        try:
            with open(f"/proc/{entrada}/environ", "rb") as f:
                if aguja not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entrada}/stat", "rb") as f:
                estado = f.read().rpartition(b")")[2].split()[0]
            if estado in (b"Z", b"X"):
                continue
            with open(f"/proc/{entrada}/cmdline", "rb") as f:
                vivos[int(entrada)] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):  # gone meanwhile, or someone else's
            continue
    return vivos


def esperar_que_no_quede_ninguno(marca: str, limite: float) -> tuple[float, dict[int, str]]:
    """Seconds until no process of ``marca`` is left (or ``limite``), and those still alive then."""
    inicio = time.monotonic()
    while (vivos := procesos_de(marca)) and time.monotonic() - inicio < limite:
        time.sleep(0.1)
    return time.monotonic() - inicio, vivos


def matar_todo(marca: str) -> None:
    """Whatever a failed test left behind."""
    for pid in procesos_de(marca):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def esperar_grupos(ports: dict[str, int], bootstrap: str, timeout: float = 60) -> None:
    """Until every consumer of every service is a member of its group: then leaving the group needs the
    broker, and a stop without one is what used to hang ("Unable to update metadata")."""
    grupos: list[str] = []
    async with httpx.AsyncClient(timeout=5) as client:
        for port in ports.values():
            cuerpo = (await client.get(f"http://127.0.0.1:{port}/readyz")).json()
            grupos += [c["name"] for c in cuerpo["checks"].get("consumers", [])]
    assert grupos
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        inicio = time.monotonic()
        while True:
            # One group per request (the local broker's answer for several does not decode). DescribeGroups
            # v2: (error_code, group, state, protocol_type, protocol, members) per group.
            estados = {}
            for grupo in grupos:
                (g,) = (await admin.describe_consumer_groups([grupo]))[0].groups
                estados[grupo] = (g[2], len(g[5]))
            if all(estado == "Stable" and miembros for estado, miembros in estados.values()):
                return
            assert time.monotonic() - inicio < timeout, f"grupos sin miembros: {estados}"
            await asyncio.sleep(0.3)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def datos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for every case: from the second start on, the migrations are already done."""
    return tmp_path_factory.mktemp("parada") / "var"


CASOS = [
    *(
        pytest.param(senal, broker_caido, id=f"{senal}-{'sin' if broker_caido else 'con'}-broker")
        for senal in ("ctrl-c", "sigterm", "sigkill")
        for broker_caido in (False, True)
    ),
    # What left three services and a pool alive for 40 minutes: vmre killed while it waited for them.
    pytest.param("ctrl-c+sigkill", True, id="ctrl-c-y-sigkill-sin-broker"),
]


@pytest.mark.parametrize(("senal", "broker_caido"), CASOS)
async def test_detener_vmre_run_no_deja_procesos(
    datos: Path, tmp_path: Path, senal: str, broker_caido: bool
) -> None:
    env, ports = platform_env(datos)
    marca = uuid.uuid4().hex
    env[MARCA] = marca
    log = tmp_path / "run.log"
    platform = start_platform(env, log)  # leads its own process group, as in a terminal
    try:
        await wait_all_healthy(ports, platform, log, timeout=120)
        await esperar_grupos(ports, env["VMRE_KAFKA_BOOTSTRAP_SERVERS"])
        procesos = procesos_de(marca)
        # vmre, the six services, the local mailbox, the local identity provider and the broker (electronico's
        # pool starts on first use).
        assert len(procesos) == 10, procesos
        if broker_caido:
            (broker,) = [pid for pid, cmd in procesos.items() if "--listener-url" in cmd]
            os.kill(broker, signal.SIGKILL)
            # As when a terminal's Ctrl-C reaches the broker too: gone just before the stop, while the
            # services' consumers are still members of their groups (leaving them needs a broker).
            await asyncio.sleep(0.5)

        inicio = time.monotonic()
        if senal.startswith("ctrl-c"):
            os.killpg(platform.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
            if senal == "ctrl-c+sigkill":
                time.sleep(0.5)  # the services are stopping
                platform.kill()
        else:
            platform.send_signal(signal.SIGTERM if senal == "sigterm" else signal.SIGKILL)
        tiempo, vivos = esperar_que_no_quede_ninguno(marca, LIMITE)
        print(f"\n{senal}, broker {'caído' if broker_caido else 'vivo'}: nada vivo en {tiempo:.1f} s")
        assert not vivos, (
            f"quedaron vivos {time.monotonic() - inicio:.0f} s después: {vivos}\n{log.read_text()[-4000:]}"
        )

        if "sigkill" not in senal:
            assert platform.wait(5) == 0
            salida = log.read_text()
            # Every service stopped by itself, none by the supervisor's SIGKILL; then the mailbox, then the
            # broker.
            assert "no terminó a tiempo" not in salida, salida[-4000:]
            orden = [salida.index(s) for s in ("deteniendo tablero", "deteniendo buzon", "broker detenido")]
            assert orden == sorted(orden), salida[-4000:]
    finally:
        matar_todo(marca)
        if platform.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(platform.pid, signal.SIGKILL)
        platform.wait(10)


# A process that owns electronico's verifier pool with both workers started, then waits to be killed.
CON_POOL = """
import time
from services.electronico.main import pool_de_verificadores

pool = pool_de_verificadores(2)
for futuro in [pool.submit(time.sleep, 0.5) for _ in range(2)]:
    futuro.result()
print("listo", flush=True)
time.sleep(600)
"""


def test_pool_de_verificadores_muere_con_su_servicio() -> None:
    marca = uuid.uuid4().hex
    proceso = subprocess.Popen(
        [sys.executable, "-c", CON_POOL],
        cwd=ROOT,
        env={**os.environ, MARCA: marca},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proceso.stdout is not None
        assert proceso.stdout.readline() == b"listo\n"
        procesos = procesos_de(marca)
        # The service, the forkserver and its two workers (and multiprocessing's resource tracker).
        assert len(procesos) >= 4, procesos
        proceso.kill()  # only the service: not its process group, as when its own parent kills it
        tiempo, vivos = esperar_que_no_quede_ninguno(marca, 10)
        print(f"\npool de verificadores: nada vivo {tiempo:.1f} s después del SIGKILL al servicio")
        assert not vivos, vivos
    finally:
        matar_todo(marca)
        proceso.wait(10)
