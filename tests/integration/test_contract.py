"""The public event contract: the committed AsyncAPI document, and a partner's consumer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from shared_kernel.asyncapi import DOCUMENT, render
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import JudgementCompletedV2
from shared_kernel.kafka import EventPublisher, ensure_topics, make_broker
from shared_kernel.settings import ServiceSettings

PARTNER = Path(__file__).resolve().parents[2] / "docs" / "examples" / "partner_consumer.py"


def test_committed_asyncapi_document_matches_the_catalogue() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "docs/asyncapi.json is out of date: run `uv run python -m shared_kernel.asyncapi --write`"
    )


async def test_example_partner_consumer_reads_judgement_results(settings: ServiceSettings) -> None:
    await ensure_topics(settings, [settings.topic(JudgementCompletedV2.TOPIC)])
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
    envelope = Envelope(event, source="judgement")
    broker = make_broker(settings)
    await broker.start()
    try:
        await EventPublisher(broker, settings)(envelope)
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
