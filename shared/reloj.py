"""One injectable clock for every deadline check, so drills and simulations can run a calendar in minutes."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Reloj(Protocol):
    def ahora(self) -> dt.datetime: ...


class RelojSistema:
    def ahora(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class RelojManual:
    """A clock the caller moves (tests, simulations)."""

    def __init__(self, inicio: dt.datetime) -> None:
        if inicio.tzinfo is None:
            raise ValueError("el reloj trabaja en UTC: dé un instante con zona")
        self._ahora = inicio

    def ahora(self) -> dt.datetime:
        return self._ahora

    def ajustar(self, instante: dt.datetime) -> None:
        self._ahora = instante

    def avanzar(self, delta: dt.timedelta) -> None:
        self._ahora += delta


def reloj_para(modo: str) -> Reloj:
    """The clock a service runs on: the system's, or (``VMRE_RELOJ=simulado``, local mode only) a clock the
    drill moves through ``PUT /v1/reloj``. It starts at the present until the first adjustment."""
    if modo == "simulado":
        return RelojManual(dt.datetime.now(dt.UTC))
    return RelojSistema()
