"""Outbox relay and idempotent consumer against the real broker (Tansu) and a real database."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import func, select

from services.tablero.handlers import build
from services.tablero.models import Conteo, Outbox, ProcessedEvent
from shared.bus import kafka
from shared.bus.consumer import IdempotentConsumer, es_de_infraestructura
from shared.bus.envelope import Envelope
from shared.bus.outbox import Relay, backlog, mark_all_unpublished, stage
from shared.db import make_engine, make_sessionmaker
from shared.events.registro import SOLICITUD_RECIBIDA
from shared.hijos import free_port
from shared.observability import Metrics
from shared.proceso import cargar
from shared.settings import KafkaSettings
from tests.factories import evento_recibida
from tests.support.comun import Databases
from vmre.broker import LocalBroker

pytestmark = pytest.mark.kafka


solicitud = evento_recibida


async def read_topic(
    settings: KafkaSettings, topic: str, expected: int, timeout: float = 30
) -> list[Envelope]:
    return [Envelope.from_bytes(r.value) for r in await read_raw(settings, topic, expected, timeout)]


async def read_raw(
    settings: KafkaSettings, topic: str, expected: int, timeout: float = 30
) -> list[ConsumerRecord]:
    consumer = AIOKafkaConsumer(
        topic, auto_offset_reset="earliest", enable_auto_commit=False, **kafka.client_options(settings)
    )
    await consumer.start()
    out: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(out) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                out.extend(records)
        # Anything more that arrives shortly is a duplicate the test must see.
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            out.extend(records)
    finally:
        await consumer.stop()
    return out


@pytest.fixture
async def outbox_db(databases: Databases):  # type: ignore[no-untyped-def]
    engine = make_engine(await databases.new("tablero"))
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_relay_publica_en_orden_por_agregado_y_marca_publicados(outbox_db, kafka_settings) -> None:  # type: ignore[no-untyped-def]
    topic = f"test.relay.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic])
    folios = ["A", "B", "C"]
    staged: list[Envelope] = []
    async with outbox_db() as session, session.begin():
        for version in range(1, 8):
            for folio in folios:
                env = Envelope.new(
                    event_type="x.y.z", source="t", aggregate_id=folio, aggregate_version=version, data={}
                )
                await stage(session, Outbox, topic, env)
                staged.append(env)
    relay = Relay(
        outbox_db,
        Outbox,
        kafka_settings,
        lambda: kafka.make_producer(kafka_settings, "t"),
        Metrics(),
        batch_size=5,
    )
    try:
        total = 0
        while published := await relay.publish_batch():
            total += published
    finally:
        await relay.stop()
    assert total == len(staged) == 21
    async with outbox_db() as session:
        assert await backlog(session, Outbox) == 0

    received = await read_topic(kafka_settings, topic, expected=21)
    assert sorted(e.event_id for e in received) == sorted(e.event_id for e in staged)
    for folio in folios:
        assert [e.aggregate_version for e in received if e.aggregate_id == folio] == list(range(1, 8))


async def test_broker_caido_el_outbox_espera_y_luego_entrega_todo_una_vez(  # type: ignore[no-untyped-def]
    outbox_db, kafka_settings, offline_kafka
) -> None:
    topic = f"test.caido.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic])
    async with outbox_db() as session, session.begin():
        envs = [solicitud() for _ in range(10)]
        for env in envs:
            await stage(session, Outbox, topic, env)

    down = Relay(outbox_db, Outbox, offline_kafka, lambda: kafka.make_producer(offline_kafka, "t"), Metrics())
    task = asyncio.create_task(down.run())
    await asyncio.sleep(1.5)
    assert not down.broker_ok
    assert down.last_error
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await down.stop()
    async with outbox_db() as session:
        assert await backlog(session, Outbox) == 10

    up = Relay(outbox_db, Outbox, kafka_settings, lambda: kafka.make_producer(kafka_settings, "t"), Metrics())
    assert await up.publish_batch() == 10
    await up.stop()
    received = await read_topic(kafka_settings, topic, expected=10)
    assert sorted(e.event_id for e in received) == sorted(e.event_id for e in envs)


async def test_replay_republica_toda_la_historia(outbox_db, kafka_settings) -> None:  # type: ignore[no-untyped-def]
    topic = f"test.replay.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic])
    async with outbox_db() as session, session.begin():
        for _ in range(4):
            await stage(session, Outbox, topic, solicitud())
    relay = Relay(
        outbox_db, Outbox, kafka_settings, lambda: kafka.make_producer(kafka_settings, "t"), Metrics()
    )
    assert await relay.publish_batch() == 4
    async with outbox_db() as session, session.begin():
        assert await mark_all_unpublished(session, Outbox) == 4
    assert await relay.publish_batch() == 4
    await relay.stop()
    received = await read_topic(kafka_settings, topic, expected=8)
    assert len(received) == 8
    assert len({e.event_id for e in received}) == 4


async def test_relay_ocioso_nota_un_broker_vaciado_y_republica(outbox_db) -> None:  # type: ignore[no-untyped-def]
    """The broker restarts empty while the relay has nothing to send (its producer never fails): the relay's
    periodic check sees the missing history and sends it again; on a healthy broker it sends nothing twice,
    even with batches of many records (whose end the local broker reports short)."""
    broker = LocalBroker(port=free_port())
    broker.start()
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap)
    topic = f"test.vaciado.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(settings, [topic])
    async with outbox_db() as session, session.begin():
        for _ in range(300):
            await stage(session, Outbox, topic, solicitud())
    relay = Relay(
        outbox_db,
        Outbox,
        settings,
        lambda: kafka.make_producer(settings, "t"),
        Metrics(),
        ensure_topics=lambda: kafka.ensure_topics(settings, [topic]),
        check_interval=0.3,
    )
    tarea = asyncio.create_task(relay.run())
    try:
        assert len(await read_raw(settings, topic, expected=300)) == 300
        await asyncio.sleep(1.5)  # several checks on a healthy broker
        assert (await kafka.message_counts(settings, [topic]))[topic] == 300

        broker.stop()
        broker.start()  # same address, nothing in it
        received = await read_topic(settings, topic, expected=300, timeout=60)
        assert len(received) == 300
        assert len({e.event_id for e in received}) == 300
        async with outbox_db() as session:
            assert await backlog(session, Outbox) == 0
    finally:
        await relay.stop()
        tarea.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tarea
        broker.stop()


async def _count(maker, model) -> int:  # type: ignore[no-untyped-def]
    async with maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _total(maker) -> int:  # type: ignore[no-untyped-def]
    async with maker() as session:
        return int(
            (
                await session.execute(
                    select(func.coalesce(func.sum(Conteo.total), 0)).where(
                        Conteo.serie == "solicitudes", Conteo.dimension == "total"
                    )
                )
            ).scalar_one()
        )


async def test_consumidor_idempotente_duplicados_y_dead_letters(outbox_db, kafka_settings) -> None:  # type: ignore[no-untyped-def]
    topic = f"test.consumo.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    envs = [solicitud("09"), solicitud("14"), solicitud("09", "electronica")]
    producer = kafka.make_producer(kafka_settings, "t")
    await producer.start()
    try:
        for env in [*envs, envs[0], envs[1]]:  # two duplicates: at-least-once delivery
            await producer.send_and_wait(topic, key=env.aggregate_id.encode(), value=env.to_bytes())
        await producer.send_and_wait(topic, key=b"x", value=b"{esto no es un evento")
        bad = solicitud("09")
        bad_raw = bad.model_copy(
            update={"data": {"folio": "F", "entidad": "09"}}
        ).to_bytes()  # missing fields
        await producer.send_and_wait(topic, key=b"y", value=bad_raw)
    finally:
        await producer.stop()

    metrics = Metrics()
    consumer = IdempotentConsumer(
        name=f"test.{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=build(cargar("pel2021")),
        maker=outbox_db,
        processed=ProcessedEvent,
        consumer_factory=lambda g, t: kafka.make_consumer(kafka_settings, g, t),
        producer_factory=lambda: kafka.make_producer(kafka_settings, "t"),
        metrics=metrics,
        retry_backoff=0.01,
    )
    task = asyncio.create_task(consumer.run())
    try:
        dead = await read_raw(kafka_settings, f"{topic}.dlq", expected=2, timeout=40)
        for _ in range(100):  # the last good event may still be on its way
            if await _total(outbox_db) == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    # Dead letters are at-least-once, like any delivery: a rebalance before the offset commit can resend a
    # poison message. What must hold: both are there, and every good event took effect exactly once.
    assert {r.value for r in dead} == {b"{esto no es un evento", bad_raw}
    for record in dead:
        headers = dict(record.headers)
        assert headers["dlq_consumer"] == consumer.name.encode()
        assert headers["dlq_error"]
    # Only the rejected message is named in the error; the three good events counted once each.
    assert dict(dead[0].headers)["dlq_source"].startswith(topic.encode())
    assert await _total(outbox_db) == 3
    assert await _count(outbox_db, ProcessedEvent) == 3

    def sample(outcome: str, event_type: str = SOLICITUD_RECIBIDA) -> float | None:
        return metrics.registry.get_sample_value(
            "vmre_events_consumed_total",
            {"consumer": consumer.name, "event_type": event_type, "outcome": outcome},
        )

    assert sample("processed") == 3
    assert (sample("duplicate") or 0) >= 2
    assert (sample("dead_lettered") or 0) >= 1
    assert (sample("dead_lettered", "ilegible") or 0) >= 1


async def test_base_de_datos_ausente_no_manda_a_dead_letters_y_luego_procesa(  # type: ignore[no-untyped-def]
    databases: Databases, kafka_settings
) -> None:
    """A database that cannot take the effect (here: not migrated yet) is the platform's fault, not the
    event's: the consumer retries without dead-lettering and without committing, then catches up."""
    topic = f"test.sinbd.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    url = await databases.new("tablero", migrate=False)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    env = solicitud("32")
    producer = kafka.make_producer(kafka_settings, "t")
    await producer.start()
    await producer.send_and_wait(topic, key=env.aggregate_id.encode(), value=env.to_bytes())
    await producer.stop()

    consumer = IdempotentConsumer(
        name=f"test.{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=build(cargar("pel2021")),
        maker=maker,
        processed=ProcessedEvent,
        consumer_factory=lambda g, t: kafka.make_consumer(kafka_settings, g, t),
        producer_factory=lambda: kafka.make_producer(kafka_settings, "t"),
        metrics=Metrics(),
        retry_backoff=0.01,
    )
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(200):
            if consumer.last_error:
                break
            await asyncio.sleep(0.1)
        assert consumer.last_error
        assert "OperationalError" in consumer.last_error or "ProgrammingError" in consumer.last_error

        from shared import migrations

        await asyncio.to_thread(migrations.upgrade, "tablero", url)
        for _ in range(300):
            if await _total(maker) == 1:
                break
            await asyncio.sleep(0.1)
        assert await _total(maker) == 1
    finally:
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
    assert await read_raw(kafka_settings, f"{topic}.dlq", expected=1, timeout=2) == []


