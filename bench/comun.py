"""What every benchmark shares: the machine's description, the results file, percentiles, progress lines on
stderr, service processes (real uvicorn, one process each) and their resident memory from /proc."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from shared.hijos import free_port, parent_death_signal
from shared.settings import SERVICES
from vmre.broker import LocalBroker

RAIZ = Path(__file__).resolve().parents[1]
RESULTADOS = RAIZ / "bench" / "results"
_INICIO = time.monotonic()


def progreso(mensaje: str) -> None:
    """One progress line on stderr, with the seconds since this process started."""
    print(f"[{time.monotonic() - _INICIO:6.1f} s] {mensaje}", file=sys.stderr, flush=True)


def nucleos() -> int:
    return len(os.sched_getaffinity(0))


def maquina() -> dict[str, Any]:
    """Cores, RAM, CPU model, OS (/etc/os-release), Python, date and the load average when it started."""
    memoria = 0
    with open("/proc/meminfo") as f:
        for linea in f:
            if linea.startswith("MemTotal:"):
                memoria = int(linea.split()[1]) * 1024
    so = platform.platform()
    try:
        for linea in Path("/etc/os-release").read_text().splitlines():
            if linea.startswith("PRETTY_NAME="):
                so = linea.split("=", 1)[1].strip('"')
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for linea in Path("/proc/cpuinfo").read_text().splitlines():
            if linea.startswith("model name"):
                cpu = linea.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nucleos": nucleos(),
        "ram_gib": round(memoria / 2**30, 1),
        "cpu": cpu,
        "so": so,
        "python": platform.python_version(),
        "fecha": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "carga_1min": round(os.getloadavg()[0], 2),
    }


def guardar(clave: str, datos: dict[str, Any]) -> Path:
    """Merge this benchmark's figures into bench/results/<YYYY-MM-DD>.json (one key per benchmark)."""
    RESULTADOS.mkdir(parents=True, exist_ok=True)
    ruta = RESULTADOS / f"{dt.date.today().isoformat()}.json"
    todo: dict[str, Any] = {}
    if ruta.exists():
        try:
            todo = json.loads(ruta.read_text())
        except ValueError:
            todo = {}
    todo["maquina"] = maquina()
    todo[clave] = {"medido_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"), **datos}
    ruta.write_text(json.dumps(todo, ensure_ascii=False, indent=1) + "\n")
    return ruta


