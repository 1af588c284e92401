"""Consumer lag against real Kafka: what is published and not yet committed by the group."""

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ConsentRejected
from shared_kernel.infra.kafka import (
    EventConsumer,
    EventPublisher,
    ensure_topics,
    make_broker,
    topic_plan,
)
from shared_kernel.infra.lag import measure_lag
from shared_kernel.infra.mongo import Inbox
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_rejected, eventually


async def test_lag_counts_what_the_group_has_not_committed(
    settings: ServiceSettings, db: object
) -> None:
    topic = settings.topic(ConsentRejected.TOPIC)
    group = settings.topic_prefix + "lag-group"
    await ensure_topics(settings, [topic])
    producer = make_broker(settings)
    await producer.start()
    try:
        publish = EventPublisher(producer, settings)
        for n in range(5):
            await publish(consent_rejected(f"c{n}"))
    finally:
        await producer.stop()
    lag = await measure_lag(settings.kafka_bootstrap_servers, group, [topic])
    assert sum(lag.values()) == 5 and len(lag) == topic_plan(settings, topic)[0]

    broker = make_broker(settings)
    consumer = EventConsumer(broker, settings, CATALOGUE, Inbox(db), group="lag-group")  # type: ignore[arg-type]
    seen: list[str] = []

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        seen.append(envelope.id)

    consumer.subscribe()
    await broker.start()
    try:
        await eventually(lambda: len(seen) == 5)

        async def caught_up() -> bool:
            lag = await measure_lag(settings.kafka_bootstrap_servers, group, [topic])
            return sum(lag.values()) == 0

        await eventually(caught_up)
    finally:
        await broker.stop()
