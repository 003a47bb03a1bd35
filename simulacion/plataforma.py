"""The platform the drill drives: a running one (its URLs), or one it starts with ``vmre run`` in its own
data directory, on the simulated clock (``VMRE_RELOJ=simulado``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.hijos import parent_death_signal
from shared.settings import SERVICES
from vmre.buzon import archivo

VMRE = str(Path(sys.executable).parent / "vmre")

# What a drill changes from the defaults, and why (each can still be overridden from the environment):
AJUSTES_DEL_SIMULACRO = {
    "VMRE_RELOJ": "simulado",  # the calendar runs on a clock the drill moves (PUT /v1/reloj)
    # Two weeks of logins in minutes: argon2id at its minimum cost (the production profile costs ~0.1 s of
    # both cores per login). Hashes carry their own parameters.
    "VMRE_ELECTRONICO_ARGON2_TIEMPO": "1",
    "VMRE_ELECTRONICO_ARGON2_MEMORIA_KIB": "1024",
    "VMRE_ELECTRONICO_ARGON2_PARALELISMO": "1",
    # Every simulated voter comes from this machine's address: no per-connection login limit, nor the
    # per-client limit of the public routes (shared/limites.py).
    "VMRE_ELECTRONICO_LIMITE_POR_MINUTO": "100000000",
    **{f"VMRE_{s.upper()}_LIMITE_PUBLICO_POR_MINUTO": "100000000" for s in SERVICES},
    "VMRE_ELECTRONICO_SELLO_INTERVALO": "1",
    # Ballot proofs on every core (a process pool), as a production pod would.
    "VMRE_ELECTRONICO_VERIFICADORES": str(len(os.sched_getaffinity(0))),
    "VMRE_LOG_FORMAT": "json",
    # One log line per request is most of the log and a good part of the CPU at this volume: warnings and
    # errors only (the run's log is plataforma.log).
    "VMRE_LOG_LEVEL": "WARNING",
}


def _puerto_libre(preferido: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferido))
            return preferido
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


@dataclass
class Plataforma:
    urls: dict[str, str]
    datos: Path
    proceso_ancla: dt.datetime | None = None
    proceso: subprocess.Popen[bytes] | None = None

    @property
    def buzon(self) -> Path:
        """What the local mailbox (SMTP and SMS, ``vmre/buzon.py``) received: one JSON line per message."""
        return archivo(self.datos / "buzon")

    def log(self) -> Path:
        return self.datos / "plataforma.log"

    def ultimas_lineas(self, n: int = 40) -> str:
        if not self.log().exists():
            return ""
        return "\n".join(self.log().read_text(errors="replace").splitlines()[-n:])

    async def esperar_lista(self, timeout: float = 180) -> None:
        """Every service healthy and every consumer in its group (Kafka joins take seconds)."""
        inicio = time.monotonic()
        pendientes = set(self.urls)
        async with httpx.AsyncClient(timeout=3) as cliente:
            while pendientes:
                if self.proceso is not None and self.proceso.poll() is not None:
                    raise RuntimeError(f"la plataforma terminó al arrancar:\n{self.ultimas_lineas()}")
                if time.monotonic() - inicio > timeout:
                    raise RuntimeError(
                        f"sin respuesta de {', '.join(sorted(pendientes))} en {timeout:.0f} s:\n"
                        f"{self.ultimas_lineas()}"
                    )
                for servicio in list(pendientes):
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        r = await cliente.get(f"{self.urls[servicio]}/readyz")
                        consumidores = r.json().get("checks", {}).get("consumers", [])
                        if r.status_code == 200 and all(c.get("connected") for c in consumidores):
                            pendientes.discard(servicio)
                await asyncio.sleep(0.5)

    def memoria_pico(self) -> dict[str, int]:
        """Per service, the peak resident memory (``VmHWM``, bytes) of its process plus that of every process
        it started (electronico's ballot verifiers), each process's own peak: an upper bound of the service's
        peak. Empty for a platform this drill did not start (``--plataforma``) or outside Linux."""
        if self.proceso is None or not Path("/proc").is_dir():
            return {}
        padres: dict[int, int] = {}
        lineas: dict[int, str] = {}
        for entrada in Path("/proc").iterdir():
            if not entrada.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                estado = (entrada / "stat").read_text()
                padres[int(entrada.name)] = int(estado.rsplit(")", 1)[1].split()[1])
                lineas[int(entrada.name)] = (entrada / "cmdline").read_bytes().replace(b"\0", b" ").decode()

        def servicio_de(pid: int) -> str | None:
            """The service whose process is ``pid`` or an ancestor of it, under this drill's ``vmre run``
            (another platform on the machine is not this one)."""
            servicio = None
            while pid in padres:
                if pid == self.proceso_pid:
                    return servicio
                for s in SERVICES:
                    if servicio is None and f"services.{s}.main:create_app" in lineas.get(pid, ""):
                        servicio = s
                pid = padres[pid]
            return None

        pico: dict[str, int] = {}
        for pid in padres:
            servicio = servicio_de(pid)
            if servicio is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                for linea in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if linea.startswith("VmHWM:"):
                        pico[servicio] = pico.get(servicio, 0) + int(linea.split()[1]) * 1024
        return dict(sorted(pico.items()))

    @property
    def proceso_pid(self) -> int | None:
        return self.proceso.pid if self.proceso is not None else None

    def detener(self) -> None:
        if self.proceso is None or self.proceso.poll() is not None:
            return
        self.proceso.send_signal(signal.SIGINT)
        try:
            self.proceso.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proceso.pid, signal.SIGKILL)
            self.proceso.wait()


def conectar(urls: Mapping[str, str], datos: Path) -> Plataforma:
    faltan = [s for s in SERVICES if s not in urls]
    if faltan:
        raise ValueError(f"faltan las URL de: {', '.join(faltan)}")
    return Plataforma(dict(urls), datos)


@contextlib.asynccontextmanager
async def iniciar(
    datos: Path, proceso: str, entorno: Mapping[str, str] | None = None
) -> AsyncIterator[Plataforma]:
    """``vmre run`` with the drill's settings in ``datos`` (SQLite there unless the environment gives
    database URLs), on the default ports when free; stopped (Ctrl-C) on exit."""
    datos.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (once, before anything runs)
    env = dict(os.environ if entorno is None else entorno)
    puertos = {s: int(env.get(f"VMRE_{s.upper()}_PORT") or _puerto_libre(p)) for s, p in SERVICES.items()}
    ancla = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for clave, valor in AJUSTES_DEL_SIMULACRO.items():
        env.setdefault(clave, valor)
    env.update({f"VMRE_{s.upper()}_PORT": str(p) for s, p in puertos.items()})
    env.update(
        {
            "VMRE_DATA_DIR": str(datos),
            "VMRE_PROCESO": proceso,
            "VMRE_PROCESO_ANCLA": env.get("VMRE_PROCESO_ANCLA") or ancla.isoformat(),
            "VMRE_MODE": "local",
        }
    )
    env.setdefault("VMRE_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{_puerto_libre(9092)}")
    # The local mailbox `vmre run` starts: every message of the drill goes over SMTP (SMS over HTTP).
    env.setdefault("VMRE_BUZON_SMTP", f"127.0.0.1:{_puerto_libre(1025)}")
    env.setdefault("VMRE_BUZON_HTTP", f"127.0.0.1:{_puerto_libre(8025)}")
    # The local identity provider of the staff console (vmre/identidad.py).
    env.setdefault("VMRE_IDENTIDAD", f"127.0.0.1:{_puerto_libre(8090)}")
    plataforma = Plataforma(
        {s: f"http://127.0.0.1:{p}" for s, p in puertos.items()},
        datos,
        proceso_ancla=dt.datetime.fromisoformat(env["VMRE_PROCESO_ANCLA"]),
    )
    with open(plataforma.log(), "ab") as salida:  # noqa: ASYNC230
        plataforma.proceso = subprocess.Popen(  # noqa: ASYNC220  (started once; Ctrl-C stops it)
            [VMRE, "run"],
            env=env,
            stdout=salida,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=parent_death_signal,  # the drill killed: its platform stops too
        )
    try:
        await plataforma.esperar_lista()
        yield plataforma
    finally:
        plataforma.detener()
