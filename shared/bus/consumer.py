"""Idempotent consumer: each event's effect and its ``processed_events`` row commit together; the offset
is committed only after. Poison messages go to ``<topic>.dlq`` after bounded retries, with the error."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from pydantic import ValidationError
from sqlalchemy import String, insert, select
from sqlalchemy.exc import DBAPIError, InterfaceError, InternalError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.bus.envelope import Envelope
from shared.bus.topics import dlq
from shared.db import UTCDateTime, utcnow
from shared.observability import Metrics, correlation_id_var

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

# The database, not the event, is at fault (down, locked, schema missing): retry without dead-lettering.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, ProgrammingError, InternalError, OSError)
# SQLSTATE classes of a server that is away or overwhelmed, not of a bad event: 08 connection exception,
# 53 insufficient resources, 57 operator intervention (57P01 shutting down, 57P03 "the database system is not
# yet accepting connections" while it recovers), 58 system error; 40001/40P01 a serialization failure or a
# deadlock, which the same event survives when tried again. asyncpg's drivers map several of them to the
# generic DatabaseError (or, while connecting, raise them untranslated), so the classes below say it.
CLASES_SQLSTATE_DE_INFRAESTRUCTURA = ("08", "53", "57", "58")
SQLSTATE_REINTENTABLES = ("40001", "40P01")


def es_de_infraestructura(exc: BaseException) -> bool:
    """Whether the failure is the database's (retry the event later, never dead-letter it)."""
    if isinstance(exc, INFRASTRUCTURE_ERRORS):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    origen = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(origen, "sqlstate", None) or getattr(origen, "pgcode", None)
    return isinstance(sqlstate, str) and (
        sqlstate[:2] in CLASES_SQLSTATE_DE_INFRAESTRUCTURA or sqlstate in SQLSTATE_REINTENTABLES
    )


class ProcessedEventMixin:
    """Columns of a consumer's ``processed_events`` table (the inbox)."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


async def apply_once(
    session: AsyncSession,
    processed: type[ProcessedEventMixin],
    consumer: str,
    envelope: Envelope,
    handler: Handler,
) -> bool:
    """Run ``handler`` unless this consumer already processed the event. Caller owns the transaction."""
    seen = await session.execute(
        select(processed.event_id).where(
            processed.consumer == consumer, processed.event_id == envelope.event_id
        )
    )
    if seen.first() is not None:
        return False
    # Insert first: a concurrent duplicate fails here on the primary key, before any effect.
    await session.execute(
        insert(processed).values(consumer=consumer, event_id=envelope.event_id, processed_at=utcnow())
    )
    await handler(session, envelope)
    return True


class MembershipLost(RuntimeError):
    """The group forgot this consumer while it committed: what the group holds may not be trusted."""


def _membership(consumer: AIOKafkaConsumer) -> tuple[int, str] | None:
    """(generation, member id) while the group knows this consumer; None once it does not.

    aiokafka has no public accessor for it. Its coordinator resets both (to -1 and "") when the broker
    answers that it does not know the member: the session expired, or the broker lost its state.
    """
    coordinator: Any = getattr(consumer, "_coordinator", None)
    generation = getattr(coordinator, "generation", -1)
    member_id = getattr(coordinator, "member_id", "")
    return (generation, member_id) if generation >= 0 and member_id else None


def _particiones(consumer: AIOKafkaConsumer, topics: list[str]) -> dict[str, int]:
    """How many partitions the consumer's metadata knows for each topic (0: the topic is unknown now)."""
    return {t: len(consumer.partitions_for_topic(t) or ()) for t in topics}


def _cambiaron(vistas: dict[str, int], ahora: dict[str, int]) -> list[str]:
    """The topics whose partition count is now another than the last one seen (updating ``vistas``). A topic
    that vanished (0) keeps its last count: one that comes back with the same count is not a change."""
    cambiados = [t for t, n in ahora.items() if n and n != vistas.get(t, 0)]
    vistas.update({t: n for t, n in ahora.items() if n})
    return cambiados


