"""Dead letters: a failed event is listed, shown masked, replayed after a fix, audited."""

import asyncio
import json
import os
import subprocess
import sys

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ConsentGranted
from shared_kernel.infra.dlq import audit_db_name, mask
from shared_kernel.infra.kafka import EventConsumer, EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.mongo import Inbox, connect
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_granted, eventually


def cli(settings: ServiceSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TOPIC_PREFIX": settings.topic_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URL": settings.mongodb_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "shared_kernel.infra.dlq", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_mask_hides_personal_data_only() -> None:
    payload = consent_granted().event.model_dump(mode="json")
    masked = mask({"lines": [payload]})
    assert masked["lines"][0]["worker_name"] == "***"
    assert masked["lines"][0]["birth_date"] == "***"
    assert masked["lines"][0]["worker_id"] == "98765432109876"


async def test_list_show_replay_and_audit(settings: ServiceSettings, db: object) -> None:
    fast = settings.model_copy(update={"consumer_backoff_seconds": 0.01})
    broker = make_broker(fast)
    consumer = EventConsumer(broker, fast, CATALOGUE, Inbox(db), group="dlq-test")  # type: ignore[arg-type]
    broken = True
    handled: list[str] = []

    @consumer.on(ConsentGranted)
    async def handle(envelope: Envelope) -> None:
        if broken:
            raise RuntimeError("read model schema mismatch")
        handled.append(envelope.id)

    consumer.subscribe()
    await ensure_topics(fast, consumer.topics())
    await broker.start()
    try:
        event = consent_granted()
        await EventPublisher(broker, fast)(event)
        topic = fast.topic(ConsentGranted.TOPIC) + ".dlq"

        def listed() -> list[dict[str, object]]:
            done = cli(fast, "list")
            assert done.returncode == 0, done.stderr
            return [json.loads(line) for line in done.stdout.splitlines()]

        rows: list[dict[str, object]] = []

        def has_row() -> bool:
            rows[:] = listed()
            return len(rows) == 1

        await eventually(lambda: asyncio.to_thread(has_row), 40)
        row = rows[0]
        assert row["ce_id"] == event.id and row["topic"] == topic
        assert "read model schema mismatch" in str(row["error"])
        shown = cli(fast, "show", topic, str(row["partition"]), str(row["offset"]))
        detail = json.loads(shown.stdout)
        assert detail["payload"]["worker_name"] == "***"
        assert "𠮷野" not in shown.stdout

        broken = False  # the fix is deployed
        replayed = cli(
            fast, "replay", topic, str(row["partition"]), str(row["offset"]), "--operator", "ops01"
        )
        assert replayed.returncode == 0, replayed.stderr
        await eventually(lambda: handled == [event.id], 30)
        client = connect(fast.mongodb_url)
        try:
            audits = await client[audit_db_name(fast)]["dlq_replays"].find().to_list()
            assert [(a["operator"], a["ce_id"], a["correlation_id"]) for a in audits] == [
                ("ops01", event.id, event.correlation_id)
            ]
            await client.drop_database(audit_db_name(fast))
        finally:
            await client.close()
    finally:
        await broker.stop()
    bad = cli(fast, "show", "not-a-dlq-topic", "0", "0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    missing = cli(fast, "show", topic, "0", "999")
    assert missing.returncode == 2 and "no dead letter" in missing.stderr
