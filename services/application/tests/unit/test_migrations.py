"""The migration that rewrites application documents of older formats (one reader: the model)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.adapters.outbound import migrations
from application.core import applications as apps

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
ANSWER = {"application_id": "AP-20261128-7K3M9Q", "status_ja": "申請済", "fee_total_yen": 4000}


def old_document() -> dict[str, Any]:
    """A submitted application as documents were written before the answer was kept as JSON
    text and before lines kept their judgement's sequence and history."""
    return {
        "_id": "AP-20261128-7K3M9Q",
        "version": 4,
        "employer_id": "10000000000001",
        "created_by": "kensetsu01",
        "status": "completed",
        "created_at": NOW,
        "updated_at": NOW,
        "delivery_address": None,
        "declarations": {"career_certified": True, "card_issuance_consented": True},
        "lines": [
            {
                "line_id": "AP-20261128-7K3M9Q-01",
                "worker_id": "99000000000001",
                "worker_name": "髙橋 健太",
                "worker_name_kana": "タカハシ ケンタ",
                "birth_date": "1994-07-15",
                "consent_id": "c-1",
                "trade": "鉄筋",
                "requested_level": 2,
                "status": "completed",
                "updated_at": NOW,
                "judgement_id": "J-1",
                "decision": "approved",
                "eligible_level": 2,
                "criteria_version": "鉄筋@2019-10-08",
                "judged_at": NOW,
            }
        ],
        "line_count": 1,
        "next_line_number": 2,
        "submission": {
            "idempotency_key": "k-1",
            "submitted_at": NOW,
            "application_date": "2026-11-28",
            "fee_total_yen": 4000,
            "fee_rule": {"fee_yen": 4000, "label_ja": "通常", "from": None, "to": None},
            "response": ANSWER,
        },
    }


def test_an_old_document_is_rewritten_once_into_the_current_format() -> None:
    old = old_document()
    changes = migrations.upgrade(old)
    assert set(changes) == {"submission", "lines"}
    current = {**old, **changes}
    app = apps.Application.model_validate(current)
    assert apps.submitted_response(app) == ANSWER
    line = apps.detail(app)["lines"][0]
    assert line["judgement_sequence"] == 1
    assert [
        (e["sequence"], e["judgement_id"], e["decision"]) for e in line["judgement_history"]
    ] == [(1, "J-1", "approved")]
    assert migrations.upgrade(current) == {}  # run again: nothing to do


def test_a_current_document_is_left_alone() -> None:
    old = old_document()
    line = {k: v for k, v in old["lines"][0].items() if k not in ("judgement_id", "decision")}
    draft = {**old, "status": "draft", "lines": [{**line, "status": "draft"}], "submission": None}
    assert migrations.upgrade(draft) == {}


def test_the_summaries_migration_keeps_the_newest_version_of_each_application() -> None:
    from application.core.applications import Application
    from application.core.summaries import with_summary

    stored = {**old_document(), **migrations.upgrade(old_document())}
    older = Application.model_validate({**stored, "version": 3, "status": "judging"})
    newer = Application.model_validate(stored)
    outcome = with_summary(None, newer)
    assert outcome is not None
    entry = outcome[0].entry()
    assert (entry["version"], entry["status"], outcome[0].employer_id) == (
        4,
        "completed",
        newer.employer_id,
    )
    assert with_summary(outcome[0], older) is None  # an older version: nothing to write
    assert with_summary(outcome[0], newer) is None  # run again: nothing to write
