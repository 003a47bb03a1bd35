"""Transactional outbox: events are staged in the same transaction as the state change, and a relay
publishes them in order. Kafka is transport; the outbox is the record (``vmre replay`` republishes it)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, Integer, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.bus import kafka
from shared.bus.envelope import Envelope
from shared.db import UTCDateTime, insertar, utcnow
from shared.observability import Metrics
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

STAGED_FLAG = "vmre_outbox_staged"


class OutboxMixin:
    """Columns of a service's ``outbox`` table (declare ``class Outbox(OutboxMixin, Base)``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index("ix_outbox_unpublished", "published_at", "id"),)


async def stage(session: AsyncSession, outbox: type[OutboxMixin], topic: str, envelope: Envelope) -> None:
    """Add the event to the caller's transaction. Never talks to Kafka. A plain INSERT (no ORM object kept in
    the session), so a transaction that stages thousands of events stays linear."""
    await stage_many(session, outbox, topic, [envelope])


async def stage_many(
    session: AsyncSession, outbox: type[OutboxMixin], topic: str, envelopes: list[Envelope]
) -> None:
    """``stage`` for many events of one topic in one statement, in the given order."""
    ahora = utcnow()
    await insertar(
        session,
        outbox,
        [
            {
                "event_id": e.event_id,
                "topic": topic,
                "key": e.aggregate_id,
                "event_type": e.event_type,
                "payload": e.model_dump_json(),
                "created_at": ahora,
            }
            for e in envelopes
        ],
    )
    session.info[STAGED_FLAG] = True


@dataclass(frozen=True)
class Emisor:
    """How one service writes its events: each envelope signed with the service's name (``source``) and
    staged in its outbox. A service declares one (``emisor = Emisor(SERVICIO, Outbox)``), so no call site
    repeats either."""

    source: str
    outbox: type[OutboxMixin]

    def envelope(
        self,
        *,
        event_type: str,
        aggregate_id: str,
        data: BaseModel | dict[str, Any],
        aggregate_version: int = 1,
    ) -> Envelope:
        return Envelope.new(
            event_type=event_type,
            source=self.source,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            data=data,
        )

    async def emitir(
        self,
        session: AsyncSession,
        topic: str,
        *,
        event_type: str,
        aggregate_id: str,
        data: BaseModel | dict[str, Any],
        aggregate_version: int = 1,
    ) -> None:
        """``stage`` one new event of this service in the caller's transaction."""
        envelope = self.envelope(
            event_type=event_type, aggregate_id=aggregate_id, data=data, aggregate_version=aggregate_version
        )
        await stage(session, self.outbox, topic, envelope)


async def backlog(session: AsyncSession, outbox: type[OutboxMixin]) -> int:
    result = await session.execute(
        select(func.count()).select_from(outbox).where(outbox.published_at.is_(None))
    )
    return int(result.scalar_one())


