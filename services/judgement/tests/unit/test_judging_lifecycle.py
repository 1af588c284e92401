"""The life of a line's judgement (pure): waiting, judged, review policy, expiry, review."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from judgement.adapters.outbound import migrations
from judgement.adapters.outbound.judgements import JudgementRepository
from judgement.core import judging
from judgement.core.errors import ReviewRefused
from judgement.core.lines import JudgementLine
from judgement.core.models import CcusRecord
from judgement.criteria import default_master
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    CcusQualification,
    CcusWorkerSnapshot,
    CcusWorkRecord,
    JudgementCompletedV2,
    JudgementStarted,
    PartnerJudgementCompleted,
)
from shared_kernel.infra.testing import MemoryDocuments

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def submitted(trade: str = "鉄筋", level: int = 2, **line: object) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id="A-1",
        employer_id="12345678901234",
        application_date=date(2026, 11, 20),
        submitted_at=NOW,
        fee_total_yen=4000,
        lines=[
            ApplicationLine(
                line_id="A-1-1",
                worker_id="10000000000001",
                worker_name="𠮷野 太郎",
                worker_name_kana="ヨシノ タロウ",
                birth_date=date(1980, 1, 1),
                trade=trade,
                requested_level=level,
                fee_yen=4000,
                **line,  # type: ignore[arg-type]
            )
        ],
    )


def snapshot(days: int, *, warn: bool = False) -> CcusWorkerSnapshot:
    qualifications = [
        CcusQualification(code="40040", name="玉掛け技能講習", acquired_on=date(2015, 1, 5))
    ]
    if warn:  # a required item registered under その他: a warning, not a failure
        qualifications.append(
            CcusQualification(code="49999", name="1級鉄筋施工技能士", acquired_on=date(2018, 1, 1))
        )
    return CcusWorkerSnapshot(
        worker_id="10000000000001",
        taken_at=NOW,
        registration_type="detailed",
        registered_on=date(2020, 4, 1),
        name="𠮷野 太郎",
        name_kana="ヨシノ タロウ",
        birth_date=date(1980, 1, 1),
        qualifications=qualifications,
        work_history=[
            CcusWorkRecord(date=date(2020, 4, 1) + timedelta(days=n), site_id="S")
            for n in range(days)
        ],
    )


def ccus(days: int, *, warn: bool = False) -> judging.Ccus:
    snap = snapshot(days, warn=warn)
    record = CcusRecord.model_validate(judging.snapshot_record(snap))
    return judging.Ccus(judging.snapshot_id(snap), record)


def new_doc(event: ApplicationSubmitted, wait_days: int = 7) -> JudgementLine:
    return judging.received(event, event.lines[0], NOW, wait_days, default_master())


def test_a_new_line_waits_for_ccus_data_with_a_deadline() -> None:
    doc = new_doc(submitted())
    assert doc.status == "waiting_ccus" and judging.STATUS_JA[doc.status] == "CCUSデータ待ち"
    assert doc.deadline == NOW + timedelta(days=7)
    assert doc.evaluation_body == "公益社団法人全国鉄筋工事業協会"
    # stored as before the model: the same fields, dates as text, nothing unset
    stored = doc.to_document()
    assert stored["application_date"] == "2026-11-20" and "decision" not in stored
    assert stored["line"]["birth_date"] == "1980-01-01"
    assert JudgementLine.model_validate(stored) == doc


def test_judged_and_completed_under_auto_policy() -> None:
    doc, events = judging.judge(new_doc(submitted()), ccus(645), default_master(), "auto", NOW)
    assert doc.status == "completed" and doc.decision == "approved"
    assert events[0].type == JudgementStarted.ce_type()
    event = events[-2].event
    assert isinstance(event, JudgementCompletedV2)
    assert (event.eligible_level, event.days.ccus if event.days else None) == (2, 645)
    assert event.worker_name == "𠮷野 太郎" and event.criteria_version.startswith("鉄筋@")


def test_partners_get_the_result_without_the_name_or_the_ccus_data() -> None:
    _, events = judging.judge(new_doc(submitted()), ccus(645), default_master(), "auto", NOW)
    completed, partner = events[-2:]
    assert isinstance(partner.event, PartnerJudgementCompleted)
    assert partner.event.model_dump() == {
        k: v for k, v in completed.event.model_dump().items() if k in judging.PARTNER_FIELDS
    }
    assert "𠮷野" not in partner.value().decode()
    # derived, not random: republishing the pair keeps both ids
    again = judging.partner_view(completed)
    assert again.id == partner.id != completed.id
    assert (again.correlation_id, again.time) == (completed.correlation_id, completed.time)


def test_rejection_names_only_shortfalls_up_to_the_requested_level() -> None:
    _, events = judging.judge(new_doc(submitted()), ccus(644), default_master(), "auto", NOW)
    event = events[-2].event
    assert isinstance(event, JudgementCompletedV2)
    assert event.decision == "rejected"
    assert len(event.messages) == 1 and "645" in event.messages[0]


@pytest.mark.parametrize(
    ("policy", "warn", "status"),
    [
        ("auto", True, "completed"),
        ("review_when_warnings", False, "completed"),
        ("review_when_warnings", True, "in_review"),
        ("review_all", False, "in_review"),
    ],
)
def test_review_policy(policy: judging.ReviewPolicy, warn: bool, status: str) -> None:
    doc, events = judging.judge(
        new_doc(submitted()), ccus(700, warn=warn), default_master(), policy, NOW
    )
    assert doc.status == status
    # JudgementStarted always; JudgementCompleted only when no review is needed
    assert [e.type for e in events][1:] == (
        [JudgementCompletedV2.ce_type(), PartnerJudgementCompleted.ce_type()]
        if status == "completed"
        else []
    )
    assert events[0].type == JudgementStarted.ce_type()


def test_a_trade_without_criteria_is_rejected_with_the_body_named() -> None:
    doc, events = judging.judge(
        new_doc(submitted(trade="左官")), ccus(700), default_master(), "auto", NOW
    )
    assert doc.decision == "rejected"
    assert "この分野の判定基準はまだ登録されていません" in events[-2].event.messages[0]  # type: ignore[attr-defined]


def test_expiry_only_after_the_deadline() -> None:
    doc = new_doc(submitted(), wait_days=7)
    assert judging.expire(doc, NOW + timedelta(days=7) - timedelta(seconds=1)) is None
    expired = judging.expire(doc, NOW + timedelta(days=7))
    assert expired is not None
    done, events = expired
    assert done.decision == "rejected" and done.messages and "7日経過" in done.messages[0]
    assert [e.type for e in events] == [
        JudgementCompletedV2.ce_type(),
        PartnerJudgementCompleted.ce_type(),
    ]


def test_review_confirm_override_and_refusals() -> None:
    doc, _ = judging.judge(
        new_doc(submitted(level=3)), ccus(700), default_master(), "review_all", NOW
    )
    with pytest.raises(ReviewRefused, match="理由を入力"):
        judging.review(doc, reviewer="e", action="override", reason=" ", eligible_level=3, now=NOW)
    with pytest.raises(ReviewRefused, match="レベル"):
        judging.review(
            doc, reviewer="e", action="override", reason="確認済", eligible_level=None, now=NOW
        )
    confirmed, events = judging.review(
        doc, reviewer="e1", action="confirm", reason=None, eligible_level=None, now=NOW
    )
    assert (confirmed.decision, confirmed.eligible_level) == ("rejected", 2)
    assert events[0].event.reviewed_by == "e1"  # type: ignore[attr-defined]
    overridden, _ = judging.review(
        doc, reviewer="e2", action="override", reason="合格証を確認", eligible_level=3, now=NOW
    )
    assert (overridden.decision, overridden.eligible_level) == ("approved", 3)
    assert overridden.review is not None and overridden.review.engine_decision == "rejected"
    assert overridden.messages == ["審査員所見：合格証を確認"]
    assert JudgementLine.model_validate(overridden.to_document()) == overridden
    with pytest.raises(ReviewRefused, match="審査待ちではありません"):
        judging.review(
            overridden, reviewer="e", action="confirm", reason=None, eligible_level=None, now=NOW
        )


def test_declared_career_becomes_the_certification() -> None:
    event = submitted(
        career_start=date(2012, 4, 1),
        career_end=date(2020, 3, 31),
        foreman_months=30,
        leader_months=6,
    )
    certification = judging.certification(event.lines[0])
    assert certification is not None
    assert certification.foreman is not None and (
        certification.foreman.years,
        certification.foreman.months,
    ) == (2, 6)
    assert judging.certification(submitted().lines[0]) is None


def test_an_older_snapshot_never_replaces_a_newer_one() -> None:
    stored = judging.latest_snapshot(snapshot(10))
    older = snapshot(5).model_copy(update={"taken_at": NOW - timedelta(days=1)})
    assert not stored.replaced_by(older)
    assert stored.replaced_by(snapshot(5).model_copy(update={"taken_at": NOW + timedelta(days=1)}))


def test_withdrawal_drops_only_lines_not_yet_started() -> None:
    waiting = new_doc(submitted())
    outcome = judging.withdraw(waiting, NOW)
    assert outcome is not None and outcome[0].status == "withdrawn" and outcome[1] == []
    started, _ = judging.judge(waiting, ccus(700), default_master(), "review_all", NOW)
    assert judging.withdraw(started, NOW) is None


async def test_the_migrations_rewrite_the_first_storage_formats_once() -> None:
    """Judgements with a nested ``result`` and snapshots with a nested ``ccus`` (the first
    formats) are rewritten into the one format the core reads; a second run changes nothing."""
    done, _ = judging.judge(new_doc(submitted()), ccus(700), default_master(), "auto", NOW)
    assert done.result_json is not None
    legacy = {k: v for k, v in done.to_document().items() if k != judging.RESULT_JSON}
    legacy["result"] = json.loads(done.result_json)
    snap = judging.snapshot_version_doc(snapshot(30))
    old_snap = {k: v for k, v in snap.items() if k not in ("ccus_json", judging.CCUS_COMPACT)}
    old_snap["ccus"] = json.loads(snap["ccus_json"])
    old_snap["ccus"]["registered_on"] = datetime(2020, 4, 1)  # as the database gives it back
    judgements, snapshots = MemoryDocuments(), MemoryDocuments()
    await judgements.insert(legacy)
    await snapshots.insert(old_snap)

    assert (
        await migrations.rewrite(judgements, migrations.OLD_RESULT, migrations.result_as_text) == 1
    )
    assert await migrations.rewrite(snapshots, migrations.OLD_CCUS, judging.snapshot_as_text) == 1
    stored = await judgements.get(done.id)
    assert stored is not None and "result" not in stored
    assert JudgementRepository(judgements).load(stored).result() == json.loads(done.result_json)
    kept = await snapshots.get(snap["_id"])
    assert kept is not None and "ccus" not in kept
    assert judging.stored_record(kept) == judging.stored_record(snap)
    assert judging.stored_compact(kept) == judging.stored_compact(snap)
    assert (
        await migrations.rewrite(judgements, migrations.OLD_RESULT, migrations.result_as_text) == 0
    )
    assert await migrations.rewrite(snapshots, migrations.OLD_CCUS, judging.snapshot_as_text) == 0