async def test_consumidor_aplica_lotes_en_una_transaccion_y_cada_evento_una_vez(  # type: ignore[no-untyped-def]
    outbox_db, kafka_settings
) -> None:
    """Hundreds of events in few transactions (a read model keeps up), duplicates inside a batch absorbed."""
    topic = f"test.lotes.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    envs = [solicitud("09" if i % 3 else "14") for i in range(300)]
    producer = kafka.make_producer(kafka_settings, "t")
    await producer.start()
    try:
        # 40 repeated after (at-least-once delivery), and one repeated right after itself (the same batch).
        for env in [*envs[:100], envs[99], *envs[100:], *envs[:40]]:
            await producer.send_and_wait(topic, key=b"una-llave", value=env.to_bytes())  # one partition
    finally:
        await producer.stop()
    commits = 0

    class Contador:
        def __init__(self, maker):  # type: ignore[no-untyped-def]
            self.maker = maker

        def __call__(self):  # type: ignore[no-untyped-def]
            nonlocal commits
            commits += 1
            return self.maker()

    metrics = Metrics()
    consumer = IdempotentConsumer(
        name=f"test.{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=build(cargar("pel2021")),
        maker=Contador(outbox_db),  # type: ignore[arg-type]
        processed=ProcessedEvent,
        consumer_factory=lambda g, t: kafka.make_consumer(kafka_settings, g, t),
        producer_factory=lambda: kafka.make_producer(kafka_settings, "t"),
        metrics=metrics,
    )
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(300):
            if await _total(outbox_db) == 300 and await _count(outbox_db, ProcessedEvent) == 300:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the 40 repeated ones, after the 300
    finally:
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await _total(outbox_db) == 300
    assert await _count(outbox_db, ProcessedEvent) == 300
    async with outbox_db() as session:  # the counters a batch adds up in memory, each right per entidad
        por_entidad = dict(
            (
                await session.execute(
                    select(Conteo.entidad, Conteo.total).where(
                        Conteo.serie == "solicitudes", Conteo.dimension == "total"
                    )
                )
            ).all()
        )
    assert por_entidad == {"09": 200, "14": 100}

    def sample(outcome: str) -> float:
        return (
            metrics.registry.get_sample_value(
                "vmre_events_consumed_total",
                {"consumer": consumer.name, "event_type": SOLICITUD_RECIBIDA, "outcome": outcome},
            )
            or 0.0
        )

    assert sample("processed") == 300
    # At-least-once: a rejoin may deliver everything again; the inbox absorbs it.
    entregados = 300 + sample("duplicate")
    assert entregados >= 341
    assert commits <= entregados / 10, f"{commits} transacciones para {entregados:.0f} eventos: sin lotes"


