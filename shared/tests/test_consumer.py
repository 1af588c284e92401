"""EventConsumer against real Kafka: handling, inbox, retries and the dead-letter topic."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared_kernel.errors import StaleVersion
from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ConsentRejected
from shared_kernel.infra.kafka import EventConsumer, EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.mongo import Inbox
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_granted, consent_rejected, eventually


async def read_headers(settings: ServiceSettings, topic: str, count: int) -> list[dict[str, str]]:
    """The headers of the first ``count`` records of ``topic`` (a logical name: ``x`` or
    ``x.dlq``)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[dict[str, str]] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [{k: v.decode() for k, v in r.headers} for r in records]
    finally:
        await consumer.stop()
    return found


@pytest.fixture
def fast(settings: ServiceSettings) -> ServiceSettings:
    return settings.model_copy(update={"consumer_backoff_seconds": 0.05})


async def test_handles_each_event_once_and_dead_letters_failures(
    fast: ServiceSettings, db: object
) -> None:
    broker = make_broker(fast)
    consumer = EventConsumer(broker, fast, CATALOGUE, Inbox(db), group="test-group")  # type: ignore[arg-type]
    handled: list[str] = []
    attempts: dict[str, int] = {}

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        consent_id = envelope.event.consent_id  # type: ignore[attr-defined]
        attempts[consent_id] = attempts.get(consent_id, 0) + 1
        if consent_id == "poison":
            raise RuntimeError("cannot process this payload")
        handled.append(consent_id)

    consumer.subscribe()
    await ensure_topics(fast, consumer.topics())
    await broker.start()
    try:
        publish = EventPublisher(broker, fast)
        first = consent_rejected("c1")
        await publish(first)
        await publish(first)  # redelivered: same ce_id
        await publish(consent_rejected("poison"))
        await publish(consent_rejected("c2"))  # the partition is not blocked by the poison event
        # malformed: valid headers, payload of the wrong shape
        raw = AIOKafkaProducer(bootstrap_servers=fast.kafka_bootstrap_servers)
        await raw.start()
        bad = consent_rejected("bad").headers()
        await raw.send_and_wait(
            fast.topic(ConsentRejected.TOPIC),
            b'{"consent_id": 1}',
            key=b"bad",
            headers=[(k, v.encode()) for k, v in bad.items()],
        )
        await raw.send_and_wait(
            fast.topic(ConsentRejected.TOPIC),
            b"\xff not json at all",
            key=b"bad",
            headers=[(k, v.encode()) for k, v in consent_rejected("bad2").headers().items()],
        )
        await raw.stop()
        await eventually(lambda: "c2" in handled and "c1" in handled)
        dlq = await read_headers(fast, ConsentRejected.TOPIC + ".dlq", 3)
    finally:
        await broker.stop()
    assert handled.count("c1") == 1
    assert attempts["poison"] == fast.consumer_max_attempts
    errors = sorted(h["dlq_error"] for h in dlq)
    assert errors[0].startswith("handler failed: RuntimeError: cannot process this payload")
    assert errors[1].startswith("malformed: payload does not match")
    assert errors[2].startswith("malformed: payload does not match")
    assert {h["dlq_consumer_group"] for h in dlq} == {fast.topic_prefix + "test-group"}
    assert all(h["ce_type"] == ConsentRejected.ce_type() for h in dlq)
    assert all(h["dlq_original_topic"] == fast.topic(ConsentRejected.TOPIC) for h in dlq)
    # FastStream's own correlation_id header carries our id, not a second one of its own
    records = await read_headers(fast, ConsentRejected.TOPIC, 6)
    ours = [h for h in records if not h["ce_subject"].startswith("bad")]  # not the raw ones
    assert len(ours) == 4 and first.correlation_id in {h["correlation_id"] for h in ours}
    assert all(h["correlation_id"] == h["ce_correlationid"] for h in [*ours, *dlq])


