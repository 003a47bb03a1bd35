"""Faults during a drill (#11): a small scenario runs end to end while each process of each service (its API,
its relay, its consumers) is killed with SIGKILL once, the broker restarts empty, and PostgreSQL crashes and
restarts. The actas must equal the scenario's, and the dashboard must count every application once.

The platform runs as production runs it (``deploy/k8s``): per service separate processes for the API, the
outbox relay and the consumers (``VMRE_<S>_RELAY_ENABLED``, ``VMRE_<S>_CONSUMERS_ENABLED``), on a PostgreSQL
cluster of this test's own (so that it can be crashed) and the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import glob
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.tablero.main import TOPICOS as TABLERO_TOPICOS
from shared import migrations
from shared.bus.consumer import es_de_infraestructura
from shared.bus.kafka import ensure_topics
from shared.bus.topics import all_topics
from shared.db import make_engine, make_sessionmaker
from shared.hijos import free_port
from shared.notificaciones import reenviar_inciertas
from shared.settings import KafkaSettings
from simulacion.plataforma import AJUSTES_DEL_SIMULACRO
from tests.support.comun import Buzon
from tests.support.e2e import ROOT, ServiceProcess
from vmre.broker import LocalBroker

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

# registro consumes nothing: its API and its relay.
PAPELES = {
    "registro": ("api", "relay"),
    "postal": ("api", "relay", "consumidor"),
    "electronico": ("api", "relay", "consumidor"),
    "computo": ("api", "relay", "consumidor"),
    "tablero": ("api", "relay", "consumidor"),
    "credenciales": ("api", "relay", "consumidor"),
}
# Each fault once, when the drill reaches the work it hits: (the phase that must have ended, the fault). The
# drill's output names each phase as it ends; a fault with no phase goes in while the applications arrive.
PLAN: list[tuple[str | None, str]] = [
    (None, "registro-api"),
    (None, "tablero-consumidor"),
    (None, "registro-relay"),
    ("solicitudes", "broker"),  # the LNERE close and its events are next
    ("solicitudes", "postal-consumidor"),
    ("solicitudes", "electronico-consumidor"),
    ("dictámenes", "computo-consumidor"),
    ("ceremonia de llaves", "electronico-relay"),
    ("ceremonia de llaves", "postal-api"),
    ("envíos", "postal-relay"),
    ("seguimiento", "postgresql"),  # envelopes and internet votes are next
    ("seguimiento", "electronico-api"),
    ("sobres en tiempo", "tablero-relay"),
    ("votos por internet", "tablero-api"),
    ("sobres tardíos", "computo-relay"),
    ("actas de mesa", "computo-api"),  # the custodians' decryption and the cómputo are next
]
ESCENARIO = ROOT / "escenarios" / "fallas.json"


async def _estados(procesos: dict[str, ServiceProcess]) -> str:
    """Each process's /readyz: its outbox backlog, broker and consumers (what a lost event leaves behind)."""
    estados = []
    async with httpx.AsyncClient(timeout=5) as cliente:
        for n, p in procesos.items():
            try:
                estados.append(f"{n}: {(await cliente.get(f'{p.url}/readyz')).json()['checks']}")
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                estados.append(f"{n}: /readyz sin respuesta ({type(exc).__name__})")
    return "\n".join(estados)


async def _eventos(procesos: dict[str, ServiceProcess]) -> str:
    """What each relay published and each consumer did with what it read, per event type (from /metrics): a
    lost event shows as published by one and never processed by the other."""
    lineas = []
    async with httpx.AsyncClient(timeout=5) as cliente:
        for n, p in procesos.items():
            if n.endswith("-api"):
                continue
            try:
                texto = (await cliente.get(f"{p.url}/metrics")).text
            except httpx.HTTPError as exc:
                lineas.append(f"{n}: /metrics sin respuesta ({type(exc).__name__})")
                continue
            cuentas: dict[str, list[str]] = {}
            for linea in texto.splitlines():
                if linea.startswith("vmre_outbox_published_total "):
                    lineas.append(f"{n}: publicados {float(linea.split()[-1]):.0f}")
                elif linea.startswith("vmre_events_consumed_total{"):
                    etiquetas = dict(
                        x.split("=", 1) for x in linea[linea.index("{") + 1 : linea.rindex("}")].split(",")
                    )
                    tipo, resultado = etiquetas["event_type"].strip('"'), etiquetas["outcome"].strip('"')
                    cuentas.setdefault(tipo, []).append(f"{resultado}={float(linea.split()[-1]):.0f}")
            if cuentas:
                lineas.append(f"{n}: " + "; ".join(f"{t} {' '.join(c)}" for t, c in sorted(cuentas.items())))
    return "\n".join(lineas)


