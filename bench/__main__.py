"""Every benchmark in sequence, then a summary with each goal met or not (``make bench``).

    python -m bench                  the suite (under 10 minutes on 2 cores, with the ballot cache)
    python -m bench --rapido         small sizes, to check that everything runs (figures not comparable)

Each benchmark prints its own table with the machine's ceiling measured in the same run, and merges its
figures into bench/results/<YYYY-MM-DD>.json; progress goes to stderr. The first run on a machine also makes
the real ballots of bench.voto and bench.computo (a minute on 2 cores) and keeps them in var/bench/. The
memory over a million events is ``make soak`` (bench.soak), not part of this suite.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from bench import archivo, computo, flujo, lag, pedersen, registro, tablero, voto
from bench.comun import guardar, maquina, progreso, tabla


def _resumen_registro(r: dict[str, Any]) -> str:
    x = r["registro"]
    return (
        f"{x['por_s']:.0f} solicitudes/s, p50 {x['p50_ms']:.0f} ms, p99 {x['p99_ms']:.0f} ms; "
        f"{r['razon']:.1%} del no-op (wrk; el generador envía {r['holgura_generador']:.0f}× el no-op)"
    )


def _resumen_voto(r: dict[str, Any]) -> str:
    return (
        f"{r['por_s']:.0f} boletas/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; "
        f"{r['razon']:.0%} de verificar en los mismos núcleos ({r['techo_verificar_por_s']:.0f}/s)"
    )


def _resumen_lag(r: dict[str, Any]) -> str:
    a500 = [f for f in r["pasos"] if f["ritmo"] == lag.META_RITMO]
    en_meta = (
        f"p99 a {lag.META_RITMO}/s: " + ", ".join(f"{f['p99_s']:.2f} s" for f in a500)
        if a500
        else f"{lag.META_RITMO}/s no alcanzado"
    )
    return f"{en_meta}; mayor ritmo con p99 < 1 s: {r['mayor_ritmo_p99_bajo_1s']}/s"


def _resumen_computo(r: dict[str, Any]) -> str:
    return "; ".join(
        f"{c['boletas']:,} boletas: servidor {c['servidor_s']:.1f} s (custodios verifican "
        f"{c['custodios_verifican_s']:.0f} s)"
        for c in r["corridas"]
    )


def _resumen_tablero(r: dict[str, Any]) -> str:
    return (
        f"peor ruta {r['peor_razon']:.0%} del no-op ({r['techo_por_s']:,.0f}/s); peor p99 al 80 % "
        f"{r['peor_p99_ms']:.1f} ms"
    )


def _resumen_archivo(r: dict[str, Any]) -> str:
    sellada = r["fases"][-1]
    return (
        f"{sellada['descargas']} descargas de {r['archivo_mib']:.0f} MiB ({r['boletas']:,} boletas): "
        f"{sellada['mib_por_s']:.0f} MiB/s, servidor +{r['crecimiento_sellada_mib']:.0f} MiB "
        f"(antes +{r['antes_por_peticion']['rss_pico_mib'] - r['antes_por_peticion']['rss_antes_mib']:.0f} "
        "MiB por petición)"
    )


def _resumen_flujo(r: dict[str, Any]) -> str:
    e = r["estable"]
    return (
        f"{r['clientes']} clientes SSE: {e['lecturas_version'] / e['segundos']:.1f} lecturas/s, CPU "
        f"{e['cpu_pct']:.1f} %, entrega p99 {e['entrega_p99_s']:.2f} s"
    )


def _resumen_pedersen(r: dict[str, Any]) -> str:
    rutas = r["rutas"][1::2]
    costos = ", ".join(f"{x['cpu_ms_por_peticion']:.1f}" for x in rutas)
    return f"CPU por petición {costos} ms (antes, solo verificar: {r['antes_ms_por_llamada']:.1f} ms)"


Fase = tuple[str, Callable[[], Coroutine[Any, Any, dict[str, Any]]], Callable[[dict[str, Any]], str]]


def fases(rapido: bool) -> list[Fase]:
    if rapido:
        return [
            ("registro", lambda: registro.medir(32, 3, maximo=5000), _resumen_registro),
            ("voto", lambda: voto.medir(500, 16), _resumen_voto),
            ("lag", lambda: lag.medir([100, 500], 3), _resumen_lag),
            ("tablero", lambda: tablero.medir(3, 1000), _resumen_tablero),
            ("computo", lambda: computo.medir([2000]), _resumen_computo),
            ("archivo", lambda: archivo.medir(2000, 4, 2), _resumen_archivo),
            ("flujo", lambda: flujo.medir(20, 6, 500), _resumen_flujo),
            ("pedersen", lambda: pedersen.medir(4, 2), _resumen_pedersen),
        ]
    return [
        ("registro", lambda: registro.medir(32, 10), _resumen_registro),
        ("voto", lambda: voto.medir(3000, 16), _resumen_voto),
        ("lag", lambda: lag.medir([100, 250, 500, 750, 1000], 6), _resumen_lag),
        ("tablero", lambda: tablero.medir(6, 5000), _resumen_tablero),
        ("computo", lambda: computo.medir([10_000]), _resumen_computo),
        ("archivo", lambda: archivo.medir(30_000, 20, 4), _resumen_archivo),
        ("flujo", lambda: flujo.medir(1000, 30, 5_000), _resumen_flujo),
        ("pedersen", lambda: pedersen.medir(8, 8), _resumen_pedersen),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rapido", action="store_true", help="tamaños pequeños: solo revisa que todo corra")
    parser.add_argument("--solo", nargs="+", metavar="FASE", help="solo estas fases (registro, voto, …)")
    args = parser.parse_args()
    m = maquina()
    print(
        f"VMRE make bench — {m['fecha']} — {m['nucleos']} núcleos ({m['cpu']}), {m['ram_gib']} GiB, "
        f"{m['so']}, Python {m['python']}, carga al empezar {m['carga_1min']}"
    )
    filas = []
    inicio = time.perf_counter()
    for nombre, medir, resumir in fases(args.rapido):
        if args.solo and nombre not in args.solo:
            continue
        progreso(f"=== {nombre} ===")
        print(f"\n{'=' * 20} {nombre} {'=' * 20}", flush=True)
        t0 = time.perf_counter()
        try:
            r = asyncio.run(medir())
            filas.append([nombre, resumir(r), r.get("meta", ""), "sí" if r.get("meta_cumplida") else "no",
                          f"{time.perf_counter() - t0:.0f}"])  # fmt: skip
        except Exception as exc:
            traceback.print_exc()
            filas.append([nombre, f"falló: {type(exc).__name__}: {exc}"[:120], "", "no",
                          f"{time.perf_counter() - t0:.0f}"])  # fmt: skip
        sys.stdout.flush()
    total = time.perf_counter() - inicio
    print(f"\n{'=' * 20} resumen {'=' * 20}")
    print(tabla(["benchmark", "cifras", "meta", "cumplida", "s"], filas, izquierda=4))
    print(f"total: {total / 60:.1f} min")
    guardar(
        "resumen",
        {
            "rapido": args.rapido,
            "total_s": total,
            "fases": [
                {"benchmark": f[0], "cifras": f[1], "meta": f[2], "cumplida": f[3] == "sí"} for f in filas
            ],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
