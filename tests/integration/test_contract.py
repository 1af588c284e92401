"""The public event contract: the committed AsyncAPI document, and a partner's consumer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from judgement.core.judging import partner_view
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    CATALOGUE,
    JudgementCompletedV2,
    PartnerJudgementCompleted,
)
from shared_kernel.infra.kafka import EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PARTNER = ROOT / "docs" / "examples" / "partner_consumer.py"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
RETIRED = {  # schemas only: nobody emits them
    "jp.ccus.level.judgement.completed.v1",
    "jp.ccus.level.user.provisionally-registered.v1",  # v2 carries no secret (issue 22)
}


def test_every_event_is_published_by_someone_and_every_subscription_has_a_publisher() -> None:
    spec = json.loads(ASYNCAPI.read_text(encoding="utf-8"))
    published = {
        name.split(":", 1)[1]: channel["address"]
        for name, channel in spec["channels"].items()
        if not name.startswith("consumer group ")
    }
    assert set(published) == {m.ce_type() for m in CATALOGUE.models()} - RETIRED
    read = {c["address"] for n, c in spec["channels"].items() if n.startswith("consumer group ")}
    assert read <= set(published.values())
    # partners: the minimised event carries no name and no CCUS data
    fields = set(PartnerJudgementCompleted.model_fields)
    assert not fields & {"worker_name", "criteria", "reconciliation", "days", "messages"}
    assert fields < set(JudgementCompletedV2.model_fields)


async def test_example_partner_consumer_reads_judgement_results(settings: ServiceSettings) -> None:
    event = JudgementCompletedV2(
        judgement_id="J-A-1-1",
        application_id="A-1",
        line_id="A-1-1",
        employer_id="12345678901234",
        worker_id="10000000000001",
        worker_name="髙﨑 𠮷男",
        trade="鉄筋",
        evaluation_body="公益社団法人全国鉄筋工事業協会",
        application_date=date(2026, 11, 20),
        requested_level=2,
        decision="approved",
        eligible_level=2,
        criteria_version="鉄筋@2019-10-08",
        judged_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    envelope = partner_view(Envelope(event, source="judgement"))  # as the service raises it
    await ensure_topics(settings, [settings.topic(PartnerJudgementCompleted.TOPIC)])
    broker = make_broker(settings)
    await broker.start()
    try:
        await EventPublisher(broker, settings, PartnerJudgementCompleted)(envelope)
    finally:
        await broker.stop()
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            str(PARTNER),
            "--bootstrap",
            settings.kafka_bootstrap_servers,
            "--group",
            settings.topic_prefix + "partner",
            "--topic-prefix",
            settings.topic_prefix,
            "--max-messages",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert '"decision": "approved"' in done.stdout
    assert f'"ce_id": "{envelope.id}"' in done.stdout
    assert '"criteria_version": "鉄筋@2019-10-08"' in done.stdout
    assert "髙﨑" not in done.stdout  # the name stays inside the system