async def _grupos(bootstrap: str, topics: dict[str, list[str]]) -> str:
    """Each consumer group as the broker sees it (its members), and per partition of the given topics what the
    group committed next to where the log ends (ListOffsets; the local broker may answer the base offset of
    the last batch plus one): a partition nobody consumes, or a commit past the log's end, shows here."""
    lineas = []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        grupos = sorted(g[0] for g in await admin.list_consumer_groups())
        for respuesta in await admin.describe_consumer_groups(grupos):
            for g in respuesta.groups:
                lineas.append(f"grupo {g[1]} ({g[2]}): miembros {[m[0] for m in g[5]]}")
    except Exception as exc:
        lineas.append(f"grupos: {type(exc).__name__}: {exc}")
    finally:
        await admin.close()
    for grupo, topicos in topics.items():
        consumer = AIOKafkaConsumer(group_id=grupo, bootstrap_servers=bootstrap, enable_auto_commit=False)
        try:
            await consumer.start()
            for topic in topicos:
                tps = [TopicPartition(topic, n) for n in sorted(consumer.partitions_for_topic(topic) or ())]
                fines = await consumer.end_offsets(tps) if tps else {}
                partes = [f"{tp.partition}: {await consumer.committed(tp)}/{fines[tp]}" for tp in tps]
                lineas.append(f"{grupo} {topic} (confirmado/fin): " + "; ".join(partes))
        except Exception as exc:
            lineas.append(f"{grupo}: {type(exc).__name__}: {exc}")
        finally:
            await consumer.stop()
    return "\n".join(lineas)


# The services that send messages to people (their relay process runs the sender).
CON_AVISOS = ("registro", "postal", "electronico", "credenciales")


async def operador_de_guardia(pg: PostgresPropio, reenviadas: list[str]) -> None:
    """The runbook's step after a sender crash (docs/operacion.md, ``vmre avisos SERVICIO
    --reenviar-inciertas``): a sender killed while handing over a handful of messages leaves them
    ``incierta`` (never re-sent by itself, the gateway may have them); the person on call sends them again.
    Without it a drill whose relay dies mid-send waits forever for those voters' credentials."""
    motores = {s: make_engine(pg.url(s)) for s in CON_AVISOS}
    modelos = {s: importlib.import_module(f"services.{s}.models").Notificacion for s in CON_AVISOS}
    try:
        while True:
            await asyncio.sleep(5)
            for s, motor in motores.items():
                try:
                    async with make_sessionmaker(motor)() as session, session.begin():
                        if n := await reenviar_inciertas(session, modelos[s]):
                            reenviadas.append(f"{s}: {n}")
                except Exception as exc:
                    if not es_de_infraestructura(exc):
                        raise
                    continue  # PostgreSQL is the one crashing right now: the next round
    finally:
        for motor in motores.values():
            await motor.dispose()


