"""Soak: one million events for real (``make soak``) — committed into registro's outbox, published by its
relay through the local broker, projected by tablero's consumer — with the resident memory (VmRSS from /proc)
of each of the five services every 50,000 events. Not extrapolated: the figure per million is what each
process grew from the baseline (after a warm-up of 20,000 events) to the end.

    make soak                       (or: python -m bench.soak --eventos 1000000 --cada 50000)
    python -m bench.soak --eventos 100000 --tracemalloc     what grows in tablero, by line (slower)

registro's relay and tablero's consumer carry the events; postal, electronico and computo run their relays
and consumers and receive none of them: they are the control, their drift is the noise of the measurement.
The goal: registro and tablero grow less than 10 MiB per million events beyond the control. The events are
produced as fast as tablero projects them (at most 20,000 ahead of it): a backlog in the broker is not a
leak, and the run lasts what tablero takes (about 15–30 min for a million on 2 cores). With
``--tracemalloc``, tablero runs with Python's tracemalloc and dumps a snapshot at the baseline and at the end
(``VMRE_TRACEMALLOC_DIR``, signal SIGUSR1); the lines whose allocations grew most are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.comun import Servicio, broker_local, entorno_base, guardar, progreso, sqlite_url, tabla
from bench.lag import CONSUMIDOR, Productor
from shared import migrations

SERVICIOS = ["registro", "tablero", "postal", "electronico", "computo"]
PORTADORES = ["registro", "tablero"]
OCIOSOS = ["postal", "electronico", "computo"]
CALENTAMIENTO = 20_000
ADELANTO = 20_000  # events produced ahead of what tablero projected, at most
META_MIB = 10.0


def _proyectados(ruta_db: Path) -> int:
    con = sqlite3.connect(ruta_db, timeout=30)
    try:
        consulta = "SELECT count(*) FROM processed_events WHERE consumer = ?"
        return int(con.execute(consulta, (CONSUMIDOR,)).fetchone()[0])
    finally:
        con.close()


async def _hasta(ruta_db: Path, productor: Productor, objetivo: int, limite_s: float) -> int:
    """Produce events (keeping at most ADELANTO ahead of tablero) until tablero has projected ``objetivo``;
    returns how many it has projected."""
    fin = time.monotonic() + limite_s
    while True:
        hechos = await asyncio.to_thread(_proyectados, ruta_db)
        if hechos >= objetivo:
            return hechos
        if time.monotonic() > fin:
            raise RuntimeError(f"tablero proyectó {hechos:,} de {objetivo:,} en {limite_s:.0f} s")
        faltan = min(objetivo - productor.n, ADELANTO - (productor.n - hechos))
        if faltan > 0:
            await asyncio.to_thread(productor.de_golpe, min(faltan, 2_000))
        else:
            await asyncio.sleep(0.2)


def _instantanea(directorio: Path, pid: int, nombre: str) -> Path:
    """Ask tablero (SIGUSR1) for a tracemalloc snapshot; wait for the file."""
    ruta = directorio / f"{nombre}.tracemalloc"
    marca = directorio / "ultima.tracemalloc"
    marca.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(600):
        if marca.exists():
            marca.rename(ruta)
            return ruta
        time.sleep(0.1)
    raise RuntimeError("tablero no escribió la instantánea de tracemalloc")


async def medir(eventos: int, cada: int, con_tracemalloc: bool = False) -> dict[str, Any]:
    inicio = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vmre-soak-") as tmp_s, broker_local() as broker:
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
                    **({"VMRE_TRACEMALLOC_DIR": str(tmp)} if con_tracemalloc and s == "tablero" else {}),
                },
                tmp,
            )
            for s in SERVICIOS
        }
        productor = Productor(dbs["registro"])
        muestras: list[dict[str, Any]] = []
        diferencias: list[str] = []
        try:
            for sv in servicios.values():
                sv.arrancar()
            progreso(f"soak: calentamiento, {CALENTAMIENTO:,} eventos…")
            await _hasta(dbs["tablero"], productor, CALENTAMIENTO, 1800)
            await asyncio.sleep(2)
            base = await asyncio.to_thread(_proyectados, dbs["tablero"])
            t0 = time.perf_counter()
            muestras.append({"eventos": 0, "s": 0.0, **{n: sv.rss_kib() for n, sv in servicios.items()}})
            if con_tracemalloc:
                antes = await asyncio.to_thread(_instantanea, tmp, servicios["tablero"].pid, "base")
            while muestras[-1]["eventos"] < eventos:
                objetivo = base + min(eventos, muestras[-1]["eventos"] + cada)
                hechos = await _hasta(dbs["tablero"], productor, objetivo, 3600)
                fila = {"eventos": hechos - base, "s": time.perf_counter() - t0}
                fila.update({n: sv.rss_kib() for n, sv in servicios.items()})
                muestras.append(fila)
                progreso(
                    f"soak: {fila['eventos']:,} eventos en {fila['s']:.0f} s "
                    f"({fila['eventos'] / max(fila['s'], 1e-3):.0f}/s); RSS MiB "
                    + ", ".join(f"{n} {fila[n] / 1024:.1f}" for n in SERVICIOS)
                )
            if con_tracemalloc:
                despues = await asyncio.to_thread(_instantanea, tmp, servicios["tablero"].pid, "fin")
                a = tracemalloc.Snapshot.load(str(antes))
                d = tracemalloc.Snapshot.load(str(despues))
                diferencias = [str(x) for x in d.compare_to(a, "lineno")[:15]]
        finally:
            for sv in servicios.values():
                sv.detener()
            productor.engine.dispose()
    total = muestras[-1]["eventos"]
    por_millon = {n: (muestras[-1][n] - muestras[0][n]) / 1024 * 1_000_000 / total for n in SERVICIOS}
    ruido = max(0.0, max(por_millon[n] for n in OCIOSOS))
    crece = max(por_millon[n] for n in PORTADORES)
    cumple = crece - ruido < META_MIB
    duracion = muestras[-1]["s"]
    print(
        f"\nsoak: {total:,} eventos de registro proyectados por tablero a través del broker en "
        f"{duracion / 60:.1f} min ({total / duracion:.0f}/s), tras un calentamiento de {CALENTAMIENTO:,}; "
        f"RSS (VmRSS) de cada servicio, MiB"
    )
    paso = max(1, (len(muestras) - 1) // 10)
    filas = [
        [f"{m['eventos']:,}", f"{m['s']:.0f}", *(f"{m[n] / 1024:.1f}" for n in SERVICIOS)]
        for i, m in enumerate(muestras)
        if i % paso == 0 or i == len(muestras) - 1
    ]
    print(tabla(["eventos", "s", *SERVICIOS], filas))
    print(
        "crecimiento por millón (medido): "
        + ", ".join(f"{n} {por_millon[n]:+.1f} MiB" for n in SERVICIOS)
        + f"; control ({', '.join(OCIOSOS)}) hasta {ruido:+.1f}"
    )
    mitad = min(muestras, key=lambda m: abs(m["eventos"] - total / 2))
    segunda = {n: (muestras[-1][n] - mitad[n]) / 1024 for n in SERVICIOS}
    print(
        f"en la segunda mitad ({mitad['eventos']:,} → {total:,} eventos, medido): "
        + ", ".join(f"{n} {segunda[n]:+.1f} MiB" for n in SERVICIOS)
        + " (lo que crece al principio y se detiene es calentamiento; una fuga sigue creciendo)"
    )
    if diferencias:
        print("\ntracemalloc de tablero, lo que más creció entre la base y el final (por línea):")
        print("\n".join(diferencias))
    print(
        f"\nmeta: {' y '.join(PORTADORES)} crecen < {META_MIB:.0f} MiB por millón sobre el control → "
        f"{crece:+.1f} − {ruido:.1f} = {crece - ruido:+.1f} MiB: {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado = {
        "eventos": total,
        "cada": cada,
        "minutos": duracion / 60,
        "total_min": (time.perf_counter() - inicio) / 60,
        "muestras_kib": muestras,
        "crecimiento_mib_por_millon": por_millon,
        "crecimiento_mib_segunda_mitad": segunda,
        "control_mib_por_millon": ruido,
        "portadores_mib_por_millon": crece,
        "tracemalloc_tablero": diferencias,
        "meta": f"registro y tablero < {META_MIB:.0f} MiB por millón de eventos sobre el control (medido)",
        "meta_cumplida": cumple,
    }
    guardar("soak", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eventos", type=int, default=1_000_000)
    parser.add_argument("--cada", type=int, default=50_000)
    parser.add_argument("--tracemalloc", action="store_true", help="instantáneas de tracemalloc en tablero")
    args = parser.parse_args()
    asyncio.run(medir(args.eventos, args.cada, args.tracemalloc))


if __name__ == "__main__":
    main()
