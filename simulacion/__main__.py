"""``make simulate SCENARIO=escenarios/pel2021.json``: a whole electoral process as a drill.

    python -m simulacion ESCENARIO [--datos DIR] [--plataforma URLS] [--concurrencia N]

Without ``--plataforma`` it starts its own platform (``vmre run``, simulated clock, SQLite in ``--datos``);
with it, it drives a running one (started with ``VMRE_RELOJ=simulado`` and empty databases). Exit 0 when
computo's actas equal the scenario's figures, 1 when they differ, 2 for an invalid scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from shared.proceso import cargar as cargar_proceso
from simulacion.cliente import SimulacionFallida
from simulacion.escenario import EscenarioInvalido, escalar, leer
from simulacion.informe import diferencias, informe
from simulacion.plataforma import Plataforma, conectar, iniciar
from simulacion.simulacro import Simulacro


def _urls(texto: str) -> dict[str, str]:
    urls = {}
    for parte in texto.split(","):
        servicio, _, url = parte.partition("=")
        if not url:
            raise argparse.ArgumentTypeError(f"use servicio=URL separados por comas (recibido {parte!r})")
        urls[servicio.strip()] = url.strip().rstrip("/")
    return urls


async def _simular(args: argparse.Namespace) -> int:
    try:
        escenario, proceso = leer(Path(args.escenario))
        if args.escala != 1:
            escenario = escalar(escenario, args.escala)
    except EscenarioInvalido as exc:
        print(f"escenario inválido ({args.escenario}):", file=sys.stderr)
        for e in exc.errores:
            print(f"  - {e}", file=sys.stderr)
        return 2
    totales = escenario.totales()
    print(
        f"simulacro de {proceso.nombre}: {len(escenario.entidades)} entidades, LNERE {totales['lnere']:,}, "
        f"{totales['votos']:,} votos (semilla {escenario.semilla})",
        file=sys.stderr,
        flush=True,
    )
    inicio = time.monotonic()
    simulacros: list[Simulacro] = []

    def estado() -> None:
        """SIGUSR1: where the drill is (what it waits for, what is missing), without stopping it."""
        for s in simulacros:
            print(f"\nESTADO DEL SIMULACRO:\n{s.cliente.estado()}", file=sys.stderr, flush=True)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, estado)

    async def con(plataforma: Plataforma) -> dict[str, dict[str, Any]]:
        if plataforma.proceso_ancla is not None:  # a relative calendar (demo) anchored like the platform's
            nonlocal proceso
            proceso = cargar_proceso(escenario.proceso, plataforma.proceso_ancla)
        print(
            f"tablero en vivo: {plataforma.urls['tablero']}/   (registro del simulacro: {plataforma.datos})",
            file=sys.stderr,
            flush=True,
        )
        simulacros.append(
            Simulacro(escenario, proceso, plataforma, concurrencia=args.concurrencia, procesos=args.procesos)
        )
        return await simulacros[-1].correr()

    try:
        if args.plataforma:
            actas = await con(conectar(args.plataforma, Path(args.datos)))
        else:
            datos = Path(args.datos)
            print(
                f"arrancando la plataforma (vmre run, reloj simulado) en {datos} …",
                file=sys.stderr,
                flush=True,
            )
            async with iniciar(datos, escenario.proceso) as plataforma:
                actas = await con(plataforma)
    except SimulacionFallida as exc:
        print(f"\nEL SIMULACRO SE DETUVO: {exc}", file=sys.stderr)
        return 1
    print()
    print(informe(escenario, proceso, actas))
    if args.salida:
        texto = json.dumps(actas, ensure_ascii=False, indent=1, default=str)
        await asyncio.to_thread(Path(args.salida).write_text, texto, encoding="utf-8")
    errores = diferencias(escenario, proceso, actas)
    duracion = time.monotonic() - inicio
    if errores:
        print(f"\nLAS CIFRAS NO COINCIDEN CON EL ESCENARIO ({len(errores)} diferencias):")
        for e in errores:
            print(f"  - {e}")
        return 1
    print(
        f"\ncoinciden con el escenario: LNERE {totales['lnere']:,}, {totales['votos']:,} votos, "
        f"participación {totales['participacion']} % — {duracion / 60:.1f} min"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m simulacion", description=__doc__.splitlines()[0] if __doc__ else None
    )
    ap.add_argument("escenario", help="archivo JSON del escenario (escenarios/*.json)")
    ap.add_argument(
        "--datos",
        default=f"var/simulacion/{dt.datetime.now():%Y%m%d-%H%M%S}",
        help="directorio de la corrida: bases SQLite, buzones, archivos de custodios, log de la plataforma",
    )
    ap.add_argument(
        "--plataforma",
        type=_urls,
        help="manejar una plataforma ya arrancada: registro=http://…,postal=…,electronico=…,computo=…,tablero=…",
    )
    ap.add_argument("--concurrencia", type=int, default=16, help="clientes simultáneos por fase (16)")
    ap.add_argument(
        "--procesos", type=int, default=2, help="procesos que cifran boletas (los «dispositivos»)"
    )
    ap.add_argument("--salida", help="guardar aquí las actas de cómputo (JSON)")
    ap.add_argument(
        "--escala",
        type=float,
        default=1.0,
        help="correr el escenario a esta fracción de su tamaño, con la misma forma (0.1: la décima parte)",
    )
    args = ap.parse_args(argv)
    args.datos = os.path.abspath(args.datos)
    return asyncio.run(_simular(args))


if __name__ == "__main__":
    raise SystemExit(main())
