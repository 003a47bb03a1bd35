"""The drill's progress: a bar per phase on a terminal, one summary line per phase otherwise (CI logs)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Barra:
    """A progress bar per phase on a terminal; one summary line per phase otherwise (CI logs)."""

    activas = 0  # phases running at the same time get a line each

    def __init__(self, fase: str, total: int, unidad: str) -> None:
        self.fase, self.total, self.inicio = fase, total, time.monotonic()
        self.tty = sys.stderr.isatty()
        self.hechos, self.ultimo_aviso = 0, self.inicio
        self.barra = tqdm(
            total=total, desc=f"{fase:<28}", unit=f" {unidad}", disable=not self.tty, position=Barra.activas
        )
        Barra.activas += 1

    def avanzar(self, n: int = 1) -> None:
        self.barra.update(n)
        self.hechos += n
        if not self.tty and time.monotonic() - self.ultimo_aviso > 15:
            self.ultimo_aviso = time.monotonic()
            ritmo = self.hechos / (self.ultimo_aviso - self.inicio)
            texto = f"{ritmo:,.0f}" if ritmo >= 10 else f"{ritmo:.1f}"  # batches go at a few per second
            print(f"{self.fase:<28} {self.hechos:>7,} de {self.total:,} ({texto}/s)", file=sys.stderr)

    def cerrar(self) -> None:
        self.barra.close()
        Barra.activas -= 1
        if not self.tty:
            segundos = time.monotonic() - self.inicio
            resumen = (
                f"{self.total:>7,} en {segundos:6.1f} s"
                if self.hechos >= self.total
                else f"{self.hechos:>7,} de {self.total:,}: interrumpida a los {segundos:.1f} s"
            )
            print(f"{self.fase:<28} {resumen}", file=sys.stderr, flush=True)
