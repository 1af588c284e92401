"""Builders shared by the document service's tests (and bench/documents.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgedCriterion,
    JudgedDays,
    JudgedForemanDays,
    JudgedReconciliation,
    JudgementCompletedV2,
    UserActivated,
)

EMPLOYER = "12345678901234"
WORKER = "99000000000002"
WORKER_NAME = "𠮷野 翔太"
DAYS_SHORT = "就業日数が不足しています（必要 1,075日、現在 900日）"


def employer_activated(at: datetime) -> Envelope:
    """The ``UserActivated`` that gives the service the name its notices print."""
    return Envelope(
        UserActivated(
            login_id="kensetsu01",
            email="a@example.jp",
            employer_id=EMPLOYER,
            employer_name="株式会社髙﨑建設",
            activated_at=at,
        ),
        source="identity",
    )


def judged(
    line_id: str = "AP-1-1",
    *,
    approved: bool = True,
    employer: str = EMPLOYER,
    worker_name: str = WORKER_NAME,
) -> JudgementCompletedV2:
    """電気工事, level 3 requested: approved with 1,414 days, or rejected with 900 (level 2)."""
    days = 1414 if approved else 900
    return JudgementCompletedV2(
        judgement_id=f"J-{line_id}",
        application_id=line_id.rsplit("-", 1)[0],
        line_id=line_id,
        employer_id=employer,
        worker_id=WORKER,
        worker_name=worker_name,
        trade="電気工事",
        evaluation_body="一般社団法人日本電設工業協会",
        application_date=date(2026, 11, 20),
        requested_level=3,
        decision="approved" if approved else "rejected",
        eligible_level=3 if approved else 2,
        criteria_version="電気工事@2020-02-05",
        messages=[] if approved else [DAYS_SHORT],
        days=JudgedDays(pre_ccus=0, ccus=days, total=days),
        foreman_days=JudgedForemanDays(foreman=300, leader=317, foreman_or_leader=617),
        criteria=[
            JudgedCriterion(level=2, kind="days", met=True, required=645, actual=days),
            JudgedCriterion(
                level=2,
                kind="qualification",
                met=True,
                required="第二種電気工事士免状取得者",
                actual="第一種電気工事士免状取得者（2015-04-01取得）",
            ),
            JudgedCriterion(
                level=3,
                kind="days",
                met=approved,
                required=1075,
                actual=days,
                message_ja=None if approved else DAYS_SHORT,
            ),
            JudgedCriterion(
                level=3,
                kind="foreman_or_leader_days",
                met=True,
                required=215,
                actual=617,
            ),
            JudgedCriterion(
                level=3,
                kind="qualification",
                met=True,
                required="第一種電気工事士免状取得者",
                actual="第一種電気工事士免状取得者（2015-04-01取得）",
            ),
            JudgedCriterion(
                level=4,
                kind="days",
                met=False,
                required=2150,
                actual=days,
                message_ja="就業日数が不足しています（必要 2,150日）",
            ),
            JudgedCriterion(
                level=4,
                kind="qualification",
                met=True,
                required="登録電気工事基幹技能者",
                actual="登録電気工事基幹技能者（2020-01-10取得）",
            ),
        ],
        reconciliation=[
            JudgedReconciliation(
                field="career_certification.start",
                declared="2010-04-01",
                adopted="2015-04-01",
                reason_ja="起算点はCCUSに登録された最も古い資格の取得日です",
            )
        ],
        judged_at=datetime(2026, 11, 21, 1, 0, tzinfo=UTC),
    )


def rejudged(
    line_id: str = "AP-1-1",
    sequence: int = 2,
    *,
    approved: bool = True,
    run_id: str = "RJ-20261201",
    reason: str | None = "判定基準の改定（電気工事@2026-12-01）",
    previously_approved: bool = False,
) -> JudgementCompletedV2:
    """The line judged again (再判定) by run ``run_id``: judgement ``J-<line>-<run>``, the
    ``sequence``-th of the line, superseding the previous one (as the judgement service
    numbers them: the first ``J-<line>``, then one per run)."""
    previous = f"J-{line_id}" if sequence == 2 else f"J-{line_id}-RJ-{sequence - 1}"
    return judged(line_id, approved=approved).model_copy(
        update={
            "judgement_id": f"J-{line_id}-{run_id}",
            "sequence": sequence,
            "supersedes": previous,
            "previous_decision": "approved" if previously_approved else "rejected",
            "previous_eligible_level": 3 if previously_approved else 2,
            "rejudgement_run_id": run_id,
            "rejudgement_reason": reason,
            "judged_at": datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        }
    )
