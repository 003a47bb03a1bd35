"""The consumer commits offsets only as the group member that fetched the records.

After a broker restarts empty, aiokafka still holds fetch positions of the old log and, once the broker
answers that it does not know the member, resets its generation and member id. A commit sent then goes out
without a member, and a group with no members takes it as a plain commit: an offset of the old log lands in
the new one, the rewind on assignment never happens, and events are skipped (CI: tablero saw 24 of 25).
These tests drive ``IdempotentConsumer`` with a scripted aiokafka stand-in to hit those windows exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.tablero.models import ProcessedEvent
from shared.bus.consumer import IdempotentConsumer
from shared.bus.envelope import Envelope
from shared.db import make_engine, make_sessionmaker
from shared.events.registro import SOLICITUD_RECIBIDA
from shared.observability import Metrics
from tests.factories import evento_recibida
from tests.support.comun import Databases

TOPIC = "test.membresia"
TP = TopicPartition(TOPIC, 0)


class FakeCoordinator:
    def __init__(self, n: int) -> None:
        self.generation, self.member_id = 1, f"miembro-{n}"

    def forget(self) -> None:
        """What aiokafka does on UNKNOWN_MEMBER_ID (``reset_generation``)."""
        self.generation, self.member_id = -1, ""


class FakeKafkaConsumer:
    """Just what ``IdempotentConsumer`` uses of ``AIOKafkaConsumer``, scripted."""

    def __init__(self, n: int, batches: list[list[ConsumerRecord[bytes, bytes]]], committed: int | None):
        self._coordinator = FakeCoordinator(n)
        self.batches = batches
        self.group_committed = committed
        self.commits: list[dict[TopicPartition, int]] = []
        self.rewound: list[TopicPartition] = []
        self.on_commit: Callable[[], None] = lambda: None
        self.listener: Any = None
        self.particiones = 1  # what the metadata says the topic has
        self.stopped = False

    def subscribe(self, _topics: list[str], listener: Any) -> None:
        self.listener = listener

    async def start(self) -> None:
        await self.listener.on_partitions_assigned({TP})

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:  # noqa: ARG002 — called with keywords, as aiokafka
        if self.batches:
            return {TP: self.batches.pop(0)}
        await asyncio.sleep(0.01)
        return {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.on_commit()
        self.commits.append(offsets)

    async def committed(self, _tp: TopicPartition) -> int | None:
        return self.group_committed

    def partitions_for_topic(self, _topic: str) -> set[int]:
        return set(range(self.particiones))

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        self.rewound.extend(tps)

    async def stop(self) -> None:
        self.stopped = True


def record(offset: int, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    value = envelope.to_bytes()
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, b"k", value, None, 1, len(value), [])


@pytest.fixture
async def maker(databases: Databases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(await databases.new("tablero"))
    yield make_sessionmaker(engine)
    await engine.dispose()


class Harness:
    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.fakes: list[FakeKafkaConsumer] = []
        self.script: list[Callable[[int], FakeKafkaConsumer]] = []
        self.handled: list[str] = []
        self.during_handler: Callable[[], None] = lambda: None

        async def handler(_session: AsyncSession, envelope: Envelope) -> None:
            self.handled.append(envelope.event_id)
            self.during_handler()

        def factory(_group: str, _topics: list[str]) -> Any:
            fake = self.script.pop(0)(len(self.fakes)) if self.script else FakeKafkaConsumer(99, [], None)
            self.fakes.append(fake)
            return fake

        self.consumer = IdempotentConsumer(
            name="test.membresia",
            topics=[TOPIC],
            handlers={SOLICITUD_RECIBIDA: handler},
            maker=maker,
            processed=ProcessedEvent,
            consumer_factory=factory,
            producer_factory=lambda: None,
            metrics=Metrics(),
        )

    async def run_until(self, done: Callable[[], bool], timeout: float = 10) -> None:
        task = asyncio.create_task(self.consumer.run())
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not done() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # anything the consumer does right after would show up now
        finally:
            await self.consumer.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_lo_leido_cuando_el_grupo_ya_olvido_al_consumidor_no_se_procesa_ni_se_confirma(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The CI failure: records fetched at old positions arrive after the broker said "unknown member"."""
    h = Harness(maker)

    def forgotten(n: int) -> FakeKafkaConsumer:
        fake = FakeKafkaConsumer(n, [[record(3, evento_recibida()), record(4, evento_recibida())]], None)
        fake._coordinator.forget()
        return fake

    h.script.append(forgotten)
    await h.run_until(lambda: not h.fakes or not h.fakes[0].batches)
    assert h.fakes[0].commits == []
    assert h.handled == []


