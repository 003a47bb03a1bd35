"""``vmre run`` (what ``make run`` calls): everything up, Ctrl-C leaves no orphan, data survives a restart,
and ``vmre replay`` rebuilds the read model after the (memory-only) broker forgot everything."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.broker import free_port
from shared.settings import SERVICES
from tests.factories import solicitud

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]
VMRE = str(Path(sys.executable).parent / "vmre")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


async def wait_all_healthy(
    ports: dict[str, int], process: subprocess.Popen[bytes], log: Path, timeout: float
) -> float:
    start = time.monotonic()
    pending = set(ports)
    async with httpx.AsyncClient(timeout=1) as client:
        while pending and time.monotonic() - start < timeout:
            assert process.poll() is None, log.read_text()[-3000:]
            for service in list(pending):
                try:
                    r = await client.get(f"http://127.0.0.1:{ports[service]}/healthz")
                    if r.status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            await asyncio.sleep(0.2)
    assert not pending, f"sin /healthz: {pending}\n{log.read_text()[-3000:]}"
    return time.monotonic() - start


async def wait_total(port: int, expected: int, timeout: float = 60) -> None:
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() - start < timeout:
            body = (await client.get(f"http://127.0.0.1:{port}/v1/resumen")).json()
            if body["solicitudes"]["total"] == expected:
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"tablero no llegó a {expected}: {body}")


async def cifras(port: int) -> dict[str, object]:
    """Every projection as the dashboard reads it, without the version counter (a replay re-applies it)."""
    async with httpx.AsyncClient(timeout=5) as client:
        body: dict[str, object] = (await client.get(f"http://127.0.0.1:{port}/v1/tablero")).json()
    body.pop("version")
    return body


async def wait_cifras(port: int, expected: dict[str, object], timeout: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if (actual := await cifras(port)) == expected:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"las proyecciones no volvieron a su valor tras el replay: {actual} ≠ {expected}")


async def wait_recibo(env: dict[str, str], email: str, folio: str, timeout: float = 30) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        leido = subprocess.run(
            [VMRE, "buzon", "--para", email], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        assert leido.returncode == 0, leido.stderr
        if folio in leido.stdout:
            assert "Asunto: Su solicitud de inscripción a la LNERE: folio" in leido.stdout, leido.stdout
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"el acuse con el folio no llegó al buzón local:\n{leido.stdout}")


def start_platform(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [VMRE, "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def ctrl_c(process: subprocess.Popen[bytes]) -> list[int]:
    tree = children_of(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0
    return tree


async def test_vmre_run_arranca_detiene_y_reinicia(tmp_path: Path) -> None:
    ports = {service: free_port() for service in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    env.update({f"VMRE_{s.upper()}_PORT": str(p) for s, p in ports.items()})
    env.update({f"VMRE_{s.upper()}_LIMITE_PUBLICO_POR_MINUTO": "100000000" for s in SERVICES})
    env.update(
        {
            "VMRE_DATA_DIR": str(tmp_path / "var"),
            "VMRE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "VMRE_BUZON_SMTP": f"127.0.0.1:{free_port()}",
            "VMRE_BUZON_HTTP": f"127.0.0.1:{free_port()}",
        }
    )
    log = tmp_path / "run.log"

    platform = start_platform(env, log)
    try:
        first = await wait_all_healthy(ports, platform, log, timeout=120)
        async with httpx.AsyncClient() as client:
            r = await client.post(f"http://127.0.0.1:{ports['registro']}/v1/solicitudes", json=solicitud(1))
            assert r.status_code == 201, r.text
        folio, email = r.json()["folio"], solicitud(1)["email"]
        await wait_total(ports["tablero"], 1)
        # The receipt left over SMTP to the local mailbox `vmre run` started: `vmre buzon` reads it (README).
        await wait_recibo(env, email, folio)
        tree = ctrl_c(platform)
        assert len(tree) == 7, tree  # five services, the broker and the local mailbox
        assert not [pid for pid in tree if alive(pid)], "Ctrl-C dejó procesos huérfanos"

        platform = start_platform(env, log)
        restart = await wait_all_healthy(ports, platform, log, timeout=30)
        print(f"\nvmre run: sano en {first:.1f} s; reinicio sano en {restart:.1f} s")
        await wait_total(ports["tablero"], 1)  # the read model is on disk: it survived
        antes = await cifras(ports["tablero"])

        replay = subprocess.run(
            [VMRE, "replay"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert replay.returncode == 0, replay.stderr
        assert "registro: 1 eventos" in replay.stdout
        await wait_total(ports["tablero"], 1)  # emptied, then rebuilt from registro's outbox
        await wait_cifras(ports["tablero"], antes)  # every projection, not just the total

        async with httpx.AsyncClient() as client:
            r = await client.post(
                f"http://127.0.0.1:{ports['registro']}/v1/solicitudes",
                json=solicitud(2),
            )
            assert r.status_code == 201
        await wait_total(ports["tablero"], 2)
        ctrl_c(platform)
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGKILL)
