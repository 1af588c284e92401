"""再判定: the operators' command and the service's consumer, with real Kafka and database."""

from __future__ import annotations

import argparse

from judgement.config import Settings
from judgement.rejudge import cli
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import JudgementCompletedV2
from shared_kernel.settings import ServiceSettings
from shared_kernel.testing import Expected, eventually, expect_events, publisher

from .test_judging_flow import application, judgement_service, snapshot


def args(*argv: str) -> argparse.Namespace:
    return cli.parse_args(["--trade", "鉄筋", "--reason", "日数の誤り訂正", *argv])


async def test_rejudge_stores_new_judgements_once_and_emits_them(
    settings: ServiceSettings, db: object
) -> None:
    own = Settings(topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        await publish(Envelope(snapshot("10000000000011", days=645), source="ccus"))
        await publish(Envelope(snapshot("10000000000012", days=10), source="ccus"))
        await eventually(lambda: svc.service.ccus_summary("10000000000012"))
        await publish(application("R-1", "10000000000011", "10000000000012"))

        async def completed() -> bool:
            docs = await svc.service.judgements.find({"status": "completed"})
            return len(docs) == 2 and not any(d["_outbox_pending"] for d in docs)

        await eventually(completed)
        note = "判定基準の訂正に伴う再判定です（日数の誤り訂正）"
        expected = [
            Expected(JudgementCompletedV2, {"line_id": "R-1-1", "decision": "approved"}),
            Expected(JudgementCompletedV2, {"line_id": "R-1-2", "decision": "rejected"}),
        ]
        async with expect_events(settings, expected) as recorded:
            summary = await cli.run_async(args("--all"), own)
        assert summary["selected"] == 2
        run_id = summary["run_id"]
        for envelope in recorded.envelopes:
            event = envelope.event
            assert isinstance(event, JudgementCompletedV2)
            assert event.judgement_id == f"J-{event.line_id}-{run_id}"
            assert event.messages[-1] == note
        store = svc.runtime.db["rejudgements"]
        stored = [d async for d in store.find({})]
        assert sorted(d["_id"] for d in stored) == [f"R-1-1@{run_id}", f"R-1-2@{run_id}"]
        assert {d["snapshot_id"] for d in stored} == {
            "10000000000011@2026-11-01T00:00:00+00:00",
            "10000000000012@2026-11-01T00:00:00+00:00",
        }
        first_ids = {e.id for e in recorded.envelopes}

        # The same run again (an interrupted run resumed): nothing is judged twice, the
        # stored events go out again with their ids.
        async with expect_events(settings, expected) as again:
            await cli.run_async(args("--all", "--run-id", run_id), own)
        assert {e.id for e in again.envelopes} == first_ids
        assert await store.count_documents({}) == 2
        # the original judgements are left as they were
        original = await svc.service.judgements.get("R-1-1")
        assert original is not None and original["judgement_id"] == "J-R-1-1"


def test_bad_usage_is_one_line_and_exit_2(capsys: object) -> None:
    assert cli.run(["--trade", "鉄筋", "--all", "--reason", " "]) == 2
    assert cli.run(["--trade", "存在しない分野", "--all", "--reason", "x", "--dry-run"]) == 2
    assert cli.run(["--trade", "鉄筋", "--reason", "x"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert len(err.strip().splitlines()) == 3
    assert "存在しない分野" in err
