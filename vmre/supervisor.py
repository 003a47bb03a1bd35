"""``vmre run``: broker, topics, migrations, the local mailbox and the six services as child processes, with
one log stream.

Ctrl-C (or SIGTERM) stops the services first, then the local mailbox, then the broker, each within a bound
(a second Ctrl-C does not wait). Every child runs in its own process group, so a terminal's Ctrl-C reaches
only this process, which orders the stop; and every child gets SIGTERM if this process dies (even by
SIGKILL), so nothing is left orphaned. Data stays under ``var/`` and survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import sys
import time
from typing import Any

import httpx

from shared import migrations
from shared.bus.kafka import ensure_topics
from shared.bus.topics import all_topics
from shared.hijos import muere_con_este_proceso, port_open
from shared.notificaciones import buzon_local
from shared.proceso import ancla_por_omision
from shared.settings import KafkaSettings, data_dir
from vmre import identidad
from vmre.broker import BrokerError, LocalBroker
from vmre.servicios import service_settings

# How long each stops before SIGKILL. A service bounds its own stop (shared/web.py: uvicorn drains requests
# for up to GRACIA_HTTP s, then every step of the lifespan is bounded, 10 s at most); this is the fallback.
GRACIA_HTTP = 5
GRACIA_SERVICIOS = 12.0
GRACIA_BUZON = 3.0
GRACIA_BROKER = 3.0

COLORS = {
    "tablero": "36",
    "registro": "32",
    "postal": "33",
    "electronico": "35",
    "computo": "34",
    "credenciales": "31",
    "buzon": "37",
    "identidad": "37",
    "broker": "90",
    "vmre": "1",
}


def _say(source: str, line: str) -> None:
    tag = f"{source:<12}"
    if sys.stdout.isatty():
        tag = f"\033[{COLORS.get(source, '0')}m{tag}\033[0m"
    sys.stdout.write(f"{tag} | {line}\n")
    sys.stdout.flush()


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        _say(name, line.decode(errors="replace").rstrip())


def _bootstrap_host_port(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or "127.0.0.1", int(port or 9092)


async def run_platform(services: list[str]) -> int:
    data_dir().mkdir(parents=True, exist_ok=True)
    kafka = KafkaSettings()
    broker: LocalBroker | None = None
    children: dict[str, asyncio.subprocess.Process] = {}
    pumps: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    forzar = asyncio.Event()  # a second signal: no more waiting for anyone

    def on_signal() -> None:
        if stop.is_set() and not forzar.is_set():
            _say("vmre", "segunda señal: se detiene todo sin esperar")
            forzar.set()
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    try:
        if os.environ.get("VMRE_BROKER", "embedded") == "embedded":
            host, port = _bootstrap_host_port(kafka.bootstrap_servers)
            broker = LocalBroker(host, port, log_path=data_dir() / "broker.log")
            _say("vmre", f"iniciando broker local (Tansu, en memoria) en {broker.bootstrap} …")
            broker.start()
        else:
            _say("vmre", f"broker externo: {kafka.bootstrap_servers}")
        created = await ensure_topics(kafka, all_topics())
        _say("vmre", f"tópicos listos ({len(all_topics())}; creados ahora: {len(created)})")

        for service in services:
            _say("vmre", f"migrando la base de datos de {service} …")
            await asyncio.to_thread(migrations.upgrade, service, service_settings(service).database_url)

        host = os.environ.get("VMRE_HOST", "127.0.0.1")
        env = {
            **os.environ,
            "VMRE_LOG_FORMAT": os.environ.get("VMRE_LOG_FORMAT", "text" if sys.stdout.isatty() else "json"),
            # One anchor for every service, so a relative (demo) calendar is the same everywhere.
            "VMRE_PROCESO_ANCLA": os.environ.get("VMRE_PROCESO_ANCLA") or ancla_por_omision().isoformat(),
        }

        async def apoyo(nombre: str, modulo: str) -> None:
            """A local-mode helper the services talk to (the mailbox, the identity provider), its log ours."""
            proceso = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                modulo,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=muere_con_este_proceso(),
            )
            children[nombre] = proceso
            assert proceso.stdout is not None
            pumps.append(asyncio.create_task(_pump(nombre, proceso.stdout)))

        if os.environ.get("VMRE_MODE", "local") == "local":
            # Where the services deliver e-mail (SMTP) and SMS in local mode (vmre/buzon.py).
            (smtp_host, smtp_port), (http_host, http_port) = buzon_local()
            for puerto, variable in ((smtp_port, "VMRE_BUZON_SMTP"), (http_port, "VMRE_BUZON_HTTP")):
                if port_open(smtp_host, puerto):
                    raise BrokerError(
                        f"el puerto {puerto} del buzón local ya está ocupado; cámbielo con {variable}"
                    )
            await apoyo("buzon", "vmre.buzon")
            if os.environ.get("VMRE_CONSOLA_OIDC_URL"):
                _say("vmre", f"consola: proveedor de identidad {os.environ['VMRE_CONSOLA_OIDC_URL']}")
            elif importlib.util.find_spec("oidc_provider_mock") is None:
                _say("vmre", "consola sin proveedor de identidad local: instálelo con `make install`")
            else:
                # The staff console signs in against a local OpenID provider (vmre/identidad.py).
                id_host, id_port = identidad.direccion()
                if port_open(id_host, id_port):
                    raise BrokerError(
                        f"el puerto {id_port} del proveedor de identidad local ya está ocupado; cámbielo con "
                        "VMRE_IDENTIDAD"
                    )
                await apoyo("identidad", "vmre.identidad")
                env["VMRE_CONSOLA_OIDC_URL"] = f"http://{id_host}:{id_port}"
                env["VMRE_CONSOLA_PROVEEDOR_LOCAL"] = "true"
        for service in services:
            port = service_settings(service).port
            if port_open(host, port):
                raise BrokerError(
                    f"el puerto {port} de {service} ya está ocupado; cámbielo con VMRE_{service.upper()}_PORT"
                )
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{service}.main:create_app",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                str(GRACIA_HTTP),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=muere_con_este_proceso(),
            )
            children[service] = process
            assert process.stdout is not None
            pumps.append(asyncio.create_task(_pump(service, process.stdout)))

        await _wait_healthy(services, host, children, stop)
        if not stop.is_set():
            _say("vmre", "plataforma lista:")
            for service in services:
                port = service_settings(service).port
                _say("vmre", f"  {service:<12} http://{host}:{port}   (API: /docs)")
            if "buzon" in children:
                buzon_url = f"http://{http_host}:{http_port}"
                _say("vmre", f"  {'buzón local':<12} {buzon_url}   (correos y SMS: `vmre buzon`)")
            if "identidad" in children:
                _say(
                    "vmre",
                    f"  {'consola':<12} http://{host}:{service_settings('postal').port}/consola/sobres   "
                    f"(entra con {env['VMRE_CONSOLA_OIDC_URL']}: {', '.join(identidad.USUARIOS)})",
                )
            _say("vmre", "Ctrl-C detiene todo.")

        waiters = {asyncio.create_task(p.wait()): name for name, p in children.items()}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *waiters], return_when=asyncio.FIRST_COMPLETED)
        exit_code = 0
        for task in done:
            if task in waiters:
                name = waiters[task]
                _say("vmre", f"{name} terminó inesperadamente (código {task.result()}); se detiene todo")
                exit_code = 1
        stopper.cancel()
        return exit_code
    except BrokerError as exc:
        _say("vmre", f"error: {exc}")
        return 1
    finally:
        # The services first (they still publish and leave their consumer groups), then the mailbox they send
        # to, then the broker.
        de_apoyo = ("buzon", "identidad")
        services_running = {n: p for n, p in children.items() if n not in de_apoyo}
        await _shutdown(services_running, GRACIA_SERVICIOS, forzar)
        if any(n in children for n in de_apoyo):
            await _shutdown({n: children[n] for n in de_apoyo if n in children}, GRACIA_BUZON, forzar)
        if pumps:
            await asyncio.wait(pumps, timeout=0.5)  # the last lines of their logs
        for pump in pumps:
            pump.cancel()
        if broker is not None:
            broker.stop(0 if forzar.is_set() else GRACIA_BROKER)
            _say("vmre", "broker detenido")


async def _wait_healthy(
    services: list[str],
    host: str,
    children: dict[str, asyncio.subprocess.Process],
    stop: asyncio.Event,
    timeout: float = 60.0,
) -> None:
    pending = set(services)
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as client:
        while pending and not stop.is_set() and time.monotonic() < deadline:
            for service in list(pending):
                if children[service].returncode is not None:
                    return
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://{host}:{service_settings(service).port}/healthz")
                    if r.status_code == 200:
                        pending.discard(service)
            await asyncio.sleep(0.2)
    if pending and not stop.is_set():
        _say("vmre", f"aún sin responder tras {timeout:.0f} s: {', '.join(sorted(pending))}")


async def _shutdown(
    children: dict[str, asyncio.subprocess.Process], grace: float, forzar: asyncio.Event
) -> None:
    running = {n: p for n, p in children.items() if p.returncode is None}
    try:
        await _stop(running, grace, forzar)
    finally:
        # Each service runs in its own session: whatever it left behind (a worker pool's processes) goes too.
        for process in children.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


async def _stop(running: dict[str, asyncio.subprocess.Process], grace: float, forzar: asyncio.Event) -> None:
    if not running:
        return
    _say("vmre", f"deteniendo {', '.join(running)} …")
    inicio = time.monotonic()
    for process in running.values():
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    all_done: asyncio.Future[Any] = asyncio.gather(*(p.wait() for p in running.values()))
    forced: asyncio.Future[Any] = asyncio.ensure_future(forzar.wait())
    try:
        await asyncio.wait([all_done, forced], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    finally:
        forced.cancel()
    if not all_done.done():
        for name, process in running.items():
            if process.returncode is None:
                if not forzar.is_set():
                    _say("vmre", f"{name} no terminó a tiempo; SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        await all_done
    _say("vmre", f"detenidos en {time.monotonic() - inicio:.1f} s: {', '.join(running)}")