class _RewindWithoutOffsets(ConsumerRebalanceListener):
    """A partition the group has no committed offset for is read from its beginning — explicitly, not from a
    fetch position kept in memory: after a broker lost its data (the local broker restarted), an old position
    would skip messages. Re-reading costs only duplicates, which the inbox absorbs. ``owner.rewind_all``:
    read every assigned partition from its beginning, whatever was committed (see ``_commit``)."""

    def __init__(self, consumer: AIOKafkaConsumer, owner: IdempotentConsumer) -> None:
        self.consumer = consumer
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:  # noqa: ARG002 — aiokafka listener signature
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        rewind_all = self.owner.rewind_all
        for tp in assigned:
            if rewind_all or await self.consumer.committed(tp) is None:
                await self.consumer.seek_to_beginning(tp)
        if rewind_all and assigned:
            self.owner.rewind_all = False


class IdempotentConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: dict[str, Handler],
        maker: async_sessionmaker[AsyncSession],
        processed: type[ProcessedEventMixin],
        consumer_factory: Callable[[str, list[str]], AIOKafkaConsumer],
        producer_factory: Callable[[], AIOKafkaProducer],
        metrics: Metrics,
        max_retries: int = 3,
        retry_backoff: float = 0.2,
        ensure_topics: Callable[[], Awaitable[Any]] | None = None,
        batch_size: int = 100,
    ) -> None:
        self.name = name
        self.topics = topics
        self.handlers = handlers
        self.maker = maker
        self.processed = processed
        self.consumer_factory = consumer_factory
        self.producer_factory = producer_factory
        self.metrics = metrics
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        # Events of one partition applied per transaction (a failing batch is retried event by event).
        self.batch_size = batch_size
        self.connected = False
        self.last_error: str | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer: AIOKafkaProducer | None = None
        self._stopping = False
        # Seconds a Kafka client gets to close while the service stops (see ``_close``): less than the
        # service gives its loops (shared/web.py, PARADA_TAREAS).
        self.stop_timeout = 1.5
        self.rewind_all = False
        # Create the topics (with the configured partition count) before subscribing: a subscription to a
        # missing topic would have the broker create it with its own default count.
        self.ensure_topics = ensure_topics

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> tuple[str, str]:
        """Return (event_type, outcome): processed, duplicate, ignored or dead_lettered."""
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(
                record, f"sobre de evento ilegible: {exc.error_count()} errores", attempts=0
            )
            return "ilegible", "dead_lettered"
        handler = self.handlers.get(envelope.event_type)
        if handler is None:
            return envelope.event_type, "ignored"
        return envelope.event_type, await self._handle(record, envelope, handler)

    async def _process_batch(
        self, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[tuple[str, str]] | None:
        """Every record in ONE transaction (one commit instead of one per event: what lets a read model keep
        up with hundreds of events per second). Returns (event_type, outcome) per record, or None when any
        record is unreadable or any handler fails: then nothing of the batch committed, and the caller takes
        the records one by one (retries, dead letters) as before."""
        parsed: list[tuple[Envelope, Handler | None]] = []
        for record in records:
            try:
                envelope = Envelope.from_bytes(record.value or b"")
            except ValidationError:
                return None
            parsed.append((envelope, self.handlers.get(envelope.event_type)))
        outcomes: list[tuple[str, str]] = []
        try:
            async with self.maker() as session, session.begin():
                # The inbox of the whole batch in two statements: the ids it already holds, then the new ones
                # (inserted before any effect, so a concurrent duplicate fails on the primary key first).
                ids = [e.event_id for e, h in parsed if h is not None]
                seen = (
                    set(
                        (
                            await session.execute(
                                select(self.processed.event_id).where(
                                    self.processed.consumer == self.name, self.processed.event_id.in_(ids)
                                )
                            )
                        ).scalars()
                    )
                    if ids
                    else set()
                )
                nuevos: dict[str, Envelope] = {}
                for envelope, handler in parsed:
                    if handler is not None and envelope.event_id not in seen:
                        nuevos.setdefault(envelope.event_id, envelope)
                if nuevos:
                    ahora = utcnow()
                    await session.execute(
                        insert(self.processed),
                        [{"consumer": self.name, "event_id": i, "processed_at": ahora} for i in nuevos],
                    )
                for envelope, handler in parsed:
                    if handler is None:
                        outcomes.append((envelope.event_type, "ignored"))
                        continue
                    if nuevos.pop(envelope.event_id, None) is None:  # seen before, or earlier in this batch
                        outcomes.append((envelope.event_type, "duplicate"))
                        continue
                    token = correlation_id_var.set(envelope.correlation_id)
                    try:
                        await handler(session, envelope)
                    finally:
                        correlation_id_var.reset(token)
                    outcomes.append((envelope.event_type, "processed"))
        except Exception as exc:
            if es_de_infraestructura(exc):
                raise
            log.info(
                "consumidor: un lote falló; se procesa evento por evento",
                extra={"consumer": self.name, "records": len(records), "error": type(exc).__name__},
            )
            return None
        ahora = dt.datetime.now(dt.UTC)
        for (envelope, _), (_, outcome) in zip(parsed, outcomes, strict=True):
            if outcome == "processed":
                lag = (ahora - envelope.occurred_at).total_seconds()
                self.metrics.event_lag.labels(self.name).observe(max(lag, 0.0))
        return outcomes

    async def _handle(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, handler: Handler
    ) -> str:
        token = correlation_id_var.set(envelope.correlation_id)
        try:
            last_exc: Exception | None = None
            for attempt in range(1, self.max_retries + 1):
                try:
                    async with self.maker() as session, session.begin():
                        applied = await apply_once(session, self.processed, self.name, envelope, handler)
                    if applied:
                        lag = (dt.datetime.now(dt.UTC) - envelope.occurred_at).total_seconds()
                        self.metrics.event_lag.labels(self.name).observe(max(lag, 0.0))
                    return "processed" if applied else "duplicate"
                except Exception as exc:
                    if es_de_infraestructura(exc):
                        # The database is away, not the event at fault: no dead letter. The offset stays
                        # uncommitted and the consumer reconnects; the event is delivered again.
                        raise
                    last_exc = exc
                    log.warning(
                        "handler falló",
                        extra={
                            "consumer": self.name,
                            "event_id": envelope.event_id,
                            "event_type": envelope.event_type,
                            "attempt": attempt,
                            "error": type(exc).__name__,
                        },
                    )
                    await asyncio.sleep(self.retry_backoff * attempt)
            await self._dead_letter(
                record, f"{type(last_exc).__name__}: {last_exc}", attempts=self.max_retries
            )
            return "dead_lettered"
        finally:
            correlation_id_var.reset(token)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str, attempts: int) -> None:
        if self._dlq_producer is None:
            self._dlq_producer = self.producer_factory()
            await self._dlq_producer.start()
        headers = [
            *(record.headers or ()),
            ("dlq_error", error[:1000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
        ]
        await self._dlq_producer.send_and_wait(
            dlq(record.topic), key=record.key, value=record.value, headers=headers
        )
        log.error(
            "evento enviado a dead letters",
            extra={"consumer": self.name, "topic": dlq(record.topic), "error": error[:200]},
        )

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            if self.ensure_topics is not None:
                try:
                    async with asyncio.timeout(15):  # not wait_for: it can swallow a cancellation (3.11)
                        await self.ensure_topics()
                except Exception as exc:  # the broker may be down: the consumer retries below anyway
                    log.debug("consumidor: no se pudieron asegurar los tópicos", extra={"error": repr(exc)})
            consumer = self.consumer_factory(self.name, [])
            consumer.subscribe(self.topics, listener=_RewindWithoutOffsets(consumer, self))
            try:
                await consumer.start()
                self._consumer = consumer
                self.connected = True
                self.last_error = None
                backoff = 0.5
                vistas = _particiones(consumer, self.topics)
                while not self._stopping:
                    batch = await consumer.getmany(timeout_ms=500, max_records=500)
                    if cambiados := _cambiaron(vistas, _particiones(consumer, self.topics)):
                        # A topic gained partitions (or came back with another count: a broker that lost
                        # its data and had a topic auto-created). The group must assign the new ones, but a
                        # coordinator may answer a rejoin of the same member with its previous assignment
                        # (the local broker does): those partitions would go unread. Leave, and join as a
                        # new member; the records just read come again from the committed offsets.
                        log.warning(
                            "consumidor: cambió el número de particiones; se une al grupo de nuevo",
                            extra={"consumer": self.name, "topics": cambiados},
                        )
                        break
                    member = _membership(consumer)
                    if member is None:
                        # Fetched at positions the group no longer vouches for (after a broker restart they
                        # point into a log that is gone). Drop them: the rejoin positions every partition
                        # again, from its committed offset or its beginning.
                        if batch:
                            log.info(
                                "consumidor: el grupo no lo reconoce; se descartan registros leídos",
                                extra={"consumer": self.name, "records": sum(map(len, batch.values()))},
                            )
                        continue
                    for tp, records in batch.items():
                        for i in range(0, len(records), self.batch_size):
                            lote = records[i : i + self.batch_size]
                            outcomes = await self._process_batch(lote) if len(lote) > 1 else None
                            if outcomes is None:  # one by one: retries and dead letters per event
                                outcomes = [await self._process(record) for record in lote]
                            for event_type, outcome in outcomes:
                                self.metrics.events_consumed.labels(self.name, event_type, outcome).inc()
                        # Offsets only after the effects committed: a crash re-delivers what dedupe absorbs.
                        if not await self._commit(consumer, member, tp, records[-1].offset + 1):
                            break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "consumidor: error, se reconecta", extra={"consumer": self.name, "error": self.last_error}
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.connected = False
                self._consumer = None
                await self._close(consumer)

    async def _close(self, consumer: AIOKafkaConsumer) -> None:
        """Close the Kafka consumer; within ``stop_timeout`` when the service is stopping (this task being
        cancelled, or ``stop`` called): with the broker gone, leaving the group waits for metadata that never
        comes. On a reconnect it may take its time, so that a slow close leaves no client running behind."""
        task = asyncio.current_task()
        stopping = self._stopping or (task is not None and task.cancelling() > 0)
        try:
            if stopping:
                async with asyncio.timeout(self.stop_timeout):
                    await consumer.stop()
            else:
                await consumer.stop()
        except TimeoutError:
            log.warning("consumidor: no se cerró a tiempo", extra={"consumer": self.name})
        except Exception:  # pragma: no cover
            log.debug("consumer stop failed", exc_info=True)

    async def _commit(
        self, consumer: AIOKafkaConsumer, member: tuple[int, str], tp: TopicPartition, offset: int
    ) -> bool:
        """Commit ``offset`` only as the group member that fetched the records; False if it is not anymore.

        Once the group forgot this consumer, aiokafka would send the commit without a member, and a group
        with no members takes that as a plain commit: after a broker that lost its data, an offset of the
        old log would land in the new one and the rewind on assignment would never happen."""
        if _membership(consumer) != member:
            # Uncommitted: the records come again after the rejoin, and the inbox absorbs them.
            log.info("consumidor: el grupo no lo reconoce; no confirma", extra={"consumer": self.name})
            return False
        await consumer.commit({TopicPartition(tp.topic, tp.partition): offset})
        if _membership(consumer) != member:
            # Reset while the commit was in flight: it may have gone out without a member. Start over and
            # read everything again rather than trust what the group has committed.
            self.rewind_all = True
            raise MembershipLost("el grupo olvidó al consumidor durante una confirmación de offsets")
        return True

    async def stop(self) -> None:
        self._stopping = True
        if self._dlq_producer is not None:
            producer, self._dlq_producer = self._dlq_producer, None
            try:
                async with asyncio.timeout(self.stop_timeout):  # pending dead letters wait for a broker
                    await producer.stop()
            except TimeoutError:
                log.warning("consumidor: el productor de dead letters no se cerró a tiempo")


def describe(consumer: IdempotentConsumer) -> dict[str, Any]:
    return {"name": consumer.name, "connected": consumer.connected, "error": consumer.last_error}
