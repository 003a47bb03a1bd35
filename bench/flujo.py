"""Benchmark: the live stream of the dashboard (``GET /v1/tablero/stream``, Server-Sent Events) with 1,000
clients connected at once — the server's CPU and memory, its reads of the database, and how long a change
takes to reach every listener.

    make bench                      (or: python -m bench.flujo --clientes 1000 --segundos 30)

tablero is a real uvicorn process on SQLite with its projections filled (``bench.tablero``: 5,000
applications); the per-client cap is lifted (the load comes from one address) and the heartbeat is every
5 s (15 by default) so that a 30 s run shows them. In order, the server's CPU (% of one core) and resident
memory (from /proc, sampled every 50 ms) in each phase:

1. **Idle**: 5 s with nobody connected.
2. **Connect**: the clients open their streams at once (half all entidades, half entidad 09); the time each
   takes to get its first event.
3. **Steady**: ``--segundos`` s with a new application of entidad 14 committed every 2 s (written into the
   database by this process, as tablero's consumer would): from each commit to its arrival at each client
   listening to all entidades (the ones of 09 see no change: they get heartbeats); the reads of the version
   and the views computed (``vmre_tablero_flujo_*`` in ``/metrics``).

The clients are httpx streams in this process: their CPU is reported too (the ceiling must be the server's).
``--raiz DIR`` runs the server from another source tree, to measure an older version the same way (it may
have no ``vmre_tablero_flujo_*`` metrics).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.comun import RAIZ, Muestreo, Servicio, entorno_base, guardar, nucleos, p, progreso, sqlite_url
from bench.tablero import _llenar
from services.tablero.handlers import build
from services.tablero.models import ProcessedEvent
from shared import migrations
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.db import make_engine, make_sessionmaker
from shared.events import registro as eventos
from shared.proceso import cargar

LATIDO = 5.0
META_P99_S = 1.5  # goal: a change reaches every listener within the poll interval (1 s) and a half
META_CPU_PCT = 100.0  # … with the server under one core (1,000 viewers on one process, issue #28)


class Cliente:
    """One listener: the arrival time and total of each event, and its heartbeats."""

    def __init__(self, entidad: str | None) -> None:
        self.entidad = entidad
        self.llegadas: list[tuple[float, int]] = []  # (time.time(), solicitudes.total)
        self.latidos = 0
        self.conectado_en: float | None = None
        self.error: str | None = None

    async def escuchar(self, cliente: httpx.AsyncClient, inicio: float) -> None:
        params = {"entidad": self.entidad} if self.entidad else {}
        try:
            async with cliente.stream("GET", "/v1/tablero/stream", params=params) as r:
                if r.status_code != 200:
                    self.error = f"{r.status_code}"
                    return
                async for linea in r.aiter_lines():
                    if linea.startswith("data: "):
                        total = json.loads(linea[6:])["solicitudes"]["total"]
                        ahora = time.time()
                        if self.conectado_en is None:
                            self.conectado_en = time.perf_counter() - inicio
                        self.llegadas.append((ahora, total))
                    elif linea.startswith(": "):
                        self.latidos += 1
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__


async def _metricas(base: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as c:
        texto = (await c.get(f"{base}/metrics")).text
    valores = {}
    for linea in texto.splitlines():
        if linea.startswith("vmre_tablero_flujo_") and " " in linea:
            nombre, valor = linea.rsplit(" ", 1)
            valores[nombre] = float(valor)
    return valores


def _cpu_propio() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def medir(
    clientes: int = 1000, segundos: float = 30.0, solicitudes: int = 5_000, raiz: Path = RAIZ
) -> dict[str, Any]:
    proceso = cargar("pel2021")
    handlers = build(proceso)
    with tempfile.TemporaryDirectory(prefix="vmre-bench-flujo-") as tmp_s:
        tmp = Path(tmp_s)
        url = sqlite_url(tmp / "tablero.db")
        await asyncio.to_thread(migrations.upgrade, "tablero", url)
        progreso(f"flujo: llenando las proyecciones con {solicitudes:,} solicitudes…")
        await _llenar(url, solicitudes)
        servidor = Servicio(
            "services.tablero.main:create_app",
            entorno_base(
                VMRE_TABLERO_DATABASE_URL=url,
                VMRE_TABLERO_RELAY_ENABLED="false",
                VMRE_TABLERO_CONSUMERS_ENABLED="false",
                VMRE_TABLERO_FLUJO_POR_CLIENTE=str(clientes + 10),  # the load comes from one address
                VMRE_TABLERO_FLUJO_MAXIMO=str(max(1000, clientes + 10)),
                VMRE_TABLERO_FLUJO_LATIDO=str(LATIDO),
            ),
            tmp,
            raiz=raiz,
        )
        engine = make_engine(url)
        maker = make_sessionmaker(engine)
        oyentes = [Cliente(None if i % 2 == 0 else "09") for i in range(clientes)]
        commits: list[tuple[float, int]] = []
        try:
            servidor.arrancar()
            progreso("flujo: 5 s sin nadie conectado…")
            async with Muestreo(servidor.pid) as ocioso:
                await asyncio.sleep(5)
            limites = httpx.Limits(max_connections=clientes + 10, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=servidor.url, limits=limites, timeout=None) as cliente:
                progreso(f"flujo: {clientes} clientes se conectan a la vez…")
                async with Muestreo(servidor.pid) as conexion:
                    inicio = time.perf_counter()
                    tareas = [asyncio.create_task(o.escuchar(cliente, inicio)) for o in oyentes]
                    limite = time.monotonic() + 60
                    while time.monotonic() < limite:
                        if all(o.conectado_en is not None or o.error for o in oyentes):
                            break
                        await asyncio.sleep(0.05)
                antes = await _metricas(servidor.url)
                progreso(f"flujo: {segundos:.0f} s con un cambio cada 2 s…")
                cpu0 = _cpu_propio()
                async with Muestreo(servidor.pid) as estable:
                    azar = random.Random(23)
                    for n in range(int(segundos // 2)):
                        await asyncio.sleep(1.5 + azar.random())  # 2 s on average, any phase of the poll
                        async with maker() as session, session.begin():
                            env = Envelope.new(
                                event_type=eventos.SOLICITUD_RECIBIDA,
                                source="registro",
                                aggregate_id=f"FLUJO{n}",
                                data=eventos.SolicitudRecibida(
                                    folio=f"FLUJO{n}",
                                    entidad="14",
                                    modalidad="electronica",
                                    recibida_at=dt.datetime.now(dt.UTC),
                                    pais="US",
                                ),
                            )
                            await apply_once(session, ProcessedEvent, "bench", env, handlers[env.event_type])
                        commits.append((time.time(), solicitudes + n + 1))
                    await asyncio.sleep(2.0)  # the last change's delivery
                cpu_carga = _cpu_propio() - cpu0
                despues = await _metricas(servidor.url)
                conectados = sum(1 for o in oyentes if o.conectado_en is not None)
                for t in tareas:
                    t.cancel()
                await asyncio.gather(*tareas, return_exceptions=True)
            rss_final = servidor.rss_kib() / 1024
        finally:
            servidor.detener()
            await engine.dispose()

    entregas = []  # seconds from each commit to its arrival at each client of all entidades
    perdidas = 0
    for o in oyentes:
        if o.entidad is not None:
            continue
        for t_commit, total in commits:
            llegada = next((t for t, visto in o.llegadas if visto >= total), None)
            if llegada is None:
                perdidas += 1
            else:
                entregas.append(max(0.0, llegada - t_commit))
    conexiones = [o.conectado_en for o in oyentes if o.conectado_en is not None]
    latidos_09 = [o.latidos for o in oyentes if o.entidad == "09"]
    errores = sorted({o.error for o in oyentes if o.error})
    sondeos = despues.get("vmre_tablero_flujo_sondeos_total", 0) - antes.get(
        "vmre_tablero_flujo_sondeos_total", 0
    )
    calculos = despues.get("vmre_tablero_flujo_calculos_total", 0) - antes.get(
        "vmre_tablero_flujo_calculos_total", 0
    )
    p99 = p(entregas, 99)
    cumple = conectados == clientes and not perdidas and p99 < META_P99_S and estable.cpu_pct < META_CPU_PCT

    todas, de_09 = clientes // 2, clientes - clientes // 2
    por_s = sondeos / estable.segundos
    lineas = [
        f"\nflujo en vivo: {clientes} clientes SSE ({todas} de todas las entidades, {de_09} de la 09), "
        f"servidor tablero (uvicorn, 1 proceso, SQLite, {solicitudes:,} solicitudes proyectadas) y clientes "
        f"en la misma máquina ({nucleos()} núcleos); latido cada {LATIDO:.0f} s",
        f"ocioso (5 s, nadie conectado): CPU {ocioso.cpu_pct:.1f} % de un núcleo, "
        f"RSS {ocioso.rss_final_mib:.0f} MiB",
        f"conexión: {conectados}/{clientes} con su primer evento en {max(conexiones, default=0):.2f} s "
        f"(p50 {p(conexiones, 50):.2f} s, p99 {p(conexiones, 99):.2f} s); CPU {conexion.cpu_s:.2f} s; RSS "
        f"{conexion.rss_inicial_mib:.0f} → {conexion.rss_pico_mib:.0f} MiB",
        f"estable ({estable.segundos:.0f} s, {len(commits)} cambios): CPU del servidor {estable.cpu_s:.2f} s "
        f"= {estable.cpu_pct:.1f} % de un núcleo; RSS {estable.rss_inicial_mib:.0f} → pico "
        f"{estable.rss_pico_mib:.0f} MiB; lecturas de la versión {sondeos:.0f} ({por_s:.2f}/s para los "
        f"{clientes}), vistas calculadas {calculos:.0f}",
        f"entrega de cada cambio a cada cliente de todas las entidades: {len(entregas)} entregas, p50 "
        f"{p(entregas, 50):.2f} s, p99 {p99:.2f} s, máx {max(entregas, default=0):.2f} s, "
        f"{perdidas} perdidas; latidos por cliente de la 09: "
        f"{min(latidos_09, default=0)}–{max(latidos_09, default=0)}",
        f"clientes (este proceso): CPU {cpu_carga:.2f} s en {estable.segundos:.0f} s "
        f"({100 * cpu_carga / estable.segundos:.1f} % de un núcleo); errores: {errores or 'ninguno'}; "
        f"RSS del servidor al final {rss_final:.0f} MiB",
        f"meta: cada cambio llega a los {clientes} clientes con p99 < {META_P99_S} s, sin pérdidas, con el "
        f"servidor por debajo de un núcleo → {'cumplida' if cumple else 'NO cumplida'}",
    ]
    print("\n".join(lineas))
    resultado: dict[str, Any] = {
        "clientes": clientes,
        "latido_s": LATIDO,
        "ocioso": {"cpu_pct": ocioso.cpu_pct, "rss_mib": ocioso.rss_final_mib},
        "conexion": {
            "conectados": conectados,
            "p50_s": p(conexiones, 50),
            "p99_s": p(conexiones, 99),
            "max_s": max(conexiones, default=0),
            "cpu_s": conexion.cpu_s,
            "rss_inicial_mib": conexion.rss_inicial_mib,
            "rss_pico_mib": conexion.rss_pico_mib,
        },
        "estable": {
            "segundos": estable.segundos,
            "cambios": len(commits),
            "cpu_s": estable.cpu_s,
            "cpu_pct": estable.cpu_pct,
            "rss_inicial_mib": estable.rss_inicial_mib,
            "rss_pico_mib": estable.rss_pico_mib,
            "lecturas_version": sondeos,
            "vistas_calculadas": calculos,
            "entrega_p50_s": p(entregas, 50),
            "entrega_p99_s": p99,
            "entrega_max_s": max(entregas, default=0),
            "perdidas": perdidas,
            "latidos_09": [min(latidos_09, default=0), max(latidos_09, default=0)],
            "cpu_clientes_s": cpu_carga,
        },
        "errores": errores,
        "meta": f"cada cambio a {clientes} clientes con p99 < {META_P99_S} s; servidor < 1 núcleo",
        "meta_cumplida": cumple,
    }
    guardar("flujo" if raiz == RAIZ else "flujo-otra-raiz", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clientes", type=int, default=1000)
    parser.add_argument("--segundos", type=float, default=30.0)
    parser.add_argument("--solicitudes", type=int, default=5_000)
    parser.add_argument("--raiz", type=Path, default=RAIZ, help="el árbol de fuentes del servidor")
    args = parser.parse_args()
    asyncio.run(medir(args.clientes, args.segundos, args.solicitudes, args.raiz))


if __name__ == "__main__":
    main()
