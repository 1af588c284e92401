"""Malformed records against real Kafka: each goes to ``<topic>.dlq`` with its reason in
``dlq_reason``, and the consumer goes on with the next event (one key: one partition)."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ConsentRejected
from shared_kernel.infra.kafka import DLQ_KEPT_BYTES, EventConsumer, ensure_topics, make_broker
from shared_kernel.infra.mongo import Inbox
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_rejected, eventually

LIMIT = 8 * 1024
KEY = b"same-partition"


async def dead_letters(
    settings: ServiceSettings, topic: str, count: int
) -> list[tuple[dict[str, str], bytes]]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic) + ".dlq",
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[tuple[dict[str, str], bytes]] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [({k: v.decode() for k, v in r.headers}, r.value) for r in records]
    finally:
        await consumer.stop()
    return found


async def test_each_malformed_record_is_dead_lettered_with_its_reason(
    settings: ServiceSettings, db: object
) -> None:
    fast = settings.model_copy(update={"consumer_backoff_seconds": 0.05, "event_max_bytes": LIMIT})
    broker = make_broker(fast)
    consumer = EventConsumer(broker, fast, CATALOGUE, Inbox(db), group="malformed")  # type: ignore[arg-type]
    handled: list[str] = []

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        handled.append(envelope.event.consent_id)  # type: ignore[attr-defined]

    consumer.subscribe()
    topic = fast.topic(ConsentRejected.TOPIC)
    await ensure_topics(fast, consumer.topics())
    good = consent_rejected("before")
    valid = good.value()
    headers = good.headers()
    oversized = valid[:-1] + b', "padding": "' + b"x" * (DLQ_KEPT_BYTES + LIMIT) + b'"}'
    bad: dict[str, tuple[dict[str, str], bytes]] = {
        "bad_json": ({**headers, "ce_id": "e1"}, b'{"consent_id": "x", oops'),
        "not_utf8": ({**headers, "ce_id": "e2"}, b"\xff\xfe\x00 binary"),
        "missing_headers": ({k: v for k, v in headers.items() if k != "ce_type"}, valid),
        "unknown_type": ({**headers, "ce_id": "e4", "ce_type": "jp.ccus.level.nothing.v1"}, valid),
        "unknown_version": (
            {**headers, "ce_id": "e5", "ce_type": ConsentRejected.ce_type()[:-1] + "9"},
            valid,
        ),
        "too_large": ({**headers, "ce_id": "e6"}, oversized),
        "schema_mismatch": ({**headers, "ce_id": "e7"}, b'{"consent_id": 1}'),
        "bad_specversion": ({**headers, "ce_id": "e8", "ce_specversion": "0.3"}, valid),
    }
    await broker.start()
    raw = AIOKafkaProducer(bootstrap_servers=fast.kafka_bootstrap_servers)
    await raw.start()
    try:

        async def send(h: dict[str, str], value: bytes) -> None:
            await raw.send_and_wait(
                topic, value, key=KEY, headers=[(k, v.encode()) for k, v in h.items()]
            )

        await send(headers, valid)
        for h, value in bad.values():
            await send(h, value)
        after = consent_rejected("after")
        await send(after.headers(), after.value())
        await eventually(lambda: handled == ["before", "after"])
        letters = await dead_letters(fast, ConsentRejected.TOPIC, len(bad))
    finally:
        await raw.stop()
        await broker.stop()
    reasons = sorted(h["dlq_reason"] for h, _ in letters)
    expected = {
        "bad_json": "bad_json",
        "not_utf8": "bad_json",
        "missing_headers": "missing_headers",
        "unknown_type": "unknown_type",
        "unknown_version": "unknown_type",
        "too_large": "too_large",
        "schema_mismatch": "schema_mismatch",
        "bad_specversion": "bad_specversion",
    }
    assert reasons == sorted(expected.values())
    assert all(h["dlq_error"].startswith("malformed: ") for h, _ in letters)
    assert all(h["dlq_original_topic"] == topic for h, _ in letters)
    ((big_headers, big_body),) = [(h, v) for h, v in letters if h["dlq_reason"] == "too_large"]
    assert big_headers["dlq_truncated_from_bytes"] == str(len(oversized))
    assert big_body == oversized[:DLQ_KEPT_BYTES]  # the beginning only
    assert len(oversized) > DLQ_KEPT_BYTES
    assert handled == ["before", "after"]  # nothing malformed reached the handler
