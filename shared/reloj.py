"""One injectable clock for every deadline check, so drills and simulations can run a calendar in minutes."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
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


class RelojCompartido(RelojManual):
    """The drill's clock kept in a file: every process of a service (API, relay, consumers) reads the same
    instant, and a service that restarts (or is killed) mid-drill comes back at the drill's time, not at
    the present. Read on every call (a few microseconds; a modification time can repeat within a tick);
    the file is replaced atomically on each adjustment."""

    def __init__(self, ruta: Path) -> None:
        super().__init__(dt.datetime.now(dt.UTC))
        self.ruta = ruta

    def ahora(self) -> dt.datetime:
        try:
            texto = self.ruta.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return self._ahora
        if texto:  # never half-written (os.replace), but an empty file is not an instant
            self._ahora = dt.datetime.fromisoformat(texto)
        return self._ahora

    def ajustar(self, instante: dt.datetime) -> None:
        self.ruta.parent.mkdir(parents=True, exist_ok=True)
        temporal = self.ruta.with_name(f".{self.ruta.name}.{os.getpid()}")
        temporal.write_text(instante.isoformat(), encoding="utf-8")
        os.replace(temporal, self.ruta)
        self._ahora = instante

    def avanzar(self, delta: dt.timedelta) -> None:
        self.ajustar(self.ahora() + delta)


def reloj_para(modo: str, servicio: str) -> Reloj:
    """The clock a service runs on: the system's, or (``VMRE_RELOJ=simulado``, local mode only) a clock the
    drill moves through ``PUT /v1/reloj``, shared by the service's processes through a file in
    ``VMRE_DATA_DIR`` (``reloj/<servicio>``). It starts at the present until the first adjustment."""
    if modo == "simulado":
        from shared.settings import data_dir

        return RelojCompartido(data_dir() / "reloj" / servicio)
    return RelojSistema()