async def test_other_event_types_on_the_topic_are_ignored(
    fast: ServiceSettings, db: object
) -> None:
    broker = make_broker(fast)
    consumer = EventConsumer(broker, fast, CATALOGUE, Inbox(db), group="g2")  # type: ignore[arg-type]
    seen: list[str] = []

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        seen.append(envelope.type)

    consumer.subscribe()
    await ensure_topics(fast, consumer.topics())
    await broker.start()
    try:
        publish = EventPublisher(broker, fast)
        await publish(consent_granted("g", "𠮷野 太郎"))
        await publish(consent_rejected("r"))
        await eventually(lambda: len(seen) == 1)
        await asyncio.sleep(0.5)
    finally:
        await broker.stop()
    assert seen == [ConsentRejected.ce_type()]


async def test_write_contention_waits_and_is_never_dead_lettered(
    fast: ServiceSettings, db: object
) -> None:
    """A handler whose document stays contended longer than its retries (a writer killed
    mid-write holds its version claim for CLAIM_LEASE) is retried, not dead-lettered."""
    broker = make_broker(fast)
    consumer = EventConsumer(broker, fast, CATALOGUE, Inbox(db), group="g3")  # type: ignore[arg-type]
    calls: list[str] = []

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        calls.append(envelope.id)
        if len(calls) <= fast.consumer_max_attempts + 1:  # more than the bounded retries
            raise StaleVersion("consents/c: version 2 is taken")

    consumer.subscribe()
    await ensure_topics(fast, consumer.topics())
    await broker.start()
    try:
        event = consent_rejected("contended")
        await EventPublisher(broker, fast)(event)
        await eventually(lambda: len(calls) == fast.consumer_max_attempts + 2, timeout=30)
    finally:
        await broker.stop()
    assert set(calls) == {event.id}
    dlq = AIOKafkaConsumer(
        fast.topic(ConsentRejected.TOPIC) + ".dlq",
        bootstrap_servers=fast.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await dlq.start()
    try:
        letters = await dlq.getmany(timeout_ms=1500)
    finally:
        await dlq.stop()
    assert sum(len(v) for v in letters.values()) == 0


async def _committed(settings: ServiceSettings, group: str) -> int | None:
    """The offset ``group`` committed on partition 0 of the ConsentRejected topic."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.topic_prefix + group)
    finally:
        await admin.close()
    found = [m.offset for tp, m in offsets.items() if tp.topic.endswith(ConsentRejected.TOPIC)]
    return found[0] if found else None


async def test_other_keys_go_side_by_side_same_key_in_order_commits_wait(
    fast: ServiceSettings, db: object
) -> None:
    """``consumer_concurrency``: an event waits only for the events before it with its key;
    the partition's offset is not committed past an event still in hand."""
    settings = fast.model_copy(update={"consumer_concurrency": 4})
    broker = make_broker(settings)
    consumer = EventConsumer(broker, settings, CATALOGUE, Inbox(db), group="g4")  # type: ignore[arg-type]
    steps: list[str] = []
    release = asyncio.Event()

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        name = f"{envelope.event.consent_id}:{envelope.event.reason}"  # type: ignore[attr-defined]
        steps.append(f"start {name}")
        if name == "slow:1":
            await release.wait()
        steps.append(f"end {name}")

    consumer.subscribe()
    await ensure_topics(settings, consumer.topics(), partitions=1)
    await broker.start()
    try:
        publish = EventPublisher(broker, settings)
        await publish(consent_rejected("slow", "1"))  # offset 0, held until released
        await publish(consent_rejected("fast", "1"))  # another key: not held
        await publish(consent_rejected("slow", "2"))  # the same key: after slow:1
        await eventually(lambda: "end fast:1" in steps)
        await asyncio.sleep(1.0)  # time enough for a wrong commit or a wrong start
        assert "start slow:2" not in steps
        assert await _committed(settings, "g4") in (None, -1, 0)
        release.set()
        await eventually(lambda: "end slow:2" in steps)

        async def all_committed() -> bool:
            return await _committed(settings, "g4") == 3

        await eventually(all_committed)
    finally:
        await consumer.drain()
        await broker.stop()
    assert steps.index("end slow:1") < steps.index("start slow:2")
