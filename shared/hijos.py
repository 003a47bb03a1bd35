"""Child processes and ports: a child that dies with its parent (Linux's parent-death signal, or a pidfd
watched by a thread), a free port, whether a port answers. Used by every process that starts others: the
supervisor of ``vmre run``, electronico's verification pool, the drill, the tests and the benchmarks."""

from __future__ import annotations

import functools
import os
import random
import select
import signal
import socket
import threading
from collections.abc import Callable


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


_DADOS: set[int] = set()


def _rango_libre() -> range:
    """Ports below the kernel's ephemeral range, so no outgoing connection (of this or any other process)
    takes a port between the moment it is chosen here and the moment a child binds it. Under pytest-xdist
    each worker draws from its own slice, so two workers never hand out the same port."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            efimero = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        efimero = 32768
    inicio, fin = 10000, min(efimero, 65536)
    if fin - inicio < 1000:  # pragma: no cover - an unusual ephemeral range: let the kernel choose
        return range(0)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    n = int(worker) if worker.isdigit() else 0
    total = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), 1)
    tramo = (fin - inicio) // total
    return range(inicio + (n % total) * tramo, inicio + (n % total + 1) * tramo)


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on, not handed out before by this process."""
    rango = _rango_libre()
    for _ in range(200):
        port = random.choice(rango) if rango else 0
        if port in _DADOS:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(sock.getsockname()[1])
        _DADOS.add(port)
        return port
    raise OSError("no hay un puerto libre en 127.0.0.1")


def parent_death_signal(sig: int = signal.SIGTERM, padre: int | None = None) -> None:
    """preexec_fn (or a pool's initializer): on Linux the child gets ``sig`` when its parent dies, so nothing
    is orphaned. The signal comes when the parent *thread* that started the child ends: start children from
    the main thread. With ``padre`` (the parent's pid, taken before the fork) a parent that died before the
    call is noticed too: the child exits at once (before its exec)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig))
    except OSError:  # pragma: no cover - not Linux
        return
    if padre is not None and os.getppid() != padre:
        os._exit(1)


def muere_con_este_proceso(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """preexec_fn for a child of this process: ``parent_death_signal`` with this process as the parent."""
    return functools.partial(parent_death_signal, sig, os.getpid())


def muere_con(pid: int, sig: int = signal.SIGKILL) -> None:
    """A process pool's initializer: the worker gets ``sig`` when process ``pid`` (the pool's owner) ends, not
    only when its parent does. A forkserver's workers are the forkserver's children, and the forkserver only
    ends once every worker has closed its end of a pipe the workers inherit: neither would ever go."""
    parent_death_signal(sig)
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:  # already gone
        os.kill(os.getpid(), sig)
        return
    except (AttributeError, OSError):  # pragma: no cover - not Linux 5.3+
        return

    def vigilar() -> None:
        select.select([pidfd], [], [])  # readable once the process has ended
        os.kill(os.getpid(), sig)

    threading.Thread(target=vigilar, name="muere-con", daemon=True).start()
