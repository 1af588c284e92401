"""The life of one consent: 申請中 → 承認 / 差戻し → 再申請, auto-approval, validity, end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from consent.core import consents
from consent.core.ccus import CcusWorker
from consent.core.consents import Approval, Consent, Policy, StoredForm
from consent.core.errors import ConsentError
from consent.core.validation import SCOPES, Application, Worker
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected

EMPLOYER = "11111111111111"
WORKER_ID = "22222222222222"
CID = f"{EMPLOYER}-{WORKER_ID}"
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 10:00 in Japan
MANUAL = Policy(auto_approve=False, valid_days=365)
AUTO = Policy(auto_approve=True, valid_days=365)
WORKER = Worker(0, WORKER_ID, "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1))
APPLICATION = Application(
    employer={"employer_name": "株式会社髙橋建設", "address": "東京都千代田区千代田1-1"},
    workers=[WORKER],
    scopes=list(SCOPES),
)
CCUS = CcusWorker(
    id=WORKER_ID,
    worker_id=WORKER_ID,
    name="山田 太郎",
    name_kana="ヤマダ タロウ",
    birth_date=date(1980, 4, 1),
    registration_type="detailed",
    taken_at=NOW,
)
FORM = StoredForm(
    file_id="f1",
    filename="同意書.pdf",
    content_type="application/pdf",
    size=10,
    sha256="0" * 64,
    uploaded_at=NOW,
    uploaded_by="kensetsu01",
)


def filed(
    doc: Consent | None = None, policy: Policy = MANUAL, now: datetime = NOW
) -> tuple[Consent, list[Any]]:
    return consents.file(
        doc,
        employer_id=EMPLOYER,
        application=APPLICATION,
        worker=WORKER,
        ccus=CCUS,
        warnings=[],
        actor="kensetsu01",
        now=now,
        policy=policy,
    )


def attached(doc: Consent, file_id: str = "f1", policy: Policy = MANUAL) -> Any:
    form = FORM.model_copy(update={"file_id": file_id})
    return consents.attach_form(doc, form=form, actor="kensetsu01", now=NOW, policy=policy)


def test_filing_makes_a_pending_incomplete_consent() -> None:
    doc, events = filed()
    assert events == []
    assert (doc.id, doc.consent_id, doc.status, doc.signed_form) == (CID, CID, "pending", None)
    assert [i.scope for i in doc.consent_items] == list(SCOPES)
    assert all(i.accepted and i.accepted_at == NOW for i in doc.consent_items)
    view = consents.summary(doc, NOW.date())
    assert (view["status_ja"], view["complete"], view["valid"]) == ("申請中", False, False)


def test_approval_needs_the_signed_form_then_grants_for_a_year() -> None:
    doc, _ = filed()
    with pytest.raises(ConsentError) as caught:
        consents.approve(doc, actor="hyoka01", now=NOW, policy=MANUAL)
    assert caught.value.code == "signed_form_missing"
    doc, events = attached(doc)
    assert events == [] and doc.status == "pending" and doc.complete()
    approved, events = consents.approve(doc, actor="hyoka01", now=NOW, policy=MANUAL)
    assert approved.status == "approved"
    assert approved.valid_until == date(2027, 11, 20)
    (envelope,) = events
    assert envelope.source == "consent"
    assert envelope.key == CID
    assert envelope.event == ConsentGranted(
        consent_id=CID,
        employer_id=EMPLOYER,
        worker_id=WORKER_ID,
        worker_name="山田 太郎",
        worker_name_kana="ヤマダ タロウ",
        birth_date=date(1980, 4, 1),
        scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
        granted_at=NOW,
        valid_until=date(2027, 11, 20),
        ends_on_first_judgement=True,
    )
    view = consents.summary(approved, date(2027, 11, 20))
    assert (view["status_ja"], view["valid"], view["validity_ja"]) == (
        "承認",
        True,
        "有効（2027-11-20まで）",
    )
    expired = consents.summary(approved, date(2027, 11, 21))
    assert (expired["valid"], expired["validity_ja"]) == (
        False,
        "期限切れ（2027-11-20まで有効でした）",
    )


def test_validity_is_counted_in_japan_time() -> None:
    late_evening_utc = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 2026-11-21 01:00 JST
    doc, _ = attached(filed()[0])
    approved, _ = consents.approve(doc, actor="hyoka01", now=late_evening_utc, policy=MANUAL)
    assert approved.valid_until == date(2027, 11, 21)


def test_approval_refuses_a_form_replaced_since_the_evaluator_looked() -> None:
    doc, _ = attached(filed()[0], file_id="f2")
    with pytest.raises(ConsentError) as caught:
        consents.approve(doc, actor="hyoka01", now=NOW, policy=MANUAL, expected_form_id="f1")
    assert caught.value.code == "signed_form_changed"


def test_return_needs_a_reason_and_resubmission_goes_back_to_pending() -> None:
    doc, _ = attached(filed()[0])
    for reason in (None, "", "  \u3000 "):
        with pytest.raises(ConsentError) as caught:
            consents.return_(doc, actor="hyoka01", reason=reason, now=NOW)
        assert caught.value.body()["errors"] == [
            {"field": "reason", "message": "差戻し理由を入力してください"}
        ]
    returned, events = consents.return_(doc, actor="hyoka01", reason="署名が  ありません", now=NOW)
    assert returned.status == "returned"
    assert [e.event for e in events] == [
        ConsentRejected(
            consent_id=CID,
            employer_id=EMPLOYER,
            worker_id=WORKER_ID,
            reason="署名が ありません",
            rejected_at=NOW,
        )
    ]
    view = consents.summary(returned, NOW.date())
    assert (view["status_ja"], view["return_reason"]) == ("差戻し", "署名が ありません")
    with pytest.raises(ConsentError) as caught:
        consents.approve(returned, actor="hyoka01", now=NOW, policy=MANUAL)
    assert caught.value.code == "not_pending"

    # a new signed form re-submits it
    again, events = attached(returned, file_id="f2")
    assert (again.status, events) == ("pending", [])
    assert again.signed_form.file_id == "f2"
    assert [f.file_id for f in again.previous_forms] == ["f1"]
    assert consents.summary(again, NOW.date())["return_reason"] is None
    # … and so does corrected data
    refiled, _ = filed(returned)
    assert refiled.status == "pending" and refiled.signed_form.file_id == "f1"
    assert [h.action for h in refiled.history] == [
        "filed",
        "form_attached",
        "returned",
        "resubmitted",
    ]


def test_auto_approval_approves_complete_applications_only() -> None:
    doc, events = filed(policy=AUTO)
    assert (doc.status, events) == ("pending", [])  # no signed form yet
    approved, events = attached(doc, policy=AUTO)
    assert approved.status == "approved"
    assert approved.approval == Approval(by="auto-approval", at=NOW, auto=True)
    assert [type(e.event) for e in events] == [ConsentGranted]


def test_the_granted_event_carries_the_consent_term_of_the_policy() -> None:
    """The consent service owns CONSENT_END_ON_JUDGEMENT; others read it from the event."""
    lasting = Policy(auto_approve=False, valid_days=365, ends_on_judgement=False)
    doc, _ = attached(filed()[0])
    for policy, ends in ((MANUAL, True), (lasting, False)):
        _, [envelope] = consents.approve(doc, actor="hyoka01", now=NOW, policy=policy)
        assert isinstance(envelope.event, ConsentGranted)
        assert envelope.event.ends_on_first_judgement is ends


def test_a_valid_consent_cannot_be_filed_again_nor_get_a_new_form() -> None:
    approved, _ = consents.approve(attached(filed()[0])[0], actor="hyoka01", now=NOW, policy=MANUAL)
    assert consents.filing_refusal(approved, NOW.date()) == (
        "この技能者の個人情報利用申請は承認済みです（有効期限：2027-11-20）"
    )
    for action in (lambda: filed(approved), lambda: attached(approved)):
        with pytest.raises(ConsentError) as caught:
            action()
        assert caught.value.code == "already_approved"


def test_an_expired_consent_is_renewed_with_a_new_form() -> None:
    approved, _ = consents.approve(attached(filed()[0])[0], actor="hyoka01", now=NOW, policy=MANUAL)
    later = NOW + timedelta(days=400)
    assert consents.filing_refusal(approved, later.date()) is None
    with pytest.raises(ConsentError) as caught:
        consents.attach_form(approved, form=FORM, actor="kensetsu01", now=later, policy=MANUAL)
    assert caught.value.code == "reapplication_required"
    renewed, _ = filed(approved, now=later)
    assert (renewed.status, renewed.signed_form, renewed.valid_until) == (
        "pending",
        None,
        None,
    )
    assert [f.file_id for f in renewed.previous_forms] == ["f1"]


def end(doc: Consent | None, judged_at: datetime, sequence: int = 1) -> Any:
    return consents.end_by_judgement(
        doc, judgement_id="J-1", judged_at=judged_at, sequence=sequence, now=judged_at
    )


def test_a_first_judgement_ends_the_consent() -> None:
    approved, _ = consents.approve(attached(filed()[0])[0], actor="hyoka01", now=NOW, policy=MANUAL)
    assert end(approved, NOW - timedelta(days=1)) is None  # an earlier application's judgement
    ended, events = end(approved, NOW + timedelta(days=3))
    assert (ended.status, events) == ("ended", [])
    assert ended.ended.judgement_id == "J-1"
    view = consents.summary(ended, NOW.date())
    assert (view["status_ja"], view["valid"]) == ("終了（判定完了）", False)
    assert end(None, NOW) is None
    pending, _ = filed()
    assert end(pending, NOW) is None
    assert consents.filing_refusal(ended, NOW.date()) is None


def test_a_rejudgement_after_a_later_grant_leaves_that_consent_active() -> None:
    approved, _ = consents.approve(attached(filed()[0])[0], actor="hyoka01", now=NOW, policy=MANUAL)
    ended, _ = end(approved, NOW + timedelta(days=3))  # the line's first judgement
    # the worker consents again (a new 個人情報利用申請 for his next application) …
    later = NOW + timedelta(days=10)
    refiled, _ = filed(ended, now=later)
    renewed, _ = consents.approve(
        attached(refiled, "f2")[0], actor="hyoka01", now=later, policy=MANUAL
    )
    # … and the old line is judged again (再判定) after that grant: it ends nothing
    for sequence in (2, 3):
        assert end(renewed, later + timedelta(days=5), sequence) is None
    assert consents.summary(renewed, later.date())["valid"] is True


def test_the_rule_of_docs_consent_md() -> None:
    """The same cases as the application service's test of its own copy of the rule."""
    granted = NOW
    before, after = NOW - timedelta(days=1), NOW + timedelta(days=1)
    cases = [(1, before, False), (1, granted, False), (1, after, True), (2, after, False)]
    for sequence, judged_at, ends in cases:
        assert consents.judgement_ends_consent(sequence, judged_at, granted) is ends


def test_detail_offers_the_consent_form_request_for_the_document_service() -> None:
    doc, _ = filed()
    assert consents.detail(doc, NOW.date())["consent_form_request"] == {
        "employer_name": "株式会社髙橋建設",
        "worker_name": "山田 太郎",
        "worker_name_kana": "ヤマダ タロウ",
        "worker_id": WORKER_ID,
    }