async def test_si_el_grupo_lo_olvida_mientras_procesa_no_confirma(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    h = Harness(maker)
    h.script.append(lambda n: FakeKafkaConsumer(n, [[record(3, evento_recibida())]], None))
    h.during_handler = lambda: h.fakes[0]._coordinator.forget()
    await h.run_until(lambda: bool(h.handled))
    assert len(h.handled) == 1  # the effect is in, deduplicated when the record comes again
    assert h.fakes[0].commits == []


async def test_si_el_grupo_lo_olvida_durante_la_confirmacion_se_relee_todo(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The commit may have gone out without a member: what the group now holds is not to be trusted."""
    h = Harness(maker)

    def first(n: int) -> FakeKafkaConsumer:
        fake = FakeKafkaConsumer(n, [[record(3, evento_recibida())]], None)
        fake.on_commit = fake._coordinator.forget
        return fake

    h.script.append(first)
    h.script.append(lambda n: FakeKafkaConsumer(n, [], committed=4))
    await h.run_until(lambda: len(h.fakes) >= 2 and bool(h.fakes[1].rewound))
    assert len(h.fakes) >= 2, "el consumidor no volvió a empezar"
    assert h.fakes[1].rewound == [TP]  # read again from the beginning despite the committed offset
    assert h.consumer.rewind_all is False  # once


async def test_un_topico_con_otro_numero_de_particiones_hace_unirse_de_nuevo_como_miembro_nuevo(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """CI: after the broker restarted empty, the acta topic came back with 4 partitions instead of 3; the
    local broker answered tablero's rejoin with the old assignment, and partition 3 (entidad 16's acta) was
    never read. A changed partition count makes the consumer leave and join as a new member; what it had
    just read is neither processed nor committed (it comes again from the committed offsets)."""
    h = Harness(maker)

    def crece(n: int) -> FakeKafkaConsumer:
        fake = FakeKafkaConsumer(n, [[record(3, evento_recibida())]], None)

        async def getmany(timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:  # noqa: ARG001
            fake.particiones = 4  # the metadata the fetch brought along
            await asyncio.sleep(0.01)
            return {TP: fake.batches.pop(0)} if fake.batches else {}

        fake.getmany = getmany  # type: ignore[method-assign]
        return fake

    h.script.append(crece)
    h.script.append(lambda n: FakeKafkaConsumer(n, [[record(3, evento_recibida())]], None))
    await h.run_until(lambda: len(h.fakes) >= 2 and bool(h.fakes[1].commits))
    assert h.fakes[0].stopped, "el consumidor no dejó el grupo"
    assert h.fakes[0].commits == []
    assert len(h.fakes) >= 2
    assert h.fakes[1].commits == [{TP: 4}]
    assert len(h.handled) == 1  # read once by the new member, not by the old one


async def test_un_topico_que_vuelve_con_las_mismas_particiones_no_cambia_nada(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The topic vanished (the broker restarted) and came back as it was: no reason to leave the group."""
    h = Harness(maker)

    def vuelve(n: int) -> FakeKafkaConsumer:
        fake = FakeKafkaConsumer(n, [[record(3, evento_recibida())]], None)
        llamadas = 0

        async def getmany(timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:  # noqa: ARG001
            nonlocal llamadas
            llamadas += 1
            fake.particiones = 0 if llamadas == 1 else 1  # gone for a moment, then back with one partition
            await asyncio.sleep(0.01)
            return {TP: fake.batches.pop(0)} if llamadas > 1 and fake.batches else {}

        fake.getmany = getmany  # type: ignore[method-assign]
        return fake

    h.script.append(vuelve)
    await h.run_until(lambda: bool(h.fakes and h.fakes[0].commits))
    assert len(h.fakes) == 1
    assert h.fakes[0].commits == [{TP: 4}]
