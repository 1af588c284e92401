"""Proof of the foundation: outbox → relay → Kafka → another consumer group, exactly once.

One service-shaped component stores an application with its pending event in one
document; the relay publishes it; a consumer running as its own process applies it.
Covered: a consumer that dies after storing its effect but before acknowledging (the
redelivery changes nothing), a handler that always fails (the event ends in ``.dlq``
after the bounded retries and the events after it on the same partition are still
handled), and a relay that
republishes after a restart (the consumer skips the duplicate).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted
from shared_kernel.infra.kafka import EventPublisher, make_broker
from shared_kernel.infra.mongo import DocumentStore, OutboxRelay, connect
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import Expected, eventually, expect_events

CONSUMER = Path(__file__).resolve().parents[1] / "support" / "effect_consumer.py"


def submitted(application_id: str, lines: int = 2) -> Envelope:
    return Envelope(
        ApplicationSubmitted(
            application_id=application_id,
            employer_id="12345678901234",
            application_date=date(2026, 11, 28),
            submitted_at=datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
            fee_total_yen=4000 * lines,
            lines=[
                ApplicationLine(
                    line_id=f"{application_id}-{n}",
                    worker_id=f"1234567890{n:04d}",
                    worker_name="髙﨑 一郎",
                    worker_name_kana="タカサキ イチロウ",
                    birth_date=date(1985, 5, 5),
                    trade="鉄筋",
                    requested_level=2,
                    fee_yen=4000,
                )
                for n in range(1, lines + 1)
            ],
        ),
        source="application",
    )


class ConsumerProcess:
    def __init__(self, settings: ServiceSettings, **env: str) -> None:
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "MONGODB_URL": settings.mongodb_url,
            "TOPIC_PREFIX": settings.topic_prefix,
            "SERVICE_DB_NAME": settings.db_name + "_judge",
            "SERVICE_SERVICE_NAME": "proof-judgement",
            "SERVICE_CONSUMER_BACKOFF_SECONDS": "0.05",
            **env,
        }
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CONSUMER)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_exit(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def consumers() -> Iterator[list[ConsumerProcess]]:
    started: list[ConsumerProcess] = []
    yield started
    for process in started:
        process.stop()


async def test_outbox_relay_consumer_exactly_once(
    settings: ServiceSettings, db: object, consumers: list[ConsumerProcess]
) -> None:
    apps = DocumentStore(db, "applications")  # type: ignore[arg-type]
    judge_db = connect(settings.mongodb_url)[settings.db_name + "_judge"]
    effects = DocumentStore(judge_db, "effects")
    attempts = DocumentStore(judge_db, "attempts")
    broker = make_broker(settings)
    await broker.start()
    publish = EventPublisher(broker, settings)
    try:
        # 1. a component stores state and its event in one write; the relay publishes it
        first = submitted("A-0001")
        await apps.insert({"_id": "A-0001", "status": "submitted"}, [first])
        relay = OutboxRelay([apps], publish, CATALOGUE)
        async with expect_events(
            settings, [Expected(ApplicationSubmitted, {"application_id": "A-0001"})]
        ):
            assert await relay.run_once() == 1
        assert (await apps.get("A-0001"))["_outbox_pending"] == 0  # type: ignore[index]

        # 2. the consumer stores its effect, then dies before acknowledging
        crashing = ConsumerProcess(settings, CRASH_AFTER_EFFECT="1")
        consumers.append(crashing)
        crashing.start()
        assert await asyncio.to_thread(crashing.wait_exit) == 17
        effect = await effects.get("A-0001")
        assert effect is not None and effect["lines_judged"] == 2

        # 3. restarted, it gets the same event again (never committed) and changes nothing
        healthy = ConsumerProcess(settings, FAIL_APPLICATIONS="A-POISON")
        consumers.append(healthy)
        healthy.start()

        async def redelivered() -> bool:
            doc = await attempts.get("A-0001")
            return doc is not None and doc["n"] == 2

        await eventually(redelivered, 60)

        # 4. a handler that always fails: bounded retries, then .dlq; the events after it on
        #    the same partition (and elsewhere) are handled: the partition is not blocked
        poison = submitted("A-POISON", 1)
        await apps.insert({"_id": "A-POISON"}, [poison])
        assert await relay.run_once() == 1  # the poison is first on its partition
        partition = _partition("A-POISON")
        followers = [a for a in (f"A-P{n:03d}" for n in range(100)) if _partition(a) == partition]
        followers = followers[:3]
        for follower in followers:
            await apps.insert({"_id": follower}, [submitted(follower, 1)])
        await apps.insert({"_id": "A-0002"}, [submitted("A-0002", 3)])
        await relay.run_once()

        async def rest_judged() -> bool:
            return all([await effects.get(a) is not None for a in [*followers, "A-0002"]])

        await eventually(rest_judged, 30)
        dlq = await _read_topic(settings, settings.topic(ApplicationSubmitted.TOPIC) + ".dlq", 1)
        poison_attempts = await attempts.get("A-POISON")
        assert poison_attempts is not None
        assert poison_attempts["n"] == settings.consumer_max_attempts
        assert await effects.get("A-POISON") is None
        assert len(dlq) == 1
        assert dlq[0]["ce_id"] == poison.id
        assert dlq[0]["ce_correlationid"] == poison.correlation_id
        assert dlq[0]["dlq_original_partition"] == str(partition)
        assert "cannot judge A-POISON" in dlq[0]["dlq_error"]

        # 5. a relay that published but died before marking sent: the restarted relay's
        #    start-up sweep republishes (same ce_id) and the consumer skips the duplicate
        third = submitted("A-0003", 1)
        await apps.insert({"_id": "A-0003"}, [third])
        await publish(third)  # published, then "crash" before mark_published
        restarted = OutboxRelay([apps], publish, CATALOGUE)
        assert await restarted.run_once() == 1

        async def third_applied() -> bool:
            return await effects.get("A-0003") is not None

        await eventually(third_applied, 30)
        await asyncio.sleep(2)  # time for the duplicate to arrive and be skipped
        assert (await attempts.get("A-0003"))["n"] == 1  # type: ignore[index]  # inbox skipped it
        assert (await effects.get("A-0003"))["lines_judged"] == 1  # type: ignore[index]
        assert (await effects.get("A-0001"))["lines_judged"] == 2  # type: ignore[index]
        assert (await effects.get("A-0002"))["lines_judged"] == 3  # type: ignore[index]
    finally:
        await broker.stop()
        await judge_db.client.drop_database(settings.db_name + "_judge")
        await judge_db.client.close()


def _partition(key: str, partitions: int = 12) -> int:  # application.* (topic_plan)
    """The partition Kafka's default partitioner gives ``key`` (topics have 3 partitions)."""
    from aiokafka.partitioner import murmur2

    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


async def _read_topic(settings: ServiceSettings, topic: str, count: int) -> list[dict[str, str]]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
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