async def mark_all_unpublished(
    session: AsyncSession, outbox: type[OutboxMixin], topics: list[str] | None = None
) -> int:
    """Replay: the relay publishes the whole history (of ``topics``, or all) again, in its original order."""
    stmt = update(outbox).values(published_at=None)
    if topics is not None:
        stmt = stmt.where(outbox.topic.in_(topics))
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Relay:
    """Claims unpublished rows in order, produces them, awaits the acks, marks them published.

    One relay per service keeps per-key order. A crash between produce and commit only re-sends:
    consumers deduplicate by ``event_id``. While the broker is away rows wait, and the backlog grows.
    """

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        outbox: type[OutboxMixin],
        kafka: KafkaSettings,
        producer_factory: Callable[[], AIOKafkaProducer],
        metrics: Metrics,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        ensure_topics: Callable[[], Any] | None = None,
        check_interval: float = 5.0,
    ) -> None:
        self.maker = maker
        self.outbox = outbox
        self.kafka = kafka
        self.producer_factory = producer_factory
        self.metrics = metrics
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ensure_topics = ensure_topics
        self.producer: AIOKafkaProducer | None = None
        self.broker_ok = False
        self.last_error: str | None = None
        self.check_interval = check_interval
        # Messages per topic the broker acknowledged to us (from the outbox at connect, then counted as we
        # publish): what each topic's log must hold at least.
        self._published: dict[str, int] | None = None
        self._checked_at = 0.0
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def _connect(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = self.producer_factory()
            try:
                await producer.start()
                if self.ensure_topics is not None:
                    await self.ensure_topics()
                await self._republish_if_broker_lost_data()
            except Exception:
                await producer.stop()
                raise
            self.producer = producer
        return self.producer

    async def _republish_if_broker_lost_data(self) -> None:
        """On (re)connecting, and every ``check_interval`` seconds while idle (a broker can restart between
        two sends without the producer noticing): if a topic holds fewer messages than we know we published
        to it, the broker lost its data (the local broker keeps everything in memory). Republish that topic's
        whole history, in order: each partition's log becomes again a prefix of what it was, and consumers
        dedupe the rest."""
        self._checked_at = asyncio.get_running_loop().time()
        if self._published is None:
            async with self.maker() as session:
                rows = await session.execute(
                    select(self.outbox.topic, func.count())
                    .where(self.outbox.published_at.is_not(None))
                    .group_by(self.outbox.topic)
                )
                self._published = {topic: int(count) for topic, count in rows.all()}
        published = {topic: count for topic, count in self._published.items() if count}
        if not published:
            return
        on_broker = await kafka.message_counts(self.kafka, list(published))
        lost = [topic for topic, count in published.items() if on_broker.get(topic, 0) < count]
        if not lost:
            return
        # The producer reconnected by itself: the topics of the broker that came back may not exist yet.
        # Create them (partitions, settings) before the history goes out, not by the broker on first send.
        if self.ensure_topics is not None:
            await self.ensure_topics()
        async with self.maker() as session, session.begin():
            republished = await mark_all_unpublished(session, self.outbox, lost)
        self._published = None  # counted again from the outbox as the history goes out anew
        self.wake()
        log.warning(
            "el broker perdió eventos ya publicados: se republica el historial",
            extra={"topics": lost, "events": republished},
        )

    async def _disconnect(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            try:
                await producer.stop()
            except Exception:  # pragma: no cover - best effort on a broken connection
                log.debug("producer stop failed", exc_info=True)

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` events; return how many. Raises if the broker fails."""
        async with self.maker() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(self.outbox)
                        .where(self.outbox.published_at.is_(None))
                        .order_by(self.outbox.id)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return 0
            producer = await self._connect()
            futures = [
                await producer.send(
                    row.topic,
                    key=row.key.encode(),
                    value=row.payload.encode(),
                    headers=[("event_type", row.event_type.encode()), ("event_id", row.event_id.encode())],
                )
                for row in rows
            ]
            await asyncio.gather(*futures)
            if self._published is not None:
                for row in rows:
                    self._published[row.topic] = self._published.get(row.topic, 0) + 1
            now = utcnow()
            ids = [row.id for row in rows]
            await session.execute(update(self.outbox).where(self.outbox.id.in_(ids)).values(published_at=now))
        self.metrics.outbox_published.inc(len(rows))
        return len(rows)

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                await self._connect()
                published = await self.publish_batch()
                self.broker_ok = True
                self.metrics.broker_up.set(1)
                self.last_error = None
                backoff = 0.5
                if published >= self.batch_size:
                    continue
                if asyncio.get_running_loop().time() - self._checked_at >= self.check_interval:
                    await self._republish_if_broker_lost_data()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.broker_ok = False
                self.metrics.broker_up.set(0)
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("relay: broker no disponible, se reintenta", extra={"error": self.last_error})
                await self._disconnect()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that meets the wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        await self._disconnect()
