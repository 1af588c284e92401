"""The re-judgement consumer judges from the snapshot's compact form (carried in the request,
or built from its ``ccus_json``) exactly as from the validated record: same stored document,
same request as ``judging.judge`` stores it, same events."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from judgement.core import compact, judging, rejudging
from judgement.core.models import EvaluationRequest
from judgement.criteria import default_master
from judgement.feed.synthetic import generate
from judgement.rejudge.service import Rejudger
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    JudgementCompletedV2,
    RejudgementLine,
    RejudgementRequested,
)

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def lines() -> list[tuple[RejudgementLine, dict[str, Any]]]:
    out = []
    for worker in generate(6, seed="rejudge-compact", as_of=date(2026, 11, 1)):
        stored = judging.snapshot_version_doc(worker.snapshot)
        career = worker.career
        line = ApplicationLine(
            line_id=f"L-{worker.index}-1",
            worker_id=worker.snapshot.worker_id,
            worker_name="髙﨑 𠮷男",
            worker_name_kana="タカサキ ヨシオ",
            birth_date=date(1980, 4, 1),
            trade=worker.trade,
            requested_level=3,
            fee_yen=0,
            career_start=career.start if worker.index % 2 else None,
            career_end=career.end if worker.index % 2 else None,
            foreman_months=career.foreman_months if worker.index % 2 else 0,
            leader_months=career.leader_months if worker.index % 2 else 0,
        )
        item = RejudgementLine(
            line_id=line.line_id,
            previous_judgement_id=f"J-{line.line_id}",
            application_id=f"L-{worker.index}",
            employer_id="12345678901234",
            application_date=date(2026, 11, 20),
            line=line,
            snapshot_id=stored["_id"],
            ccus_json=stored["ccus_json"],
        )
        out.append((item, stored))
    return out


def request(items: list[RejudgementLine]) -> RejudgementRequested:
    return RejudgementRequested(
        run_id="R1",
        chunk_id="R1/0",
        reason="訂正",
        requested_by="operator",
        requested_at=NOW,
        lines=items,
    )


def test_rejudging_from_the_compact_form_stores_what_the_record_gives() -> None:
    master = default_master()
    for item, stored in lines():
        event = request([item])
        record = judging.stored_record(stored)
        from_record, _ = rejudging.rejudge(item, record, event, master, NOW)
        for ccus in (judging.stored_compact(stored), compact.from_ccus_json(item.ccus_json)):
            judged, events = rejudging.rejudge(item, ccus, event, master, NOW)
            doc = rejudging.stored_document(judged)
            assert {k: v for k, v in doc.items() if k != "event_json"} == {
                k: v for k, v in rejudging.stored_document(from_record).items() if k != "event_json"
            }
            completed = json.loads(json.loads(doc["event_json"])["payload_json"])
            assert completed["eligible_level"] == doc["eligible_level"]
            assert isinstance(events[0].event, JudgementCompletedV2)
        # the stored request is the §5 request without its CCUS part, as before
        line = item.line
        expected = EvaluationRequest(
            trade=line.trade,
            requested_level=line.requested_level,
            application_date=item.application_date,
            ccus=record,
            career_certification=judging.certification(line),
        ).model_dump(mode="json", exclude={"ccus"})
        assert from_record.request_json is not None
        assert json.loads(from_record.request_json) == expected


class _Store:
    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []

    async def insert_many(self, docs: Any, *, applied_event_id: str | None = None) -> list[Any]:
        self.docs.extend(docs)
        return []


@pytest.mark.parametrize("carried", [True, False, "garbled"])
async def test_the_consumer_judges_with_or_without_the_compact_form(carried: object) -> None:
    master = default_master()
    pairs = lines()
    items = []
    for item, stored in pairs:
        if carried is True:
            item = item.model_copy(update={"ccus_compact": stored["ccus_compact"]})
        elif carried == "garbled":
            item = item.model_copy(update={"ccus_compact": '{"v":7}'})
        items.append(item)
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    store = _Store()
    rejudger = Rejudger(store, master, publish, clock=lambda: NOW)  # type: ignore[arg-type]
    await rejudger.on_requested(Envelope(request(items), source="test"))
    assert len(store.docs) == len(pairs) and len(published) == 2 * len(pairs)
    for doc, (item, stored) in zip(store.docs, pairs, strict=True):
        expected, _ = rejudging.rejudge(
            item, judging.stored_record(stored), request(items), master, NOW
        )
        assert doc["eligible_level"] == expected.eligible_level
        assert doc["result_json"] == expected.result_json
