"""再判定: the operators' command and the service's consumer, with real Kafka and database."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, date, datetime

import pytest

from judgement.adapters.inbound import progress
from judgement.config import Settings
from judgement.core import judging
from judgement.rejudge import cli
from judgement.rejudge.service import Rejudger
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    RejudgementLine,
    RejudgementPlanned,
    RejudgementRequested,
)
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import Expected, eventually, expect_events, publisher

from .test_judging_flow import EMPLOYER, application, judgement_service, snapshot

PLANNED = RejudgementPlanned.ce_type()


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
            raw = svc.service.judgements.store  # type: ignore[attr-defined]
            docs = await raw.find({"status": "completed"})
            return len(docs) == 2 and not any(d["_outbox_pending"] for d in docs)

        await eventually(completed)
        note = "判定基準の訂正に伴う再判定です（日数の誤り訂正）"
        expected = [
            Expected(
                JudgementCompletedV2,
                {"line_id": "R-1-1", "decision": "approved", "sequence": 2},
            ),
            Expected(
                JudgementCompletedV2,
                {"line_id": "R-1-2", "decision": "rejected", "sequence": 2},
            ),
            Expected(RejudgementPlanned, {"employer_id": EMPLOYER}),
        ]
        async with expect_events(settings, expected) as recorded:
            summary = await cli.run_async(args("--all"), own)
        assert summary["selected"] == 2
        assert summary["employers"] == 1
        run_id = summary["run_id"]
        completions = [e.event for e in recorded.envelopes if e.type != PLANNED]
        for event in completions:
            assert isinstance(event, JudgementCompletedV2)
            assert event.judgement_id == f"J-{event.line_id}-{run_id}"
            assert event.supersedes == f"J-{event.line_id}"
            assert event.rejudgement_run_id == run_id
            assert event.rejudgement_reason == "日数の誤り訂正"
            assert event.messages[-1] == note
        previous = {
            e.line_id: (e.previous_decision, e.previous_eligible_level)  # type: ignore[union-attr]
            for e in completions
        }
        assert previous == {"R-1-1": ("approved", 2), "R-1-2": ("rejected", 1)}
        plan = next(e.event for e in recorded.envelopes if e.type == PLANNED)
        assert isinstance(plan, RejudgementPlanned)
        assert sorted(plan.line_ids) == ["R-1-1", "R-1-2"] and plan.run_id == run_id
        store = svc.runtime.db["rejudgements"]
        stored = [d async for d in store.find({})]
        assert sorted(d["_id"] for d in stored) == ["R-1-1#2", "R-1-2#2"]
        assert {d["snapshot_id"] for d in stored} == {
            "10000000000011@2026-11-01T00:00:00+00:00",
            "10000000000012@2026-11-01T00:00:00+00:00",
        }

        # the line's current judgement is the re-judgement, with the whole history
        found = await svc.service.current("R-1-1")
        assert found is not None
        current, history = found
        assert current.judgement_id == f"J-R-1-1-{run_id}" and current.sequence == 2
        assert [h.sequence for h in history] == [1, 2]
        assert history[1].rejudgement_reason == "日数の誤り訂正"
        assert history[1].supersedes == "J-R-1-1"
        listed = await svc.service.current_of({"employer_id": EMPLOYER})
        assert [(d.id, d.sequence) for d in listed] == [("R-1-1", 2), ("R-1-2", 2)]

        # The same run again (an interrupted run resumed): nothing is judged twice (a run
        # that still had lines to do would publish its plan again, with the done ones).
        resumed = await cli.run_async(args("--all", "--run-id", run_id), own)
        assert resumed["selected"] == 0
        assert resumed["skipped"] == {"already_rejudged_in_run": 2}
        assert await store.count_documents({}) == 2
        # the original judgements are left as they were
        original = await svc.service.judgements.get("R-1-1")
        assert original is not None and original.judgement_id == "J-R-1-1"

        # A second run supersedes the first run's judgements: sequence 3.
        third = [
            Expected(JudgementCompletedV2, {"line_id": "R-1-1", "sequence": 3}),
            Expected(
                JudgementCompletedV2,
                {"line_id": "R-1-2", "sequence": 3, "supersedes": f"J-R-1-2-{run_id}"},
            ),
        ]
        async with expect_events(settings, third):
            await cli.run_async(args("--all"), own)
        found = await svc.service.current("R-1-2")
        assert found is not None and [h.sequence for h in found[1]] == [1, 2, 3]


async def test_redelivered_request_republishes_and_a_taken_place_is_left(
    settings: ServiceSettings, db: object
) -> None:
    """A request redelivered after a crash republishes what it stored (same ce_id); a
    request of another run that raced for the same place of a line stores nothing."""
    async with judgement_service(settings, review_policy="auto") as svc:
        store = DocumentStore(svc.runtime.db, "rejudgements")
        sent: list[Envelope] = []

        async def record(envelope: Envelope) -> None:
            sent.append(envelope)

        rejudger = Rejudger(store, svc.master, record)
        ccus = json.dumps(judging.snapshot_record(snapshot("10000000000021", days=645)))
        line = application("R-2", "10000000000021").event.lines[0]  # type: ignore[attr-defined]

        def request(run_id: str) -> Envelope:
            return Envelope(
                RejudgementRequested(
                    run_id=run_id,
                    chunk_id=f"{run_id}/R-2-1",
                    reason="訂正",
                    requested_by="operator",
                    requested_at=datetime(2026, 12, 1, tzinfo=UTC),
                    lines=[
                        RejudgementLine(
                            line_id="R-2-1",
                            previous_judgement_id="J-R-2-1",
                            application_id="R-2",
                            employer_id=EMPLOYER,
                            application_date=date(2026, 11, 20),
                            line=line,
                            snapshot_id="10000000000021@2026-11-01T00:00:00+00:00",
                            ccus_json=ccus,
                        )
                    ],
                ),
                source="test",
            )

        first = request("RUN-A")
        await rejudger.on_requested(first)
        ids = [e.id for e in sent]
        assert len(ids) == 2  # JudgementCompleted v2 and the partners' view
        sent.clear()
        await rejudger.on_requested(first)  # redelivered
        assert [e.id for e in sent] == ids
        sent.clear()
        await rejudger.on_requested(request("RUN-B"))  # raced for R-2-1#2
        assert sent == []
        assert len(await store.find({})) == 1


async def test_a_named_line_without_a_completed_judgement_is_refused(
    settings: ServiceSettings, db: object, capsys: object
) -> None:
    own = Settings(topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        await publish(application("R-3", "10000000000031"))  # no CCUS data: waiting
        await eventually(lambda: svc.service.judgements.get("R-3-1"))
        with pytest.raises(cli.InvalidInput, match="判定が完了していない明細は再判定できません"):
            await cli.run_async(args("--line", "R-3-1"), own)
        summary = await cli.run_async(args("--all", "--dry-run"), own)
        assert summary["selected"] == 0 and summary["skipped"] == {"not_completed": 1}


def test_bad_usage_is_one_line_and_exit_2(capsys: object) -> None:
    assert cli.run(["--trade", "鉄筋", "--all", "--reason", " "]) == 2
    assert cli.run(["--trade", "存在しない分野", "--all", "--reason", "x", "--dry-run"]) == 2
    assert cli.run(["--trade", "鉄筋", "--reason", "x"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert len(err.strip().splitlines()) == 3
    assert "存在しない分野" in err


async def test_status_tells_where_a_run_is_and_progress_goes_to_stderr(
    settings: ServiceSettings, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)  # a progress line at every step
    own = Settings(topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        await publish(Envelope(snapshot("10000000000041", days=645), source="ccus"))
        await publish(Envelope(snapshot("10000000000042", days=10), source="ccus"))
        await eventually(lambda: svc.service.ccus_summary("10000000000042"))
        await publish(application("R-4", "10000000000041", "10000000000042"))

        async def completed() -> bool:
            raw = svc.service.judgements.store  # type: ignore[attr-defined]
            return len(await raw.find({"status": "completed"})) == 2

        await eventually(completed)
        # one cited snapshot not in the compact mirror: read from ccus_snapshots instead
        await svc.runtime.db["ccus_compact"].delete_one({"_id": "10000000000042"})
        err = io.StringIO()
        summary = await cli.run_async(args("--all"), own, stderr=err)
        shown = err.getvalue().splitlines()
        assert shown and all(line.startswith(f"{cli.PROG}: ") for line in shown)
        assert summary["run_id"] in shown[-1] and "2 published" in shown[-1]
        status_args = cli.parse_status_args([summary["run_id"]])
        found: dict[str, object] = {}

        async def done() -> bool:
            found.update(await cli.status_async(status_args, own))
            return found["state"] == "done"

        await eventually(done)
        assert (found["selected"], found["published"], found["judged"], found["remaining"]) == (
            2,
            2,
            2,
            0,
        )
        assert found["started"] and found["finished"] and found["published_at"]
        assert found["trades"] == ["鉄筋"] and found["reason"] == "日数の誤り訂正"

        # resumed: nothing left to judge, the run is still done with both lines
        await cli.run_async(args("--all", "--run-id", summary["run_id"]), own)
        again = await cli.status_async(status_args, own)
        assert (again["state"], again["selected"], again["judged"]) == ("done", 2, 2)


def test_status_of_an_unknown_run_is_one_line_and_exit_2(
    settings: ServiceSettings,
    db: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUDGEMENT_DB_NAME", settings.db_name)
    assert cli.run(["status", "R20261207000000-abcdef"]) == 2
    assert cli.run(["status"]) == 2
    assert cli.run(["status", "R;drop"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 3 and "該当する再判定がありません" in lines[0]
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    assert "status RUN" in capsys.readouterr().out
