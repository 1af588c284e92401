"""The application aggregate: draft → lines → 申請 → 判定中 → 判定完了, 取下げ, reminders."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from application import data
from application.adapters.outbound import migrations
from application.core import applications as apps
from application.core.errors import ApplicationError
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    JudgementStarted,
)

from .conftest import (
    ADDRESS,
    EMPLOYER,
    NOW,
    OTHER_EMPLOYER,
    RULES,
    TODAY,
    checked,
    consent_doc,
    level2,
    level4,
)

APP = "AP-20261128-7K3M9Q"
KEY = "9b1f6c1e-4c1a-4d2e-8f00-0a1b2c3d4e5f"
DECLARED = {"career_certified": True, "card_issuance_consented": True}


def draft(
    *, address: dict[str, Any] | None = ADDRESS, declarations: dict[str, bool] = DECLARED
) -> apps.Application:
    header = apps.Header(address, True, declarations)
    return apps.new_draft(APP, EMPLOYER, "kensetsu01", header, NOW)


def with_lines(doc: apps.Application | None = None) -> apps.Application:
    doc = doc or draft()
    doc, _ = apps.add_line(doc, checked(level4()), NOW, 100)
    doc, _ = apps.add_line(doc, checked(level2()), NOW + timedelta(minutes=5), 100)
    return doc


def ctx(on: date = TODAY, **overrides: Any) -> apps.SubmitContext:
    base: dict[str, Any] = {
        "application_date": on,
        "trades": frozenset({"とび", "鉄筋"}),
        "prefectures": data.prefectures(),
        "consents": {
            "99000000000003": consent_doc("99000000000003"),
            "99000000000001": consent_doc("99000000000001"),
        },
        "schedule": data.fee_schedule(),
        "rules": RULES,
    }
    return apps.SubmitContext(**{**base, **overrides})


def submitted() -> apps.Application:
    doc, _ = apps.submit(with_lines(), KEY, ctx(), NOW + timedelta(hours=1))
    return doc


def started_event(line_id: str, employer: str = EMPLOYER) -> JudgementStarted:
    return JudgementStarted(
        judgement_id=f"J-{line_id}",
        application_id=APP,
        line_id=line_id,
        employer_id=employer,
        worker_id="99000000000003",
        started_at=NOW + timedelta(hours=2),
    )


def completed_event(
    line_id: str,
    decision: str = "approved",
    level: int = 4,
    *,
    sequence: int = 1,
    run_id: str = "R1",
    judged_at: datetime = NOW + timedelta(hours=3),
) -> JudgementCompletedV2:
    """The line's first judgement, or with ``sequence`` > 1 a re-judgement of run ``run_id``
    (``J-<line>-<run>``, judged at the time of the run) superseding the one before."""
    first = f"J-{line_id}"
    rejudged = sequence > 1
    return JudgementCompletedV2(
        judgement_id=f"{first}-{run_id}" if rejudged else first,
        application_id=APP,
        line_id=line_id,
        employer_id=EMPLOYER,
        worker_id="99000000000003",
        worker_name="髙﨑 誠",
        trade="とび",
        evaluation_body="一般社団法人日本鳶工業連合会",
        application_date=TODAY,
        requested_level=4,
        decision=decision,  # type: ignore[arg-type]
        eligible_level=level,
        criteria_version="とび@2019-10-08",
        messages=[] if decision == "approved" else ["職長としての就業日数が不足しています"],
        judged_at=judged_at,
        sequence=sequence,
        supersedes=(first if sequence == 2 else f"{first}-R{sequence - 2}") if rejudged else None,
        rejudgement_run_id=run_id if rejudged else None,
        rejudgement_reason="判定基準の訂正（とび）" if rejudged else None,
    )


# --- drafts and lines --------------------------------------------------------------------------


def test_application_number_is_a_natural_id_dated_in_japan_time() -> None:
    late_evening = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)  # 00:30 on the 29th in Japan
    number = apps.new_application_id(late_evening, lambda n: 7)
    assert number == "AP-20261129-777777"
    assert re.fullmatch(
        r"AP-\d{8}-[0-9A-HJKMNP-TV-Z]{6}", apps.new_application_id(NOW, lambda n: n - 1)
    )
    assert apps.line_id(APP, 1) == "AP-20261128-7K3M9Q-01"


def test_a_new_draft() -> None:
    doc = draft(address=None, declarations={})
    assert doc.status == "draft" and doc.lines == [] and doc.line_count == 0
    assert doc.declarations == {"career_certified": False, "card_issuance_consented": False}
    assert apps.summary(doc)["status_ja"] == "下書き"
    assert apps.summary(doc)["attention_ja"] is None


def test_lines_are_numbered_and_numbers_never_reused() -> None:
    doc = with_lines()
    assert [x.line_id for x in doc.lines] == [f"{APP}-01", f"{APP}-02"]
    assert doc.line_count == 2 and doc.lines_since == NOW
    doc, _ = apps.remove_line(doc, f"{APP}-02", NOW)
    doc, _ = apps.add_line(doc, checked(level2()), NOW, 100)
    assert [x.line_id for x in doc.lines] == [f"{APP}-01", f"{APP}-03"]
    doc, _ = apps.remove_line(doc, f"{APP}-01", NOW)
    doc, _ = apps.remove_line(doc, f"{APP}-03", NOW)
    assert doc.line_count == 0 and doc.lines_since is None


def test_a_worker_appears_once_per_application() -> None:
    doc = with_lines()
    with pytest.raises(ApplicationError) as refused:
        apps.add_line(doc, checked(level4(trade="鉄筋", requested_level=3)), NOW, 100)
    assert refused.value.errors[0].code == "duplicate_worker"
    # replacing a line with the same worker is fine
    doc, _ = apps.replace_line(doc, f"{APP}-01", checked(level4(requested_level=3)), NOW)
    assert doc.lines[0].requested_level == 3 and doc.lines[0].revision == 2


def test_too_many_lines() -> None:
    with pytest.raises(ApplicationError) as refused:
        apps.add_line(with_lines(), checked(level4("99000000000002", trade="電気工事")), NOW, 2)
    assert refused.value.code == "too_many_lines"


def test_the_line_shows_the_consent_data_and_the_default_address() -> None:
    view = apps.line_view(with_lines().lines[0], with_lines())
    assert (view["worker_name"], view["worker_name_kana"], view["birth_date"]) == (
        "髙﨑 誠",
        "タカサキ マコト",
        "1968-11-03",
    )
    assert view["delivery_address"]["city_address"] == "千代田区千代田1-1"
    assert view["delivery_address_overridden"] is False
    assert view["status_ja"] == "下書き"


def preview_result(decision: str) -> dict[str, Any]:
    return {
        "decision": decision,
        "requested_level": 4,
        "eligible_level": 4 if decision == "approved" else 3,
        "days": {"pre_ccus": 5500, "ccus": 100, "total": 5600},
        "foreman_days": {"foreman": 2150, "leader": 0, "foreman_or_leader": 2150},
        "criteria": [
            {
                "level": 4,
                "kind": "foreman_days",
                "met": decision == "approved",
                "required": 1505,
                "actual": 2150,
                "message_ja": None if decision == "approved" else "不足",
            },
            {
                "level": 5,
                "kind": "days",
                "met": False,
                "required": 1,
                "actual": 0,
                "message_ja": "x",
            },
        ],
        "reconciliation": [],
        "warnings": [],
        "criteria_version": "とび@2019-10-08",
    }


def test_a_preview_that_will_fail_flags_the_line_but_does_not_block_it() -> None:
    doc = with_lines()
    kept = apps.preview_summary(preview_result("rejected"), TODAY, NOW)
    assert kept.flag_ja == "このままでは不承認となる見込みです" and kept.unmet == ["不足"]
    outcome = apps.record_preview(doc, f"{APP}-01", 1, kept, NOW)
    assert outcome is not None
    doc = outcome[0]
    assert apps.line_view(doc.lines[0], doc)["flag_ja"] == "このままでは不承認となる見込みです"
    assert apps.submission_errors(doc, ctx()) == []
    ok = apps.preview_summary(preview_result("approved"), TODAY, NOW)
    assert ok.flag_ja is None and ok.likely_rejected is False


def test_a_preview_of_an_older_revision_is_not_kept_and_an_edit_drops_it() -> None:
    doc = with_lines()
    kept = apps.preview_summary(preview_result("approved"), TODAY, NOW)
    assert apps.record_preview(doc, f"{APP}-01", 2, kept, NOW) is None
    doc = apps.record_preview(doc, f"{APP}-01", 1, kept, NOW)[0]  # type: ignore[index]
    doc, _ = apps.replace_line(doc, f"{APP}-01", checked(level4()), NOW)
    assert doc.lines[0].preview is None


def test_the_preview_request_matches_the_judgement_service() -> None:
    doc = with_lines()
    assert apps.preview_request(doc.lines[0], TODAY) == {
        "worker_id": "99000000000003",
        "trade": "とび",
        "requested_level": 4,
        "application_date": "2026-11-28",
        "career_certification": {
            "start": "1987-04-01",
            "end": "2019-06-03",
            "foreman": {"years": 10, "months": 0},
            "leader": {"years": 0, "months": 0},
        },
    }
    assert apps.preview_request(doc.lines[1], TODAY)["career_certification"] is None


# --- submission ----------------------------------------------------------------------------


def test_submission_needs_lines_address_and_both_declarations() -> None:
    empty = draft(address={"prefecture": "東京都"}, declarations={"career_certified": True})
    errors = apps.submission_errors(empty, ctx())
    assert [(e.field, e.code) for e in errors] == [
        ("lines", "no_lines"),
        ("delivery_address.postal_code", "required"),
        ("delivery_address.city_address", "required"),
        ("delivery_address.addressee", "required"),
        ("delivery_address.phone", "required"),
        ("declarations.card_issuance_consented", "declaration_required"),
    ]
    assert errors[-1].message == "カード発行に関する同意の表明にチェックしてください"


def test_submission_rechecks_each_line_and_names_it() -> None:
    errors = apps.submission_errors(with_lines(), ctx(consents={"99000000000001": None}))
    assert [(e.field, e.code, e.line_id) for e in errors] == [
        ("lines.0.worker_id", "consent_required", f"{APP}-01"),
        ("lines.1.worker_id", "consent_required", f"{APP}-02"),
    ]


def test_submit_freezes_the_application_and_raises_application_submitted() -> None:
    doc, events = apps.submit(with_lines(), KEY, ctx(), NOW + timedelta(hours=1))
    assert doc.status == "submitted" and apps.submitted_by(doc, KEY)
    assert not apps.submitted_by(doc, "another-key")
    [envelope] = events
    event = envelope.event
    assert isinstance(event, ApplicationSubmitted)
    assert (event.application_id, event.employer_id, event.application_date) == (
        APP,
        EMPLOYER,
        TODAY,
    )
    assert event.fee_total_yen == 8000
    first, second = event.lines
    assert first.model_dump(mode="json") == {
        "line_id": f"{APP}-01",
        "worker_id": "99000000000003",
        "worker_name": "髙﨑 誠",
        "worker_name_kana": "タカサキ マコト",
        "birth_date": "1968-11-03",
        "trade": "とび",
        "requested_level": 4,
        "career_start": "1987-04-01",
        "career_end": "2019-06-03",
        "foreman_months": 120,
        "leader_months": 0,
        "fee_yen": 4000,
    }
    assert (second.requested_level, second.career_start, second.foreman_months) == (2, None, 0)
    response = apps.submitted_response(doc)
    stored = doc.to_document()["submission"]
    assert "response" not in stored and stored["response_json"]  # kept as JSON text
    assert response["status_ja"] == "申請済" and response["fee_total_yen"] == 8000
    assert response["editable"] is False and response["withdrawable"] is True
    assert [x["status_ja"] for x in response["lines"]] == ["申請済", "申請済"]
    with pytest.raises(ApplicationError) as frozen:
        apps.editable(doc, EMPLOYER)
    assert frozen.value.code == "not_editable"
    assert (
        frozen.value.message
        == "この申請は申請済のため変更できません（変更できるのは下書きのみです）。"
    )
    with pytest.raises(ApplicationError) as again:
        apps.ensure_submittable(doc)
    assert again.value.code == "already_submitted"


@pytest.mark.parametrize(
    ("on", "fee"), [(date(2025, 8, 1), 0), (date(2026, 3, 31), 0), (date(2026, 4, 1), 4000)]
)
def test_submission_fee_follows_the_schedule(on: date, fee: int) -> None:
    consents = {
        "99000000000003": consent_doc("99000000000003", valid_until=date(2027, 1, 1)),
        "99000000000001": consent_doc("99000000000001", valid_until=date(2027, 1, 1)),
    }
    doc, events = apps.submit(with_lines(), KEY, ctx(on, consents=consents), NOW)
    event = events[0].event
    assert isinstance(event, ApplicationSubmitted)
    assert [x.fee_yen for x in event.lines] == [fee, fee] and event.fee_total_yen == 2 * fee
    assert doc.submission is not None and doc.submission.fee_rule["fee_yen"] == fee


def test_submission_takes_the_names_the_consent_records_today() -> None:
    renewed = consent_doc("99000000000003").model_copy(update={"worker_name": "髙﨑 誠一"})
    _, events = apps.submit(
        with_lines(), KEY, ctx(consents={**ctx().consents, "99000000000003": renewed}), NOW
    )
    event = events[0].event
    assert isinstance(event, ApplicationSubmitted)
    assert event.lines[0].worker_name == "髙﨑 誠一"


def test_the_line_address_is_frozen_with_the_effective_one() -> None:
    doc = draft()
    doc, _ = apps.add_line(
        doc, checked(level4(delivery_address={**ADDRESS, "prefecture": "大阪府"})), NOW, 10
    )
    doc, _ = apps.add_line(doc, checked(level2()), NOW, 10)
    doc, _ = apps.submit(doc, KEY, ctx(), NOW)
    views = apps.detail(doc)["lines"]
    assert [
        (v["delivery_address"]["prefecture"], v["delivery_address_overridden"]) for v in views
    ] == [
        ("大阪府", True),
        ("東京都", False),
    ]


# --- judgement progress --------------------------------------------------------------------


def test_lines_move_to_judging_and_completed() -> None:
    doc = submitted()
    doc, events = apps.started(doc, started_event(f"{APP}-01"), NOW)  # type: ignore[misc]
    assert events == [] and doc.status == "judging"
    assert [x.status for x in doc.lines] == ["judging", "submitted"]
    doc = apps.completed(doc, completed_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    assert doc.status == "judging"
    line = apps.detail(doc)["lines"][0]
    assert (line["status_ja"], line["decision_ja"], line["eligible_level"]) == (
        "判定完了（承認）",
        "承認",
        4,
    )
    doc = apps.completed(doc, completed_event(f"{APP}-02", "rejected", 1), NOW)[0]  # type: ignore[index]
    assert doc.status == "completed" and doc.completed_at == NOW
    view = apps.detail(doc)
    assert (view["status_ja"], view["approved_count"], view["rejected_count"]) == ("判定完了", 1, 1)
    assert view["lines"][1]["status_ja"] == "判定完了（不承認）"
    assert view["lines"][1]["messages"] == ["職長としての就業日数が不足しています"]


def test_another_judgement_with_the_same_sequence_changes_nothing() -> None:
    doc = apps.completed(submitted(), completed_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    # another copy of the line's first judgement (sequence 1 again), whatever it says
    assert apps.completed(doc, completed_event(f"{APP}-01", "rejected", 1), NOW) is None
    assert apps.started(doc, started_event(f"{APP}-01"), NOW) is None  # no step back


# --- re-judgement (再判定): a line's current judgement is its latest -----------------------

LATER = NOW + timedelta(days=30)


def all_completed() -> apps.Application:
    doc = apps.completed(submitted(), completed_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    done = apps.completed(doc, completed_event(f"{APP}-02", "rejected", 1), NOW)
    assert done is not None and done[0].status == "completed"
    return done[0]


def test_a_rejudgement_replaces_the_line_result_and_keeps_the_history() -> None:
    doc = all_completed()
    rejudged = completed_event(f"{APP}-01", "rejected", 3, sequence=2, judged_at=LATER)
    outcome = apps.completed(doc, rejudged, LATER + timedelta(minutes=1))
    assert outcome is not None
    new, events = outcome
    assert events == []  # nothing is raised, as for the first completion
    # the application stays 判定完了 and keeps the first completion's time
    assert (new.status, new.completed_at) == ("completed", NOW)
    assert new.updated_at == LATER + timedelta(minutes=1)
    view = apps.detail(new)
    line = view["lines"][0]
    assert (line["status_ja"], line["decision"], line["eligible_level"]) == (
        "判定完了（不承認）",
        "rejected",
        3,
    )
    assert (line["judgement_id"], line["judgement_sequence"], line["judged_at"]) == (
        f"J-{APP}-01-R1",
        2,
        LATER.isoformat(),
    )
    assert (line["supersedes"], line["rejudgement_reason"]) == (
        f"J-{APP}-01",
        "判定基準の訂正（とび）",
    )
    assert line["messages"] == ["職長としての就業日数が不足しています"]
    assert line["judgement_history"] == [
        {
            "sequence": 1,
            "judgement_id": f"J-{APP}-01",
            "decision": "approved",
            "decision_ja": "承認",
            "eligible_level": 4,
            "criteria_version": "とび@2019-10-08",
            "judged_at": (NOW + timedelta(hours=3)).isoformat(),
            "rejudgement_reason": None,
            "supersedes": None,
        },
        {
            "sequence": 2,
            "judgement_id": f"J-{APP}-01-R1",
            "decision": "rejected",
            "decision_ja": "不承認",
            "eligible_level": 3,
            "criteria_version": "とび@2019-10-08",
            "judged_at": LATER.isoformat(),
            "rejudgement_reason": "判定基準の訂正（とび）",
            "supersedes": f"J-{APP}-01",
        },
    ]
    # the summary counts the current results: both lines 不承認 now
    assert (view["approved_count"], view["rejected_count"]) == (0, 2)
    assert apps.summary(new)["rejected_count"] == 2
    # a third judgement of the line supersedes the second
    third = completed_event(f"{APP}-01", "approved", 4, sequence=3, run_id="R2")
    newest = apps.completed(new, third, LATER)
    assert newest is not None
    history = apps.detail(newest[0])["lines"][0]["judgement_history"]
    assert [(e["sequence"], e["judgement_id"], e["supersedes"]) for e in history] == [
        (1, f"J-{APP}-01", None),
        (2, f"J-{APP}-01-R1", f"J-{APP}-01"),
        (3, f"J-{APP}-01-R2", f"J-{APP}-01-R1"),
    ]


def test_an_older_or_redelivered_judgement_changes_nothing() -> None:
    doc = all_completed()
    rejudged = completed_event(f"{APP}-01", "rejected", 3, sequence=2, judged_at=LATER)
    new = apps.completed(doc, rejudged, LATER)[0]  # type: ignore[index]
    assert apps.completed(new, rejudged, LATER) is None  # the same re-judgement again
    assert apps.completed(new, completed_event(f"{APP}-01"), LATER) is None  # the first again
    # out of order: the re-judgement arrives before the line's first judgement
    early = apps.completed(submitted(), rejudged, LATER)
    assert early is not None
    line = early[0].lines[0]
    assert (line.status, line.decision, line.judgement_sequence) == (
        "completed",
        "rejected",
        2,
    )
    assert apps.completed(early[0], completed_event(f"{APP}-01"), LATER) is None
    assert [e["sequence"] for e in apps.detail(early[0])["lines"][0]["judgement_history"]] == [2]


def test_a_line_judged_before_sequences_were_kept_holds_sequence_1() -> None:
    doc = all_completed()
    stored = doc.to_document()
    old_format = {
        **stored,
        "lines": [
            {k: v for k, v in line.items() if k not in ("judgement_sequence", "judgement_history")}
            for line in stored["lines"]
        ],
    }
    # the migration rewrites such a document (one reader: the model)
    legacy = apps.Application.model_validate({**old_format, **migrations.upgrade(old_format)})
    assert migrations.upgrade(legacy.to_document()) == {}  # idempotent
    line = apps.detail(legacy)["lines"][0]
    assert line["judgement_sequence"] == 1
    assert [(e["sequence"], e["judgement_id"]) for e in line["judgement_history"]] == [
        (1, f"J-{APP}-01")
    ]
    assert apps.completed(legacy, completed_event(f"{APP}-01", "rejected", 1), NOW) is None
    rejudged = completed_event(f"{APP}-01", "rejected", 3, sequence=2, judged_at=LATER)
    new = apps.completed(legacy, rejudged, LATER)
    assert new is not None
    history = apps.detail(new[0])["lines"][0]["judgement_history"]
    assert [(e["sequence"], e["decision"], e["eligible_level"]) for e in history] == [
        (1, "approved", 4),
        (2, "rejected", 3),
    ]


def test_lines_not_yet_judged_show_no_judgement() -> None:
    doc = apps.started(submitted(), started_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    line = apps.detail(doc)["lines"][0]
    assert (line["judgement_sequence"], line["judgement_history"]) == (None, [])
    assert line["judgement_id"] == f"J-{APP}-01"  # the judgement being made


def test_events_of_other_employers_unknown_lines_or_drafts_change_nothing() -> None:
    doc = submitted()
    assert apps.started(doc, started_event(f"{APP}-01", OTHER_EMPLOYER), NOW) is None
    assert apps.started(doc, started_event(f"{APP}-99"), NOW) is None
    assert apps.started(None, started_event(f"{APP}-01"), NOW) is None
    assert apps.started(with_lines(), started_event(f"{APP}-01"), NOW) is None


# --- withdrawal ----------------------------------------------------------------------------


def test_withdrawal_before_judging_starts() -> None:
    doc, events = apps.withdraw(submitted(), "  技能者の 退職 ", NOW)
    assert doc.status == "withdrawn" and {x.status for x in doc.lines} == {"withdrawn"}
    event = events[0].event
    assert isinstance(event, ApplicationWithdrawn)
    assert event.line_ids == [f"{APP}-01", f"{APP}-02"] and event.reason == "技能者の 退職"
    with pytest.raises(ApplicationError) as twice:
        apps.withdraw(doc, None, NOW)
    assert twice.value.code == "already_withdrawn"


def test_withdrawal_refused_once_a_line_started() -> None:
    doc = apps.started(submitted(), started_event(f"{APP}-02"), NOW)[0]  # type: ignore[index]
    with pytest.raises(ApplicationError) as refused:
        apps.withdraw(doc, None, NOW)
    assert refused.value.code == "judgement_started"
    assert refused.value.message == "判定が開始されているため、この申請は取下げできません。"
    assert apps.detail(doc)["withdrawable"] is False


def test_a_draft_is_deleted_not_withdrawn() -> None:
    with pytest.raises(ApplicationError) as refused:
        apps.withdraw(with_lines(), None, NOW)
    assert refused.value.code == "not_submitted"
    deleted, _ = apps.discard(with_lines(), NOW)
    with pytest.raises(ApplicationError) as gone:
        apps.owned(deleted, EMPLOYER)
    assert gone.value.code == "not_found"


def test_a_judgement_that_started_before_the_withdrawal_arrived_still_counts() -> None:
    doc = apps.withdraw(submitted(), None, NOW)[0]
    doc = apps.started(doc, started_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    assert doc.status == "judging"
    assert doc.lines[0].note_ja == "取下げの前に判定が開始されていたため、この技能者は判定されます"
    doc = apps.completed(doc, completed_event(f"{APP}-01"), NOW)[0]  # type: ignore[index]
    assert doc.status == "completed"  # the other line stays withdrawn


def test_ownership() -> None:
    with pytest.raises(ApplicationError) as other:
        apps.owned(with_lines(), OTHER_EMPLOYER)
    assert other.value.code == "not_found"
    with pytest.raises(ApplicationError):
        apps.owned(None, EMPLOYER)


# --- 押し忘れ防止 -----------------------------------------------------------------------------

AFTER = timedelta(hours=72)
DAY = timedelta(days=1)


def test_reminder_due_after_the_configured_time_then_at_most_daily() -> None:
    doc = with_lines()
    assert not apps.reminder_due(doc, NOW + AFTER - timedelta(seconds=1), AFTER, DAY)
    at = NOW + AFTER
    doc, events = apps.remind(doc, at, AFTER, DAY)  # type: ignore[misc]
    event = events[0].event
    assert isinstance(event, ApplicationDraftReminder)
    assert (event.application_id, event.line_count, event.draft_created_at, event.reminded_at) == (
        APP,
        2,
        NOW,
        at,
    )
    assert doc.last_reminded_at == at and doc.reminder_count == 1
    assert apps.remind(doc, at + DAY - timedelta(seconds=1), AFTER, DAY) is None
    assert apps.remind(doc, at + DAY, AFTER, DAY) is not None


def test_no_reminder_without_lines_or_after_submission() -> None:
    assert not apps.reminder_due(draft(), NOW + 10 * AFTER, AFTER, DAY)
    assert not apps.reminder_due(submitted(), NOW + 10 * AFTER, AFTER, DAY)


def test_the_portal_banner_text() -> None:
    assert apps.summary(with_lines())["attention_ja"] == (
        "申請ボタンが押されていません。技能者2名の申請は未完了です。内容を確認して「申請」を押してください"
    )
    assert apps.summary(submitted())["attention_ja"] is None
