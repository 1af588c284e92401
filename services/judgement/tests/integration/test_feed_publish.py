"""The CCUS feed publishes CcusWorkerSnapshot events to the real Kafka (isolated topics).

In process (``publish_snapshots``) and as operators run it (``python -m judgement feed``
with ``KAFKA_BOOTSTRAP_SERVERS`` / ``TOPIC_PREFIX`` from the environment): every snapshot
arrives whole, as a CloudEvent from ``ccus`` keyed by its 技能者ID; an unreachable Kafka is
exit status 1 with one line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import date
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from judgement.feed.cli import demo_path
from judgement.feed.publish import SOURCE, publish_snapshots
from judgement.feed.synthetic import generate, worker_id
from shared_kernel.events.catalogue import CcusWorkerSnapshot
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import Expected, expect_events

AS_OF = date(2026, 11, 29)


async def feed(settings: ServiceSettings, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "judgement",
        "feed",
        *args,
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "TOPIC_PREFIX": settings.topic_prefix,
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def keys(settings: ServiceSettings) -> list[tuple[bytes, str]]:
    """(key, worker_id of the value) of every record on the isolated snapshot topic."""
    consumer = AIOKafkaConsumer(
        settings.topic(CcusWorkerSnapshot.TOPIC),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return [
            (record.key, json.loads(record.value)["worker_id"])
            for records in batches.values()
            for record in records
        ]
    finally:
        await consumer.stop()


async def test_publish_snapshots_whole_and_keyed_by_worker(settings: ServiceSettings) -> None:
    generated = [g.snapshot for g in generate(6, seed="integration", as_of=AS_OF)]
    expected = [
        Expected(
            CcusWorkerSnapshot,
            {"worker_id": s.worker_id, "name": s.name, "registered_on": str(s.registered_on)},
        )
        for s in generated
    ]
    async with expect_events(settings, expected) as recorded:
        assert await publish_snapshots(iter(generated), settings, concurrency=4) == 6

    received = {e.event.key(): e.event for e in recorded.envelopes}
    assert received == {s.worker_id: s for s in generated}  # every field, work history too
    assert {e.source for e in recorded.envelopes} == {SOURCE}
    assert len({e.correlation_id for e in recorded.envelopes}) == 1  # one feed run
    for headers, envelope in zip(recorded.headers, recorded.envelopes, strict=True):
        assert headers["ce_type"] == "jp.ccus.level.ccus.worker-snapshot.v1"
        assert headers["ce_subject"] == envelope.event.key()
    stored = await keys(settings)
    assert sorted(stored) == sorted((s.worker_id.encode(), s.worker_id) for s in generated)


async def test_cli_synthetic_publishes_with_settings_from_the_environment(
    settings: ServiceSettings,
) -> None:
    ids = [worker_id("cli-it", i) for i in range(4)]
    async with expect_events(
        settings, [Expected(CcusWorkerSnapshot, {"worker_id": i}) for i in ids]
    ):
        code, out, err = await feed(
            settings, "synthetic", "--count", "4", "--seed", "cli-it", "--as-of", str(AS_OF)
        )
        assert code == 0, err
    summary = json.loads(out)
    assert summary["published"] == 4
    assert summary["topic"] == settings.topic(CcusWorkerSnapshot.TOPIC)
    assert err == ""


async def test_cli_demo_and_csv_files(settings: ServiceSettings, tmp_path: Path) -> None:
    demo = json.loads(demo_path().read_text(encoding="utf-8"))
    expected = [
        Expected(CcusWorkerSnapshot, {"worker_id": d["worker_id"], "name": d["name"]}) for d in demo
    ]
    async with expect_events(settings, expected):
        code, _, err = await feed(settings, "demo")
        assert code == 0, err

    workers = tmp_path / "workers.csv"
    workers.write_text(
        "worker_id,name,name_kana,birth_date,registration_type,registered_on,occupations\n"
        "12345678901299,𠮷野 翔太,ヨシノ ショウタ,1988-02-29,詳細型,2020-02-03,09-01:電気工\n",
        encoding="utf-8",
    )
    history = tmp_path / "work_history.csv"
    history.write_text(
        "worker_id,date,site_id,role,occupation_code\n"
        "12345678901299,2021-04-05,S00000001,職長,09-01\n",
        encoding="utf-8",
    )
    async with expect_events(
        settings,
        [
            Expected(
                CcusWorkerSnapshot,
                {
                    "worker_id": "12345678901299",
                    "name": "𠮷野 翔太",
                    "work_history": [
                        {
                            "date": "2021-04-05",
                            "site_id": "S00000001",
                            "role": "foreman",
                            "occupation_code": "09-01",
                        }
                    ],
                },
            )
        ],
    ):
        code, _, err = await feed(settings, "file", str(workers), str(history))
        assert code == 0, err


async def test_kafka_unreachable_exits_1_with_one_line(settings: ServiceSettings) -> None:
    code, out, err = await feed(
        settings,
        "synthetic",
        "--count",
        "2",
        "--seed",
        "1",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9",
        JUDGEMENT_FEED_CONNECT_TIMEOUT_SECONDS="5",
    )
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m judgement feed: Kafka is not reachable at 127.0.0.1:9")
