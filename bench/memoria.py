"""Benchmark: resident memory (VmRSS from /proc) of each of the five service processes before and after a
stream of events, sampled as it flows — it must not grow with the number of events.

    make bench                      (or: python -m bench.memoria --segundos 75 --ritmo 400)

The goal speaks of a million events. Through the real path — committed to registro's outbox, published by its
relay, projected by tablero's consumer in one SQLite transaction each — this machine projects a few hundred
events per second (see bench.lag), so a million would take about an hour: it does not fit the ten minutes of
``make bench``. What is measured instead, and printed as such: the five services as real uvicorn processes on
the local broker; events committed into registro's outbox at ``--ritmo`` per second for ``--segundos`` (at
most 80 % of the rate tablero drained the warm-up at: a backlog in its buffers is not a leak); RSS of each
process after a warm-up of 2,000 events (the baseline), every few seconds while the events flow, and
after tablero has projected them all. The growth per 100,000 events is the slope over the second half of the
samples (after the caches have filled); the figure for a million events is that slope × 10, an
extrapolation, not a measurement. registro's relay and tablero's consumer carry the events; postal,
electronico and computo run their relays and consumers and receive none of them: they are the control, their
drift is the noise of the measurement, and the goal is that registro and tablero grow less than 10 MiB per
million events beyond it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.comun import Servicio, broker_local, entorno_base, guardar, progreso, sqlite_url, tabla
from bench.lag import Productor, _esperar_todos, _procesados
from shared import migrations

SERVICIOS = ["registro", "tablero", "postal", "electronico", "computo"]
PORTADORES = ["registro", "tablero"]  # their relay and consumer carry the events
OCIOSOS = ["postal", "electronico", "computo"]  # running, receiving none: the control
CALENTAMIENTO = 2000


def _pendiente(muestras: list[tuple[int, int]]) -> float:
    """Least-squares slope (KiB per event) of (events, KiB) samples."""
    if len(muestras) < 2:
        return 0.0
    xs, ys = [float(x) for x, _ in muestras], [float(y) for _, y in muestras]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


async def medir(segundos: float, ritmo: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vmre-bench-memoria-") as tmp_s, broker_local() as broker:
        tmp = Path(tmp_s)
        dbs = {s: tmp / f"{s}.db" for s in SERVICIOS}
        for s, ruta in dbs.items():
            await asyncio.to_thread(migrations.upgrade, s, sqlite_url(ruta))
        env = entorno_base(VMRE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, VMRE_PROCESO="demo")
        servicios = {
            s: Servicio(
                f"services.{s}.main:create_app",
                {
                    **env,
                    f"VMRE_{s.upper()}_DATABASE_URL": sqlite_url(dbs[s]),
                    "VMRE_REGISTRO_RELAY_POLL_INTERVAL": "0.05",
                },
                tmp,
            )
            for s in SERVICIOS
        }
        productor = Productor(dbs["registro"])
        muestras: dict[str, list[tuple[int, int]]] = {s: [] for s in SERVICIOS}
        try:
            for sv in servicios.values():
                sv.arrancar()
            progreso(f"memoria: calentamiento, {CALENTAMIENTO:,} eventos…")
            ids = await asyncio.to_thread(productor.de_golpe, CALENTAMIENTO)
            hechos_c = await _esperar_todos(dbs["tablero"], ids, 120)
            if len(hechos_c) < len(ids):
                raise RuntimeError("tablero no proyectó el calentamiento")
            # The stream must not outrun tablero (a backlog in the consumer's buffers is not a leak): at most
            # 80 % of the rate at which it just drained the warm-up.
            tiempos = sorted(hechos_c.values())
            drenado = (len(tiempos) - 1) / max(tiempos[-1] - tiempos[0], 1e-3)
            ritmo = max(20, min(ritmo, int(0.8 * drenado)))
            antes = {n: sv.rss_kib() for n, sv in servicios.items()}
            base = len(await asyncio.to_thread(_procesados, dbs["tablero"], list(productor.commits)))
            progreso(f"memoria: {ritmo} eventos/s durante {segundos:.0f} s, RSS cada 5 s…")
            tarea = asyncio.create_task(asyncio.to_thread(productor.a_ritmo, ritmo, segundos))
            while not tarea.done():
                await asyncio.sleep(5)
                hechos = len(await asyncio.to_thread(_procesados, dbs["tablero"], list(productor.commits)))
                for n, sv in servicios.items():
                    muestras[n].append((hechos - base, sv.rss_kib()))
            ids = await tarea
            progreso("memoria: esperando a que tablero proyecte todo…")
            hechos_d = await _esperar_todos(dbs["tablero"], list(productor.commits), 120)
            await asyncio.sleep(1)
            eventos = len(hechos_d) - base
            despues = {n: sv.rss_kib() for n, sv in servicios.items()}
            for n in SERVICIOS:
                muestras[n].append((eventos, despues[n]))
            pendientes = len(productor.commits) - len(hechos_d)
        finally:
            for sv in servicios.values():
                sv.detener()
            productor.engine.dispose()
    filas: list[list[str]] = []
    datos: dict[str, dict[str, Any]] = {}
    pendientes_100k: dict[str, float] = {}
    for n in SERVICIOS:
        segunda = muestras[n][len(muestras[n]) // 2 :]
        por_100k = _pendiente(segunda) * 100_000 / 1024  # MiB per 100,000 events
        pendientes_100k[n] = por_100k
        datos[n] = {
            "rss_antes_mib": antes[n] / 1024,
            "rss_despues_mib": despues[n] / 1024,
            "crecimiento_mib": (despues[n] - antes[n]) / 1024,
            "pendiente_mib_por_100k": por_100k,
            "muestras": muestras[n],
        }
        filas.append(
            [n, f"{antes[n] / 1024:.1f}", f"{despues[n] / 1024:.1f}",
             f"{(despues[n] - antes[n]) / 1024:+.1f}", f"{por_100k:+.1f}", f"{por_100k * 10:+.0f}"]
        )  # fmt: skip
    print(
        f"\nmemoria residente (VmRSS) de los cinco servicios: {eventos:,} eventos de registro proyectados "
        f"por tablero a través del broker en {segundos:.0f} s a {ritmo} eventos/s (80 % de lo que tablero "
        f"drenó en el calentamiento de {CALENTAMIENTO:,}: {drenado:.0f}/s)"
    )
    print(
        tabla(
            ["servicio", "antes MiB", "después MiB", "cambio", "MiB/100k ev.", "1M ev. (extrap.)"],
            filas,
        )
    )
    print(
        f"un millón de eventos por esta vía no cabe en los 10 minutos de make bench: medidos {eventos:,} "
        f"({pendientes} sin proyectar al final); la columna de 1M es la pendiente × 10, extrapolada"
    )
    # The control, measured in the same run: the three services that receive none of the events. Their drift
    # is this measurement's noise (allocator, RSS pages); the carriers must not grow beyond it.
    ruido = max(0.0, max(pendientes_100k[n] * 10 for n in OCIOSOS))
    crece = max(pendientes_100k[n] * 10 for n in PORTADORES)
    cumple = crece - ruido < 10.0 and pendientes == 0
    print(
        f"control (misma corrida): {', '.join(OCIOSOS)} no reciben estos eventos; su deriva, hasta "
        f"{ruido:+.1f} MiB extrapolados, es el ruido de la medición"
    )
    print(
        f"\nmeta: la memoria no crece con los eventos (criterio: {' y '.join(PORTADORES)} < 10 MiB "
        f"extrapolados a 1M por encima del control) → {crece:+.1f} − {ruido:.1f} = {crece - ruido:+.1f} MiB: "
        f"{'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado = {
        "eventos": eventos,
        "segundos": segundos,
        "ritmo": ritmo,
        "ritmo_drenado_calentamiento": drenado,
        "sin_proyectar": pendientes,
        "servicios": datos,
        "control_mib_1m": ruido,
        "portadores_mib_1m": crece,
        "meta": "RSS sin crecimiento con los eventos (< 10 MiB extrapolados a 1M sobre el control)",
        "meta_cumplida": cumple,
        "nota": "1M eventos no caben en el tiempo de make bench; la cifra a 1M es extrapolada",
    }
    guardar("memoria", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segundos", type=float, default=75.0)
    parser.add_argument("--ritmo", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(medir(args.segundos, args.ritmo))


if __name__ == "__main__":
    main()