def _binarios_postgresql() -> Path | None:
    candidatos = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name))
    if candidatos:
        return Path(candidatos[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresPropio:
    """A PostgreSQL cluster in a temporary directory, on its own port: one this test may crash."""

    def __init__(self, binarios: Path) -> None:
        self.binarios = binarios
        self.puerto = free_port()
        # Not under tmp_path: the server runs as `postgres` when the tests run as root, and must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="vmre-pg-"))
        self.datos = self.dir / "datos"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def _correr(self, *args: str) -> None:
        usuario = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        r = subprocess.run(
            [*usuario, str(self.binarios / args[0]), *args[1:]], capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 0, f"{' '.join(args)}:\n{r.stdout}\n{r.stderr}"

    def inicializar(self) -> None:
        self._correr(
            "initdb", "-D", str(self.datos), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )

    def arrancar(self) -> None:
        opciones = f"-p {self.puerto} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._correr(
            "pg_ctl",
            "-D",
            str(self.datos),
            "-l",
            str(self.dir / "postgres.log"),
            "-w",
            "-o",
            opciones,
            "start",
        )

    def caer(self) -> None:
        """As a crash: no checkpoint, no goodbye to the clients; the next start recovers from the WAL."""
        self._correr("pg_ctl", "-D", str(self.datos), "-m", "immediate", "-w", "stop")

    def url(self, base: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.puerto}/{base}"

    def crear_base(self, base: str) -> None:
        self._correr("createdb", "-h", "127.0.0.1", "-p", str(self.puerto), "-U", "postgres", base)

    def eliminar(self) -> None:
        with contextlib.suppress(AssertionError):
            self.caer()
        shutil.rmtree(self.dir, ignore_errors=True)


def _avisos(proceso: ServiceProcess) -> str:
    """A process's last warnings and errors (tracebacks cut): where a stuck drill waits."""
    texto = proceso.log_path.read_text(errors="replace") if proceso.log_path.exists() else ""
    lineas = [x for x in texto.splitlines() if '"level": "WARNING"' in x or '"level": "ERROR"' in x]
    return "\n".join(x[:600] for x in lineas[-12:]) or "(sin avisos)"


@pytest.fixture
def postgres_propio() -> Iterator[PostgresPropio]:
    binarios = _binarios_postgresql()
    if binarios is None:
        pytest.skip("sin los programas de PostgreSQL (initdb, pg_ctl) en esta máquina")
    pg = PostgresPropio(binarios)
    try:
        pg.inicializar()
        pg.arrancar()
        yield pg
    finally:
        pg.eliminar()


async def test_simulacro_sobrevive_a_cada_falla(
    postgres_propio: PostgresPropio, e2e_broker: LocalBroker, tmp_path: Path
) -> None:
    pg = postgres_propio
    datos = tmp_path / "sim"
    datos.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    env.update(AJUSTES_DEL_SIMULACRO)
    env.update(
        {
            "VMRE_MODE": "local",
            "VMRE_DATA_DIR": str(datos),
            "VMRE_PROCESO": "pel2021",
            "VMRE_PROCESO_ANCLA": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "VMRE_KAFKA_BOOTSTRAP_SERVERS": e2e_broker.bootstrap,
            "VMRE_LOG_LEVEL": "INFO",
            "VMRE_ELECTRONICO_VERIFICADORES": "1",
        }
    )
    # The local mailbox where the drill reads its messages (datos/buzon): every message goes over SMTP/HTTP.
    buzon = Buzon(datos / "buzon")
    buzon.iniciar()
    env.update(buzon.entorno())
    for servicio in PAPELES:
        pg.crear_base(servicio)
        env[f"VMRE_{servicio.upper()}_DATABASE_URL"] = pg.url(servicio)
        await asyncio.to_thread(migrations.upgrade, servicio, pg.url(servicio))
    await ensure_topics(KafkaSettings(bootstrap_servers=e2e_broker.bootstrap), all_topics())

    procesos: dict[str, ServiceProcess] = {}
    for servicio, papeles in PAPELES.items():
        for papel in papeles:
            propio = {
                f"VMRE_{servicio.upper()}_RELAY_ENABLED": str(papel == "relay").lower(),
                f"VMRE_{servicio.upper()}_CONSUMERS_ENABLED": str(papel == "consumidor").lower(),
            }
            procesos[f"{servicio}-{papel}"] = ServiceProcess(
                f"{servicio}-{papel}", {**env, **propio}, tmp_path, servicio=servicio
            )
    aplicadas: list[str] = []
    try:
        for p in procesos.values():
            p.start()
        for p in procesos.values():
            await p.wait_healthy(60)
        urls = ",".join(f"{s}={procesos[f'{s}-api'].url}" for s in PAPELES)
        actas = tmp_path / "actas.json"
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulacion", str(ESCENARIO), "--plataforma", urls, "--datos", str(datos),
            "--salida", str(actas), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

        lineas: list[str] = []
        nueva_linea = asyncio.Condition()

        async def leer_salida() -> None:
            assert sim.stdout is not None
            while linea := await sim.stdout.readline():
                async with nueva_linea:
                    lineas.append(linea.decode(errors="replace").rstrip())
                    nueva_linea.notify_all()
            async with nueva_linea:
                lineas.append("")  # the end
                nueva_linea.notify_all()

        def termino(fase: str | None) -> bool:
            return fase is None or any(x.startswith(fase) for x in lineas) or lineas[-1:] == [""]

        async def fallas() -> None:
            inicio = time.monotonic()
            await asyncio.sleep(1)  # the applications are arriving
            for fase, falla in PLAN:
                async with nueva_linea:
                    await nueva_linea.wait_for(lambda f=fase: termino(f))  # type: ignore[misc]
                if lineas[-1:] == [""]:
                    return  # the drill ended: the assertion below says which faults never happened
                if falla == "broker":
                    await asyncio.to_thread(e2e_broker.stop)  # memory only: every topic and offset is gone
                    await asyncio.sleep(0.5)
                    await asyncio.to_thread(e2e_broker.start)
                elif falla == "postgresql":
                    await asyncio.to_thread(pg.caer)
                    await asyncio.sleep(0.5)
                    await asyncio.to_thread(pg.arrancar)
                else:
                    procesos[falla].kill()  # SIGKILL
                    await asyncio.sleep(0.3)
                    procesos[falla].start()
                aplicadas.append(f"{time.monotonic() - inicio:5.1f} s  {falla}")
                await asyncio.sleep(0.5)

        lector = asyncio.create_task(leer_salida())
        inyector = asyncio.create_task(fallas())
        reenviadas: list[str] = []
        guardia = asyncio.create_task(operador_de_guardia(pg, reenviadas))
        try:
            await asyncio.wait_for(asyncio.gather(lector, inyector, sim.wait()), timeout=600)
        except TimeoutError:
            sim.send_signal(signal.SIGUSR1)  # the drill says what it waits for and what is missing
            await asyncio.sleep(3)
            sim.kill()
            await sim.wait()
            pytest.fail(
                "\n".join(f"--- {n}\n{_avisos(p)}" for n, p in procesos.items())
                + f"\n--- fallas aplicadas: {aplicadas}; mensajes inciertos reenviados: {reenviadas}\n"
                + await _estados(procesos)
                + "\n--- el simulacro no terminó en 10 min; sus últimas líneas:\n"
                + "\n".join(lineas[-12:]),
                pytrace=False,
            )
        finally:
            guardia.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await guardia
        texto = "\n".join(lineas)
        print(texto)
        print("mensajes inciertos reenviados por la guardia:", reenviadas or "ninguno")
        if sim.returncode != 0:
            # What CI shows of a failure is its tail: the logs first, then the state of each process and the
            # drill's last words.
            pytest.fail(
                "\n".join(f"--- {n}\n{p.logs()}" for n, p in procesos.items())
                + f"\n--- salida del simulacro\n{texto}\n--- fallas aplicadas: {aplicadas}; "
                f"mensajes inciertos reenviados: {reenviadas}\n"
                + "--- avisos y errores de relays y consumidores\n"
                + "\n".join(
                    f"{n}: {_avisos(p)[-800:]}" for n, p in procesos.items() if not n.endswith("-api")
                )
                + "\n"
                + await _estados(procesos)
                + "\n--- eventos (desde el último arranque de cada proceso)\n"
                + await _eventos(procesos)
                + "\n--- el broker\n"
                + await _grupos(e2e_broker.bootstrap, {"tablero.proyecciones": TABLERO_TOPICOS})
                + f"\n--- el simulacro terminó con {sim.returncode}: "
                + " | ".join(x for x in lineas[-4:] if x),
                pytrace=False,
            )
        assert len(aplicadas) == len(PLAN), f"el simulacro terminó antes de todas las fallas: {aplicadas}"
        print("fallas aplicadas:", *aplicadas, sep="\n  ")

        assert "coinciden con el escenario: LNERE 296, 176 votos, participación 59.46 %" in texto
        assert json.loads(actas.read_text())["09"]["votos"] == {"postal": 64, "electronica": 64, "total": 128}
        # Every application counted once on the dashboard, after all the replays (it may still catch up).
        esperado = {"09": 208, "16": 88}
        async with httpx.AsyncClient(timeout=10) as cliente:
            for _ in range(120):
                r = await cliente.get(f"{procesos['tablero-api'].url}/v1/resumen")
                if r.json()["solicitudes"]["por_entidad"] == esperado:
                    break
                await asyncio.sleep(0.5)
            assert r.json()["solicitudes"]["por_entidad"] == esperado, r.text
            await asyncio.sleep(2)  # a late duplicate would show now
            r = await cliente.get(f"{procesos['tablero-api'].url}/v1/resumen")
            assert r.json()["solicitudes"]["por_entidad"] == esperado, r.text
    finally:
        for p in procesos.values():
            p.stop()
        buzon.detener()
