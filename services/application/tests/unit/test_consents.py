"""The consent read model: only a valid granted consent lets a worker onto a line."""

from __future__ import annotations

from datetime import UTC, date, datetime

from application.core import consents
from shared_kernel.events.catalogue import ConsentRejected
from shared_kernel.time import japan_today

from .conftest import EMPLOYER, TODAY, consent_doc, grant

WORKER = "99000000000001"


def test_a_grant_records_what_the_consent_application_recorded() -> None:
    doc = consent_doc(WORKER)
    assert doc.worker_name == "髙橋 健太"
    assert doc.worker_name_kana == "タカハシ ケンタ"
    assert doc.to_document()["birth_date"] == "1994-07-15"  # stored as ISO text
    assert doc.ends_on_first_judgement is True  # an event from before the field
    assert consents.refusal(doc, TODAY) is None
    assert consents.worker_view(doc) == {
        "worker_id": WORKER,
        "worker_name": "髙橋 健太",
        "worker_name_kana": "タカハシ ケンタ",
        "birth_date": "1994-07-15",
        "consent_id": f"{EMPLOYER}-{WORKER}",
        "valid_until": "2027-11-01",
        "granted_at": "2026-11-01T00:00:00+00:00",
    }


def test_no_consent_at_all_is_refused() -> None:
    refusal = consents.refusal(None, TODAY)
    assert refusal is not None and refusal.code == "consent_required"
    assert refusal.message == (
        "この技能者は個人情報利用の同意が得られていないため選択できません。"
        "個人情報利用申請を行い、承認を受けてから追加してください"
    )


def test_the_newest_grant_wins() -> None:
    newer = consent_doc(WORKER, granted_at=datetime(2026, 11, 10, tzinfo=UTC))
    older = grant(WORKER, granted_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert consents.granted(older, newer) is None
    renewed = grant(WORKER, granted_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert consents.granted(renewed, newer) is not None


def test_valid_until_is_the_last_valid_day() -> None:
    doc = consent_doc(WORKER, valid_until=TODAY)
    assert consents.is_valid(doc, TODAY)
    refusal = consents.refusal(doc, date(2026, 11, 29))
    assert refusal is not None and refusal.code == "consent_expired"
    assert "有効期限（2026-11-28）が過ぎています" in refusal.message


def rejection(at: datetime) -> ConsentRejected:
    return ConsentRejected(
        consent_id=f"{EMPLOYER}-{WORKER}",
        employer_id=EMPLOYER,
        worker_id=WORKER,
        reason="署名がありません",
        rejected_at=at,
    )


def test_a_rejection_after_the_grant_ends_it_and_an_older_one_does_not() -> None:
    doc = consent_doc(WORKER, granted_at=datetime(2026, 11, 10, tzinfo=UTC))
    assert consents.rejected(rejection(datetime(2026, 11, 5, tzinfo=UTC)), doc) is None
    after = consents.rejected(rejection(datetime(2026, 11, 12, tzinfo=UTC)), doc)
    refusal = consents.refusal(after, TODAY)
    assert refusal is not None and refusal.code == "consent_required"
    assert "差戻しされています（理由：署名がありません）" in refusal.message
    first = consents.rejected(rejection(datetime(2026, 11, 12, tzinfo=UTC)), None)
    assert first is not None and not consents.is_valid(first, TODAY)


def test_a_first_judgement_after_the_grant_ends_the_consent() -> None:
    doc = consent_doc(WORKER, granted_at=datetime(2026, 11, 10, tzinfo=UTC))
    assert consents.ended_by_judgement(1, datetime(2026, 11, 9, tzinfo=UTC), doc) is None
    ended = consents.ended_by_judgement(1, datetime(2026, 11, 11, tzinfo=UTC), doc)
    refusal = consents.refusal(ended, TODAY)
    assert refusal is not None and refusal.code == "consent_ended"
    assert consents.ended_by_judgement(1, datetime(2026, 11, 12, tzinfo=UTC), None) is None


def test_a_judgement_ends_only_a_consent_whose_term_says_so() -> None:
    judged = datetime(2026, 11, 11, tzinfo=UTC)
    granted = datetime(2026, 11, 10, tzinfo=UTC)
    one_year = consent_doc(WORKER, granted_at=granted, ends_on_first_judgement=False)
    assert one_year.ends_on_first_judgement is False
    assert consents.ended_by_judgement(1, judged, one_year) is None
    until_judged = consent_doc(WORKER, granted_at=granted, ends_on_first_judgement=True)
    ended = consents.ended_by_judgement(1, judged, until_judged)
    assert ended is not None and ended.status == consents.ENDED


def test_a_rejudgement_ends_nothing() -> None:
    # judged 11-11 (sequence 1): the consent of 11-10 ended; the worker consented again on
    # 11-20; the line is judged again (再判定) on 11-25: the new consent stays valid
    renewed = consent_doc(WORKER, granted_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert consents.ended_by_judgement(2, datetime(2026, 11, 25, tzinfo=UTC), renewed) is None
    assert consents.ended_by_judgement(3, datetime(2026, 11, 26, tzinfo=UTC), renewed) is None
    assert consents.is_valid(renewed, TODAY)


def test_the_rule_of_docs_consent_md() -> None:
    """The same cases as the consent service's test of its own predicate."""
    granted = datetime(2026, 11, 10, tzinfo=UTC)
    before, after = datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)
    cases = [(1, before, False), (1, granted, False), (1, after, True), (2, after, False)]
    for sequence, judged_at, ends in cases:
        assert consents.judgement_ends_consent(sequence, judged_at, granted) is ends


def test_a_consent_without_every_scope_is_refused() -> None:
    doc = consent_doc(WORKER).model_copy(update={"scopes": ["view_ccus_data", "proxy_application"]})
    refusal = consents.refusal(doc, TODAY)
    assert refusal is not None and refusal.code == "consent_scope_missing"


def test_japan_today() -> None:
    assert japan_today(datetime(2026, 11, 28, 14, 59, tzinfo=UTC)) == date(2026, 11, 28)
    assert japan_today(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) == date(2026, 11, 29)
