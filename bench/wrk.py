"""The HTTP load generator of the benchmarks: wrk (Debian's package, ``make wrk``), pinned to its own
core(s), the servers pinned to the others — so that a ceiling is the server's, not the generator's.

``correr`` sends pre-generated raw requests (``bench/wrk.lua``: each connection takes the next one, every
status counted; closed loop, or on a schedule of requests per second) and returns the rate, latency
percentiles (wrk's, from the moment a request is written), the server's CPU per request (its whole process
group, from /proc) and the generator's CPU. ``techo_generador`` measures wrk against ``bench.estatico``, a
static no-op server: what the generator can send on its core(s).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.comun import RAIZ, Peticion

SCRIPT = RAIZ / "bench" / "wrk.lua"


def wrk() -> str:
    """The wrk binary, or a clear error with the command that installs it."""
    ruta = shutil.which("wrk")
    if ruta is None:
        raise SystemExit("falta wrk, el generador de carga: 'make bench' lo instala (make wrk)")
    return ruta


def reparto() -> tuple[list[int], list[int]]:
    """(server cores, generator cores): the generator gets the last core (a quarter of them on larger
    machines), the servers the rest. On one core both share it (and the figures say so)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) == 1:
        return cpus, cpus
    n = max(1, len(cpus) // 4)
    return cpus[:-n], cpus[-n:]


def fijar(pid: int, nucleos: Iterable[int]) -> None:
    """Pin a process (and the children it starts later) to these cores."""
    os.sched_setaffinity(pid, set(nucleos))


def cpu_grupo_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by every live process of a process group (a service and its
    pool of verifiers), from /proc."""
    total = 0
    for entrada in os.scandir("/proc"):
        if not entrada.name.isdigit():
            continue
        try:
            with open(f"/proc/{entrada.name}/stat") as f:
                campos = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(campos[2]) == pgid:  # field 5, pgrp
            total += int(campos[11]) + int(campos[12])
    return total / os.sysconf("SC_CLK_TCK")


def crudas(host: str, peticiones: Iterable[Peticion], metodo: str = "POST") -> list[bytes]:
    """Raw HTTP/1.1 requests (keep-alive) for ``host`` ("127.0.0.1:port")."""
    salida = []
    for ruta, cuerpo, cabeceras in peticiones:
        lineas = [f"{metodo} {ruta} HTTP/1.1", f"Host: {host}"]
        lineas += [f"{k}: {v}" for k, v in cabeceras.items()]
        if metodo != "GET" or cuerpo:
            lineas += ["Content-Type: application/json", f"Content-Length: {len(cuerpo)}"]
        salida.append(("\r\n".join(lineas) + "\r\n\r\n").encode() + cuerpo)
    return salida


@dataclass
class Resultado:
    peticiones: int
    segundos: float
    por_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    estados: dict[int, int]
    errores_socket: dict[str, int]
    vueltas: int  # times the requests ran out and started again (repeated requests)
    cpu_servidor_s: float
    cpu_generador_s: float
    ritmo_pedido: float = 0.0

    def exitosas(self, *codigos: int) -> int:
        return sum(self.estados.get(c, 0) for c in codigos)

    @property
    def cpu_ms_por_peticion(self) -> float:
        return 1000 * self.cpu_servidor_s / self.peticiones if self.peticiones else 0.0

    @property
    def cpu_servidor_pct(self) -> float:
        """The server's CPU over the run, in % of one core."""
        return 100 * self.cpu_servidor_s / self.segundos if self.segundos else 0.0

    @property
    def cpu_generador_pct(self) -> float:
        return 100 * self.cpu_generador_s / self.segundos if self.segundos else 0.0

    def como_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["estados"] = {str(k): v for k, v in self.estados.items()}
        d["cpu_ms_por_peticion"] = self.cpu_ms_por_peticion
        d["cpu_servidor_pct"] = self.cpu_servidor_pct
        d["cpu_generador_pct"] = self.cpu_generador_pct
        return d


def correr(
    url: str,
    peticiones: Sequence[bytes],
    *,
    conexiones: int,
    segundos: float,
    servidor_pgid: int | None,
    ritmo: float = 0.0,
    timeout_s: float = 30.0,
) -> Resultado:
    """wrk against ``url`` for ``segundos`` with ``conexiones`` connections, sending ``peticiones`` (raw, from
    ``crudas``) in order, pinned to the generator's cores. ``ritmo`` > 0: that many requests per second in all
    (each thread on a schedule), else a closed loop."""
    _, generador = reparto()
    hilos = min(len(generador), conexiones)
    with tempfile.TemporaryDirectory(prefix="vmre-wrk-") as tmp:
        archivo = Path(tmp) / "peticiones"
        with open(archivo, "wb") as f:
            for cruda in peticiones:
                f.write(b"%d\n%s\n" % (len(cruda), cruda))
        argv = [
            "taskset", "-c", ",".join(map(str, generador)), wrk(), "-t", str(hilos), "-c", str(conexiones),
            "-d", f"{segundos:.0f}s", "--timeout", f"{timeout_s:.0f}s", "-s", str(SCRIPT), url,
            "--", str(archivo), str(ritmo), str(hilos),
        ]  # fmt: skip
        antes_hijos = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu0 = cpu_grupo_s(servidor_pgid) if servidor_pgid else 0.0
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        transcurrido = time.perf_counter() - t0
        cpu_servidor = (cpu_grupo_s(servidor_pgid) - cpu0) if servidor_pgid else 0.0
        despues_hijos = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or "VMRE-WRK" not in proc.stdout:
        raise RuntimeError(
            f"wrk terminó con {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    datos = json.loads(proc.stdout.split("VMRE-WRK", 1)[1].strip().splitlines()[0])
    duracion = datos["duracion_us"] / 1e6 or transcurrido
    lat = datos["latencia_us"]
    return Resultado(
        peticiones=datos["peticiones"],
        segundos=duracion,
        por_s=datos["peticiones"] / duracion,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        estados={int(k): v for k, v in datos["estados"].items()},
        errores_socket=datos["errores"],
        vueltas=datos["vueltas"],
        cpu_servidor_s=cpu_servidor,
        cpu_generador_s=(despues_hijos.ru_utime + despues_hijos.ru_stime)
        - (antes_hijos.ru_utime + antes_hijos.ru_stime),
        ritmo_pedido=ritmo,
    )