class PostgresRecuperandose:
    """A PostgreSQL server while it replays its WAL after a crash, on the wire: every connection gets what a
    real one sends then, ``FATAL 57P03 the database system is not yet accepting connections``."""

    def __init__(self) -> None:
        self.conexiones = 0
        self.servidor: asyncio.Server | None = None
        self.puerto = 0

    async def __aenter__(self) -> PostgresRecuperandose:
        self.servidor = await asyncio.start_server(self._atender, "127.0.0.1", 0)
        self.puerto = self.servidor.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.servidor is not None
        self.servidor.close()
        await self.servidor.wait_closed()

    async def _atender(self, lector: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        self.conexiones += 1
        try:
            while True:
                largo = struct.unpack("!I", await lector.readexactly(4))[0]
                cuerpo = await lector.readexactly(largo - 4)
                if struct.unpack("!I", cuerpo[:4])[0] in (80877103, 80877104):  # SSLRequest, GSSENCRequest
                    escritor.write(b"N")
                    continue
                break  # the StartupMessage
            campos = (
                b"".join(
                    clave + valor.encode() + b"\0"
                    for clave, valor in (
                        (b"S", "FATAL"),
                        (b"V", "FATAL"),
                        (b"C", "57P03"),
                        (b"M", "the database system is not yet accepting connections"),
                        (b"D", "Consistent recovery state has not been yet reached."),
                    )
                )
                + b"\0"
            )
            escritor.write(b"E" + struct.pack("!I", len(campos) + 4) + campos)
            await escritor.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            escritor.close()


async def test_base_de_datos_recuperandose_no_manda_a_dead_letters() -> None:
    """PostgreSQL restarting after a crash answers 57P03 for a while. asyncpg does not call that a connection
    error, but it is the database's, not the event's: the consumer must give the event back (raise, offset
    uncommitted, delivered again) and never dead-letter it. Seen in the fault drill: the event that would
    create the voters' accounts went to dead letters and the drill waited for them forever."""
    producidos: list[str] = []

    def sin_dead_letters() -> kafka.AIOKafkaProducer:
        producidos.append("dead letter")
        raise AssertionError("un evento fue a dead letters por una base que se recupera")

    async with PostgresRecuperandose() as pg:
        engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{pg.puerto}/tablero")
        consumer = IdempotentConsumer(
            name="test.recuperandose",
            topics=["t"],
            handlers=build(cargar("pel2021")),
            maker=make_sessionmaker(engine),
            processed=ProcessedEvent,
            consumer_factory=lambda g, t: kafka.make_consumer(KafkaSettings(), g, t),
            producer_factory=sin_dead_letters,
            metrics=Metrics(),
            retry_backoff=0.01,
        )
        env = solicitud("32")
        record = ConsumerRecord(
            topic="t", partition=0, offset=7, timestamp=0, timestamp_type=0, key=b"k", value=env.to_bytes(),
            checksum=None, serialized_key_size=1, serialized_value_size=1, headers=[],
        )  # fmt: skip
        try:
            with pytest.raises(Exception, match="not yet accepting connections") as uno_por_uno:
                await consumer._process(record)
            with pytest.raises(Exception, match="not yet accepting connections") as en_lote:
                await consumer._process_batch([record, record])
        finally:
            await engine.dispose()
    assert pg.conexiones >= 2  # it did reach the recovering server, both ways
    for fallo in (uno_por_uno.value, en_lote.value):
        assert "not yet accepting connections" in str(fallo)
        assert es_de_infraestructura(fallo)
    assert producidos == []
