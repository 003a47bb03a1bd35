"""Benchmark: ballots created and verified per second per core (12-answer question), against the machine's own
ceiling measured in the same run — libsodium's exponentiations per second on one core.

    make bench                      (or: python -m bench.cripto --boletas 200)
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from shared.cripto import boleta as bo
from shared.cripto import grupo as gr
from shared.cripto import simulacro as si
from shared.cripto.eleccion import Pregunta

PREGUNTA = Pregunta(tuple(f"Opción {i}" for i in range(1, 13)), 1, 1, "12 respuestas, elija una")


def _por_segundo(f: Callable[[], object], segundos: float = 0.7) -> float:
    n, inicio = 0, time.perf_counter()
    while time.perf_counter() - inicio < segundos:
        for _ in range(100):
            f()
        n += 100
    return n / (time.perf_counter() - inicio)


def _techo() -> tuple[float, float]:
    """libsodium on one core: variable-base and fixed-base (g^e) exponentiations per second."""
    x, e = gr.gpot(gr.aleatorio()), gr.aleatorio()
    return _por_segundo(lambda: gr.pot(x, e)), _por_segundo(lambda: gr.gpot(e))


def _contar_potencias(f: Callable[[], object]) -> tuple[int, int]:
    cuenta = [0, 0]
    pot, gpot = gr.pot, gr.gpot

    def pot_c(a: bytes, e: int) -> bytes:
        cuenta[0] += 1
        return pot(a, e)

    def gpot_c(e: int) -> bytes:
        cuenta[1] += 1
        return gpot(e)

    gr.pot, gr.gpot = pot_c, gpot_c
    try:
        f()
    finally:
        gr.pot, gr.gpot = pot, gpot
    return cuenta[0], cuenta[1]


_S: si.Simulacro | None = None


def _init(s: si.Simulacro) -> None:
    global _S
    _S = s


def _crear(i: int) -> str:
    assert _S is not None
    return bo.cifrar(
        _S.eleccion, _S.credenciales[i % len(_S.credenciales)], [[1 if j == i % 12 else 0 for j in range(12)]]
    )


def _verificar(texto: str) -> bool:
    assert _S is not None
    return bool(bo.verificar(_S.eleccion, texto, _S.urna.pesos))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--boletas", type=int, default=200)
    args = ap.parse_args()
    nucleos = len(os.sched_getaffinity(0))
    s = si.preparar([PREGUNTA], votantes=64)
    _init(s)
    techo_var, techo_fija = _techo()
    muestra = _crear(0)
    pot_crear = _contar_potencias(lambda: _crear(1))
    pot_verif = _contar_potencias(lambda: _verificar(muestra))

    def techo(potencias: tuple[int, int]) -> float:
        """Ballots/s on one core if the exponentiations were all the work."""
        return 1 / (potencias[0] / techo_var + potencias[1] / techo_fija)

    def en_serie(f: Callable[[Any], object], entradas: list[Any]) -> float:
        inicio = time.perf_counter()
        for x in entradas:
            f(x)
        return len(entradas) / (time.perf_counter() - inicio)

    def en_paralelo(f: Callable[[Any], object], entradas: list[Any]) -> float:
        with ProcessPoolExecutor(nucleos, initializer=_init, initargs=(s,)) as pool:
            list(pool.map(f, entradas[:nucleos]))  # warm the workers
            inicio = time.perf_counter()
            list(pool.map(f, entradas, chunksize=8))
            return len(entradas) / (time.perf_counter() - inicio)

    numeros = list(range(args.boletas))
    textos = [_crear(i) for i in numeros]
    filas = []
    for nombre, por_s, nucleos_usados, potencias in (
        ("crear (1 núcleo)", en_serie(_crear, numeros), 1, pot_crear),
        ("verificar (1 núcleo)", en_serie(_verificar, textos), 1, pot_verif),
        (f"crear ({nucleos} núcleos)", en_paralelo(_crear, numeros), nucleos, pot_crear),
        (f"verificar ({nucleos} núcleos)", en_paralelo(_verificar, textos), nucleos, pot_verif),
    ):
        filas.append((nombre, por_s, por_s / nucleos_usados, techo(potencias), potencias))

    print(
        f"cripto: boletas de 1 pregunta × 12 respuestas (12 cifrados, {len(muestra):,} bytes), "
        f"{args.boletas} por fila"
    )
    print(
        f"techo (libsodium, un núcleo, medido en esta corrida): {techo_var:,.0f} exp./s de base variable, "
        f"{techo_fija:,.0f} exp./s de base g"
    )
    print(
        f"{'operación':<24}{'boletas/s':>10}{'por núcleo':>11}{'exp. var+g':>12}"
        f"{'techo/núc.':>12}{'razón':>7}"
    )
    for nombre, por_s, por_nucleo, techo_b, (var, fija) in filas:
        print(
            f"{nombre:<24}{por_s:>10.1f}{por_nucleo:>11.1f}{f'{var}+{fija}':>12}{techo_b:>12.1f}"
            f"{por_nucleo / techo_b:>7.0%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