def p(valores: list[float], q: float) -> float:
    """The q-th percentile (1..99) of ``valores``; 0 if empty."""
    if not valores:
        return 0.0
    if len(valores) == 1:
        return valores[0]
    return statistics.quantiles(valores, n=100, method="inclusive")[int(q) - 1]


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS in /proc/<pid>/status), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for linea in f:
            if linea.startswith("VmRSS:"):
                return int(linea.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        campos = f.read().rsplit(")", 1)[1].split()
    return (int(campos[11]) + int(campos[12])) / os.sysconf("SC_CLK_TCK")


class Muestreo:
    """Resident memory and CPU of a process while something runs: ``async with Muestreo(pid) as m``, then
    ``m.rss_inicial_mib``, ``m.rss_pico_mib`` (sampled every ``cada`` s), ``m.cpu_s`` and ``m.segundos``."""

    def __init__(self, pid: int, cada: float = 0.05) -> None:
        self.pid = pid
        self.cada = cada
        self.rss_inicial_mib = self.rss_pico_mib = self.rss_final_mib = 0.0
        self.cpu_s = self.segundos = 0.0

    async def __aenter__(self) -> Muestreo:
        import asyncio

        self.rss_inicial_mib = self.rss_pico_mib = rss_kib(self.pid) / 1024
        self._cpu0, self._t0 = cpu_s(self.pid), time.perf_counter()
        self._tarea = asyncio.create_task(self._muestrear())
        return self

    async def _muestrear(self) -> None:
        import asyncio

        while True:
            self.rss_pico_mib = max(self.rss_pico_mib, rss_kib(self.pid) / 1024)
            await asyncio.sleep(self.cada)

    async def __aexit__(self, *_: object) -> None:
        import asyncio

        self._tarea.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._tarea
        self.segundos = time.perf_counter() - self._t0
        self.cpu_s = cpu_s(self.pid) - self._cpu0
        self.rss_final_mib = rss_kib(self.pid) / 1024
        self.rss_pico_mib = max(self.rss_pico_mib, self.rss_final_mib)

    @property
    def cpu_pct(self) -> float:
        """CPU used as a percentage of one core over the sampled time."""
        return 100 * self.cpu_s / self.segundos if self.segundos else 0.0


def entorno_base(**extra: str) -> dict[str, str]:
    """The environment of a service process: no VMRE_* inherited from the caller, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    env.update({"VMRE_LOG_LEVEL": "WARNING", "VMRE_LOG_FORMAT": "json", "VMRE_PROCESO": "pel2021"})
    # The load comes from one address: no per-client limit on the public routes (shared/limites.py).
    env.update({f"VMRE_{s.upper()}_LIMITE_PUBLICO_POR_MINUTO": "100000000" for s in SERVICES})
    env.update(extra)
    return env


class Servicio:
    """A service as a real uvicorn process (one worker), its output to a log file under ``directorio``."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        directorio: Path,
        nombre: str | None = None,
        raiz: Path = RAIZ,
        nucleos: list[int] | None = None,
        argv: list[str] | None = None,
    ) -> None:
        self.app = app
        self.nucleos = nucleos  # pinned to these cores (and so are the processes it starts)
        self.argv = argv  # another command than uvicorn (bench.estatico); it must answer GET /healthz
        self.raiz = raiz  # the source tree it runs from (another checkout, to measure an older version)
        self.nombre = nombre or app.split(".")[1]
        self.puerto = free_port()
        self.env = env
        self.log = directorio / f"{self.nombre}.log"
        self.proceso: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.puerto}"

    @property
    def pid(self) -> int:
        assert self.proceso is not None
        return self.proceso.pid

    def arrancar(self, espera: float = 60.0) -> Servicio:
        with open(self.log, "ab") as salida:
            self.proceso = subprocess.Popen(
                self.argv or
                [sys.executable, "-m", "uvicorn", "--factory", self.app, "--host", "127.0.0.1", "--port",
                 str(self.puerto), "--log-level", "warning", "--no-access-log"],
                cwd=self.raiz, env=self.env, stdout=salida, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: detener() also stops the pools it started
                preexec_fn=parent_death_signal,
            )  # fmt: skip
        if self.nucleos:
            os.sched_setaffinity(self.proceso.pid, set(self.nucleos))
        limite = time.monotonic() + espera
        while time.monotonic() < limite:
            if self.proceso.poll() is not None:
                raise RuntimeError(f"{self.nombre} terminó al arrancar:\n{self.cola()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.detener()
        raise RuntimeError(f"{self.nombre} no respondió /healthz en {espera:.0f} s:\n{self.cola()}")

    def cola(self, lineas: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lineas:])
        except OSError:
            return ""

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def detener(self) -> None:
        """SIGTERM, then SIGKILL to whatever is left of its process group: a process pool's workers that
        outlive the service (electronico's verifiers) would otherwise keep using the CPU of later figures."""
        if self.proceso is not None:
            if self.proceso.poll() is None:
                self.proceso.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proceso.wait(15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proceso.pid, signal.SIGKILL)
            self.proceso.wait()
        self.proceso = None


@contextmanager
def broker_local() -> Iterator[LocalBroker]:
    """The local Tansu broker on a free port, stopped at the end."""
    b = LocalBroker(port=free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()


def sqlite_url(ruta: Path) -> str:
    return f"sqlite+aiosqlite:///{ruta}"


def tabla(encabezados: list[str], filas: list[list[str]], izquierda: int = 1) -> str:
    """A plain text table: the first ``izquierda`` columns left-aligned, the rest right-aligned."""
    anchos = [max(len(str(x)) for x in col) for col in zip(encabezados, *filas, strict=True)]

    def linea(celdas: list[str]) -> str:
        return "  ".join(
            str(c).ljust(a) if i < izquierda else str(c).rjust(a)
            for i, (c, a) in enumerate(zip(celdas, anchos, strict=True))
        ).rstrip()

    return "\n".join([linea(encabezados), *(linea(f) for f in filas)])


Peticion = tuple[str, bytes, dict[str, str]]  # path, JSON body, headers
