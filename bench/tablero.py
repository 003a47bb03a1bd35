"""Benchmark: the OPL API of tablero under a steady load of requests per second (open loop: requests leave on
schedule whether or not earlier ones returned), p50/p99 latency, against the machine's ceiling measured in the
same run — the same server answering its no-op ``/healthz`` at the same rate.

    make bench                      (or: python -m bench.tablero --rps 200 --segundos 8 --solicitudes 5000)

The server is a real uvicorn process on SQLite with its projections filled from events (11 entidades,
thousands of applications); the load generator is this process (httpx, one connection pool). Each route is
first loaded for 3 s at the same rate (not measured): the figures are the steady state.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.comun import guardar, progreso
from services.tablero.handlers import build
from services.tablero.models import ProcessedEvent
from shared import migrations
from shared.auth import Rol, mint_token
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.db import make_engine, make_sessionmaker
from shared.events import registro as eventos
from shared.hijos import free_port
from shared.proceso import cargar
from shared.settings import AuthSettings

META_P99_MS = 50.0
PAISES = ["US", "US", "US", "US", "CA", "ES", "DE", "FR", "GB", "AR"]


async def _llenar(url: str, solicitudes: int) -> None:
    proceso = cargar("pel2021")
    handlers = build(proceso)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    entidades = list(proceso.entidades)
    inicio = dt.datetime(2020, 9, 1, 12, tzinfo=dt.UTC)
    async with maker() as session, session.begin():
        for n in range(solicitudes):
            env = Envelope.new(
                event_type=eventos.SOLICITUD_RECIBIDA,
                source="registro",
                aggregate_id=f"F{n}",
                data=eventos.SolicitudRecibida(
                    folio=f"F{n}",
                    entidad=entidades[n % len(entidades)],
                    modalidad="electronica" if n % 3 else "postal",
                    recibida_at=inicio + dt.timedelta(hours=n % 4000),
                    pais=PAISES[n % len(PAISES)],
                ),
            )
            await apply_once(session, ProcessedEvent, "bench", env, handlers[env.event_type])
    await engine.dispose()


async def _carga(
    base: str, ruta: str, headers: dict[str, str], rps: int, segundos: float
) -> tuple[list[float], int]:
    """Fire ``rps`` requests per second for ``segundos``; return the latencies (ms) and the errors."""
    latencias: list[float] = []
    errores = 0
    limites = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limites, timeout=10) as cliente:

        async def una() -> None:
            nonlocal errores
            t0 = time.perf_counter()
            try:
                r = await cliente.get(ruta)
                if r.status_code != 200:
                    errores += 1
            except httpx.HTTPError:
                errores += 1
            latencias.append((time.perf_counter() - t0) * 1000)

        tareas = []
        inicio = time.perf_counter()
        for i in range(int(rps * segundos)):
            espera = inicio + i / rps - time.perf_counter()
            if espera > 0:
                await asyncio.sleep(espera)
            tareas.append(asyncio.create_task(una()))
        await asyncio.gather(*tareas)
    return latencias, errores


def _p(valores: list[float], q: float) -> float:
    return statistics.quantiles(valores, n=100)[int(q) - 1] if len(valores) > 1 else valores[0]


def _arrancar(env: dict[str, str], puerto: int) -> subprocess.Popen[bytes]:
    """tablero in its own uvicorn process; returns once it answers /healthz."""
    servidor = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "services.tablero.main:create_app", "--factory", "--port",
         str(puerto), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{puerto}/healthz", timeout=1).status_code == 200:
                return servidor
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    servidor.kill()
    raise SystemExit("tablero no arrancó en 30 s")


async def medir(rps: int = 200, segundos: float = 8.0, solicitudes: int = 5_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'tablero.db'}"
        await asyncio.to_thread(migrations.upgrade, "tablero", url)
        progreso(f"tablero: llenando las proyecciones con {solicitudes:,} solicitudes…")
        await _llenar(url, solicitudes)
        puerto = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VMRE_")},
            "VMRE_TABLERO_DATABASE_URL": url,
            "VMRE_TABLERO_RELAY_ENABLED": "false",
            "VMRE_TABLERO_CONSUMERS_ENABLED": "false",
            "VMRE_TABLERO_LIMITE_PUBLICO_POR_MINUTO": "100000000",  # the load comes from one address
            "VMRE_PROCESO": "pel2021",
            "VMRE_LOG_LEVEL": "WARNING",
        }
        servidor = _arrancar(env, puerto)
        base = f"http://127.0.0.1:{puerto}"
        try:
            token = mint_token(AuthSettings(), Rol.OPL, entidad="09")
            headers = {"Authorization": f"Bearer {token}"}
            filas = []
            for nombre, ruta in (
                ("techo: /healthz (no-op)", "/healthz"),
                ("GET /v1/entidades/09/cifras", "/v1/entidades/09/cifras"),
                (
                    "GET /v1/entidades/09/series/solicitudes",
                    "/v1/entidades/09/series/solicitudes?dimension=dia",
                ),
            ):
                progreso(f"tablero: {nombre}, {rps} solicitudes/s durante {segundos:.0f} s…")
                await _carga(base, ruta, headers, rps, 3.0)  # warm-up at the same rate, not measured
                t0 = time.perf_counter()
                lat, err = await _carga(base, ruta, headers, rps, segundos)
                filas.append((nombre, len(lat) / (time.perf_counter() - t0), _p(lat, 50), _p(lat, 99), err))
        finally:
            servidor.terminate()
            servidor.wait(10)
    techo_p99 = filas[0][3]
    print(
        f"\ntablero: proyecciones llenadas con {solicitudes:,} solicitudes; {segundos:.0f} s medidos por ruta"
    )
    print(
        f"\ntablero bajo {rps} solicitudes/s ({os.cpu_count()} núcleos; servidor y carga en la misma máquina)"
    )
    print(f"{'ruta':42} {'atendidas/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errores':>8} {'p99 / techo':>11}")
    for nombre, logradas, p50, p99, err in filas:
        print(f"{nombre:42} {logradas:11.0f} {p50:8.1f} {p99:8.1f} {err:8d} {p99 / techo_p99:10.1f}×")
    peor = max(f[3] for f in filas[1:])
    cumple = peor < META_P99_MS and all(f[4] == 0 for f in filas)
    print(
        f"\nmeta: p99 < {META_P99_MS:.0f} ms a {rps} solicitudes/s en la API de los OPL → "
        f"peor p99 {peor:.1f} ms: {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado: dict[str, Any] = {
        "rps": rps,
        "segundos": segundos,
        "solicitudes_proyectadas": solicitudes,
        "rutas": {
            nombre: {"atendidas_por_s": a, "p50_ms": p50, "p99_ms": p99, "errores": err}
            for nombre, a, p50, p99, err in filas
        },
        "peor_p99_ms": peor,
        "techo_p99_ms": techo_p99,
        "meta": f"p99 < {META_P99_MS:.0f} ms a {rps} solicitudes/s",
        "meta_cumplida": cumple,
    }
    guardar("tablero", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--segundos", type=float, default=8.0)
    parser.add_argument("--solicitudes", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(medir(args.rps, args.segundos, args.solicitudes))


if __name__ == "__main__":
    main()
