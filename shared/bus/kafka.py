"""aiokafka clients built from configuration, and topic creation for brokers that need it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
        )
    if settings.sasl_mechanism:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return options


def make_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    acks: int | str = "all" if settings.acks == "all" else int(settings.acks)
    return AIOKafkaProducer(
        client_id=client_id,
        acks=acks,
        enable_idempotence=settings.enable_idempotence,
        linger_ms=5,
        **client_options(settings),
    )


def make_consumer(settings: KafkaSettings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_records=500,
        metadata_max_age_ms=settings.metadata_max_age_ms,
        **client_options(settings),
    )


async def ensure_topics(settings: KafkaSettings, topics: list[str]) -> list[str]:
    """Create the topics that are missing; return the ones created. Existing topics are left alone."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    t, num_partitions=settings.partitions, replication_factor=settings.replication_factor
                )
                for t in missing
            ]
        )
        created = []
        for topic, code, message in response.topic_errors:
            if code == 0:
                created.append(topic)
            elif code != TOPIC_ALREADY_EXISTS:
                raise RuntimeError(f"no se pudo crear el tópico {topic}: {code} {message}")
        if created:
            log.info("tópicos creados", extra={"topics": created})
        return created
    finally:
        await admin.close()


async def message_counts(settings: KafkaSettings, topics: list[str], timeout: float = 5.0) -> dict[str, int]:
    """How many messages each topic's log holds up to its end: the sum over its partitions of the offset after
    the last record. A topic the broker does not have counts 0.

    On Apache Kafka the end of a log never goes back (retention moves its start), so fewer messages than we
    know we published means the broker lost its data (the local memory-only broker after a restart). The end
    is read from the last record itself, not only from ListOffsets: some Kafka-protocol brokers (the local
    one) answer ListOffsets with the base offset of the last batch plus one, which undercounts.
    """
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(settings))
    try:
        await consumer.start()  # inside: a start that fails (the broker away) still closes the client
        existing = await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            if topic in existing
            for p in (consumer.partitions_for_topic(topic) or ())
        ]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions) if partitions else {}
        con_datos = [tp for tp, end in ends.items() if end > 0]
        if con_datos:
            consumer.assign(con_datos)
            for tp in con_datos:
                consumer.seek(tp, ends[tp] - 1)
            pendientes = set(con_datos)
            loop = asyncio.get_running_loop()
            limite = loop.time() + timeout
            while pendientes and loop.time() < limite:
                lotes = await consumer.getmany(*pendientes, timeout_ms=200)
                for tp, registros in lotes.items():
                    if registros:
                        ends[tp] = max(ends[tp], registros[-1].offset + 1)
                        pendientes.discard(tp)
        counts = dict.fromkeys(topics, 0)
        for tp, end in ends.items():
            counts[tp.topic] += end
        return counts
    finally:
        await consumer.stop()
