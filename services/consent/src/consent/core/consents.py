"""The consent of one worker to one employer: pure functions over its document, no I/O.

One document per employer × worker, ``_id`` = ``<事業者ID>-<技能者ID>`` (the natural id;
a worker who consents again, e.g. after the previous consent ended, reuses it). Status:

* 申請中 (``pending``): filed; complete once the signed form is attached;
* 承認 (``approved``): an evaluator (or the auto-approval) granted it, valid until
  ``valid_until`` (inclusive, Japan time): ConsentGranted;
* 差戻し (``returned``): an evaluator returned it with a reason: ConsentRejected. A new
  signed form or corrected data brings it back to 申請中;
* 終了 (``ended``): the first judgement of a line of this worker for this employer
  completed after the grant (:func:`judgement_ends_consent`; a re-judgement ends nothing).

The consent is the :class:`Consent` model (stored as that document, the field names
unchanged). Every change function returns the new consent and the events it raises, or
raises :class:`ConsentError` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from consent.core.ccus import CcusWorker
from consent.core.errors import ConsentError, invalid, on_field
from consent.core.validation import (
    SCOPE_LABELS,
    SCOPES,
    Application,
    Worker,
    collapse_spaces,
    name_key,
)
from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected, ConsentScope
from shared_kernel.time import japan_today

SOURCE = "consent"
COLLECTION = "consents"
PENDING: Final = "pending"
APPROVED: Final = "approved"
RETURNED: Final = "returned"
ENDED: Final = "ended"
Status = Literal["pending", "approved", "returned", "ended"]
STATUS_JA = {PENDING: "申請中", APPROVED: "承認", RETURNED: "差戻し", ENDED: "終了（判定完了）"}
AUTO_APPROVER = "auto-approval"
REASON_MAX = 1000
CONSENT_ID = re.compile(r"^(\d{14})-(\d{14})$")


class Part(BaseModel):
    """A part of the consent's document (unknown fields refused, like the aggregate's)."""

    model_config = ConfigDict(extra="forbid")


class WorkerDetails(Part):
    name: str
    name_kana: str
    birth_date: StoredDate


class CcusMatch(Part):
    """What the CCUS check of the filing found."""

    registration_type: str | None
    name_matches: bool
    snapshot_taken_at: datetime | None
    checked_at: datetime


class FilingWarning(Part):
    code: str
    message: str


class ConsentItem(Part):
    scope: ConsentScope
    label: str
    accepted: bool
    accepted_at: datetime


class StoredForm(Part):
    """A signed form as stored (GridFS id, the disarmed file's name, size and hash)."""

    file_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_size: int | None = None
    uploaded_sha256: str | None = None
    uploaded_at: datetime
    uploaded_by: str | None = None


class Return(Part):
    reason: str
    by: str
    at: datetime


class Approval(Part):
    by: str
    at: datetime
    auto: bool


class Ending(Part):
    reason: str
    judgement_id: str
    judged_at: datetime
    at: datetime


class HistoryEntry(Part):
    at: datetime
    action: str
    by: str
    status: Status
    file_id: str | None = None
    valid_until: StoredDate | None = None
    reason: str | None = None
    judgement_id: str | None = None


class Consent(Aggregate):
    """The consent of one worker to one employer (``_id`` = ``consent_id``)."""

    consent_id: str
    employer_id: str
    worker_id: str
    employer: dict[str, str | None]
    worker: WorkerDetails
    ccus: CcusMatch
    warnings: list[FilingWarning] = Field(default_factory=list)
    consent_items: list[ConsentItem] = Field(default_factory=list)
    filed_by: str
    status: Status
    filed_at: datetime
    updated_at: datetime
    submitted_at: datetime
    signed_form: StoredForm | None = None
    previous_forms: list[StoredForm] = Field(default_factory=list)
    last_return: Return | None = None
    approval: Approval | None = None
    valid_until: StoredDate | None = None
    ended: Ending | None = None
    history: list[HistoryEntry] = Field(default_factory=list)

    def is_valid(self, today: date) -> bool:
        """Granted and not past its last valid day."""
        return (
            self.status == APPROVED and self.valid_until is not None and self.valid_until >= today
        )

    def complete(self) -> bool:
        """Everything an evaluator needs: the four items accepted and the signed form."""
        accepted = {i.scope for i in self.consent_items if i.accepted}
        return self.signed_form is not None and accepted == set(SCOPES)

    def subject(self) -> dict[str, str]:
        """Whose personal data a read of this consent shows (for the access log)."""
        return {
            "consent_id": self.consent_id,
            "employer_id": self.employer_id,
            "worker_id": self.worker_id,
        }

    def with_history(self, entry: HistoryEntry, **changes: Any) -> Consent:
        return self.model_copy(update={**changes, "history": [*self.history, entry]})


Outcome = tuple[Consent, list[Envelope]]


@dataclass(frozen=True)
class Policy:
    """The consent's term: auto-approval, days of validity and whether a first judgement
    ends it (``CONSENT_END_ON_JUDGEMENT``: this service is its one owner and tells the
    others in every ConsentGranted, ``ends_on_first_judgement``)."""

    auto_approve: bool = False
    valid_days: int = 365
    ends_on_judgement: bool = True


def consent_id(employer_id: str, worker_id: str) -> str:
    return f"{employer_id}-{worker_id}"


def _entry(action: str, by: str, now: datetime, status: Status, **extra: Any) -> HistoryEntry:
    return HistoryEntry(at=now, action=action, by=by, status=status, **extra)


def _already_approved(consent: Consent) -> ConsentError:
    return ConsentError(
        "already_approved",
        f"この技能者の個人情報利用申請は承認済みです（有効期限：{_day(consent.valid_until)}）。",
    )


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def filing_refusal(consent: Consent | None, today: date) -> str | None:
    """Why a new filing for this worker is refused (a valid consent exists), if it is."""
    if consent is not None and consent.is_valid(today):
        return (
            f"この技能者の個人情報利用申請は承認済みです（有効期限：{_day(consent.valid_until)}）"
        )
    return None


def file(
    consent: Consent | None,
    *,
    employer_id: str,
    application: Application,
    worker: Worker,
    ccus: CcusWorker,
    warnings: list[dict[str, str]],
    actor: str,
    now: datetime,
    policy: Policy,
) -> Outcome:
    """File (or re-file) the application for one worker: 申請中.

    A pending one takes the corrected data; a returned one is re-submitted; one that
    ended or expired starts a new consent (its old signed form is kept as history, a new
    one must be attached). A valid granted consent cannot be filed again.
    """
    cid = consent_id(employer_id, worker.worker_id)
    state: dict[str, Any] = {
        "consent_id": cid,
        "employer_id": employer_id,
        "worker_id": worker.worker_id,
        "employer": dict(application.employer),
        "worker": WorkerDetails(
            name=worker.name, name_kana=worker.name_kana, birth_date=worker.birth_date
        ),
        "ccus": CcusMatch(
            registration_type=ccus.registration_type,
            name_matches=name_key(worker.name) == name_key(ccus.name),
            snapshot_taken_at=ccus.taken_at,
            checked_at=now,
        ),
        "warnings": [FilingWarning(code=w["code"], message=w["message"]) for w in warnings],
        "consent_items": [
            ConsentItem(scope=s, label=SCOPE_LABELS[s], accepted=True, accepted_at=now)
            for s in SCOPES
            if s in application.scopes
        ],
        "filed_by": actor,
        "updated_at": now,
        "submitted_at": now,
    }
    if consent is None:
        new = Consent(
            id=cid,
            **state,
            status=PENDING,
            filed_at=now,
            history=[_entry("filed", actor, now, PENDING)],
        )
        return auto_approve(new, now, policy)
    if consent.is_valid(japan_today(now)):
        raise _already_approved(consent)
    if consent.status == PENDING:
        action = "corrected"
    elif consent.status == RETURNED:
        action = "resubmitted"
    else:  # ended, or granted and expired: a new consent with a new signed form
        action = "renewed"
        state.update(
            filed_at=now,
            signed_form=None,
            previous_forms=_previous(consent),
            last_return=None,
            approval=None,
            valid_until=None,
            ended=None,
        )
    new = consent.with_history(_entry(action, actor, now, PENDING), **state, status=PENDING)
    return auto_approve(new, now, policy)


def _previous(consent: Consent) -> list[StoredForm]:
    form = consent.signed_form
    return [*consent.previous_forms, *([form] if form else [])]


def attachable(consent: Consent, today: date) -> None:
    """Raise unless a signed form may be attached now (申請中 or 差戻し)."""
    if consent.status in (PENDING, RETURNED):
        return
    if consent.is_valid(today):
        raise _already_approved(consent)
    raise ConsentError(
        "reapplication_required",
        "この個人情報利用申請は終了しています。改めて個人情報利用申請を行ってから同意書を添付してください。",
    )


def attach_form(
    consent: Consent, *, form: StoredForm, actor: str, now: datetime, policy: Policy
) -> Outcome:
    """Attach (or replace) the signed form; a returned application is re-submitted."""
    attachable(consent, japan_today(now))
    returned = consent.status == RETURNED
    if returned:
        action = "resubmitted"
    elif consent.signed_form:
        action = "form_replaced"
    else:
        action = "form_attached"
    new = consent.with_history(
        _entry(action, actor, now, PENDING, file_id=form.file_id),
        status=PENDING,
        signed_form=form,
        previous_forms=_previous(consent),
        updated_at=now,
        submitted_at=now if returned else consent.submitted_at,
    )
    return auto_approve(new, now, policy)


def auto_approve(consent: Consent, now: datetime, policy: Policy) -> Outcome:
    if policy.auto_approve and consent.status == PENDING and consent.complete():
        return approve(consent, actor=AUTO_APPROVER, now=now, policy=policy)
    return consent, []


def approve(
    consent: Consent,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    expected_form_id: str | None = None,
) -> Outcome:
    """承認: ConsentGranted, valid for ``policy.valid_days`` days from today (Japan time)."""
    if consent.status != PENDING:
        raise ConsentError(
            "not_pending", f"この申請は「{STATUS_JA[consent.status]}」のため承認できません。"
        )
    if not consent.complete() or consent.signed_form is None:
        raise ConsentError(
            "signed_form_missing", "署名済みの同意書が添付されていないため承認できません。"
        )
    if expected_form_id is not None and consent.signed_form.file_id != expected_form_id:
        raise ConsentError(
            "signed_form_changed",
            "同意書が差し替えられています。最新の同意書を確認してから承認してください。",
        )
    valid_until = japan_today(now) + timedelta(days=policy.valid_days)
    event = ConsentGranted(
        consent_id=consent.consent_id,
        employer_id=consent.employer_id,
        worker_id=consent.worker_id,
        worker_name=consent.worker.name,
        worker_name_kana=consent.worker.name_kana,
        birth_date=consent.worker.birth_date,
        scopes=[i.scope for i in consent.consent_items],
        granted_at=now,
        valid_until=valid_until,
        ends_on_first_judgement=policy.ends_on_judgement,
    )
    new = consent.with_history(
        _entry("approved", actor, now, APPROVED, valid_until=valid_until),
        status=APPROVED,
        approval=Approval(by=actor, at=now, auto=actor == AUTO_APPROVER),
        valid_until=valid_until,
        updated_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def check_reason(reason: str | None) -> str:
    text = collapse_spaces(reason or "")
    if not text:
        raise invalid([on_field("reason", "差戻し理由を入力してください")])
    if len(text) > REASON_MAX:
        raise invalid([on_field("reason", f"差戻し理由は{REASON_MAX}文字以内で入力してください")])
    return text


def return_(consent: Consent, *, actor: str, reason: str | None, now: datetime) -> Outcome:
    """差戻し with a reason: ConsentRejected."""
    text = check_reason(reason)
    if consent.status != PENDING:
        raise ConsentError(
            "not_pending", f"この申請は「{STATUS_JA[consent.status]}」のため差戻しできません。"
        )
    event = ConsentRejected(
        consent_id=consent.consent_id,
        employer_id=consent.employer_id,
        worker_id=consent.worker_id,
        reason=text,
        rejected_at=now,
    )
    new = consent.with_history(
        _entry("returned", actor, now, RETURNED, reason=text),
        status=RETURNED,
        last_return=Return(reason=text, by=actor, at=now),
        updated_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def judgement_ends_consent(sequence: int, judged_at: datetime, granted_at: datetime) -> bool:
    """Whether a completed judgement ends the consent granted at ``granted_at``.

    The rule of docs/consent.md ("End by judgement"): only a line's first judgement
    (``sequence`` 1) judged after the grant ends it. An earlier judgement belongs to an
    earlier consent's application; a re-judgement (再判定, sequence 2 and up) is judged
    ``now`` but answers an application filed under an earlier consent, so it ends nothing.
    The application service's read model applies the same rule
    (``application.core.consents.judgement_ends_consent``).
    """
    return sequence == 1 and judged_at > granted_at


def end_by_judgement(
    consent: Consent | None,
    *,
    judgement_id: str,
    judged_at: datetime,
    sequence: int,
    now: datetime,
) -> Outcome | None:
    """A line's first judgement completed after the grant: the consent has served its
    purpose (終了). Anything else changes nothing (see :func:`judgement_ends_consent`)."""
    if consent is None or consent.status != APPROVED or consent.approval is None:
        return None
    if not judgement_ends_consent(sequence, judged_at, consent.approval.at):
        return None
    new = consent.with_history(
        _entry("ended", "judgement", now, ENDED, judgement_id=judgement_id),
        status=ENDED,
        ended=Ending(
            reason="judgement_completed", judgement_id=judgement_id, judged_at=judged_at, at=now
        ),
        updated_at=now,
    )
    return new, []


# --- views ----------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _plain(part: BaseModel | None) -> dict[str, Any] | None:
    """A part as JSON-ready values (dates as ISO text), without the fields it lacks."""
    if part is None:
        return None
    return {k: _iso(v) for k, v in part.model_dump(exclude_none=True).items()} or None


def _form_view(form: StoredForm | None) -> dict[str, Any] | None:
    if form is None:
        return None
    return {
        "file_id": form.file_id,
        "filename": form.filename,
        "content_type": form.content_type,
        "size": form.size,
        "sha256": form.sha256,
        "uploaded_at": _iso(form.uploaded_at),
    }


def validity_ja(consent: Consent, today: date) -> str | None:
    if consent.status == APPROVED:
        if consent.is_valid(today):
            return f"有効（{_day(consent.valid_until)}まで）"
        return f"期限切れ（{_day(consent.valid_until)}まで有効でした）"
    if consent.status == ENDED:
        return "終了（レベル判定が完了しました）"
    return None


def summary(consent: Consent, today: date) -> dict[str, Any]:
    """One worker's consent as lists show it (personal data: reads are logged)."""
    returned = consent.status == RETURNED and consent.last_return is not None
    return {
        "consent_id": consent.consent_id,
        "employer_id": consent.employer_id,
        "employer_name": consent.employer.get("employer_name"),
        "worker_id": consent.worker_id,
        "worker_name": consent.worker.name,
        "worker_name_kana": consent.worker.name_kana,
        "birth_date": consent.worker.birth_date.isoformat(),
        "registration_type": consent.ccus.registration_type,
        "status": consent.status,
        "status_ja": STATUS_JA[consent.status],
        "complete": consent.complete(),
        "signed_form": _form_view(consent.signed_form),
        "warnings": [w.model_dump() for w in consent.warnings],
        "return_reason": consent.last_return.reason if returned and consent.last_return else None,
        "returned_at": _iso(consent.last_return.at) if returned and consent.last_return else None,
        "approved_at": _iso(consent.approval.at) if consent.approval else None,
        "valid_until": _day(consent.valid_until),
        "valid": consent.is_valid(today),
        "validity_ja": validity_ja(consent, today),
        "submitted_at": _iso(consent.submitted_at),
        "updated_at": _iso(consent.updated_at),
    }


def detail(consent: Consent, today: date) -> dict[str, Any]:
    return {
        **summary(consent, today),
        "employer": consent.employer,
        "consent_items": [_plain(i) for i in consent.consent_items],
        "ccus": {k: _iso(v) for k, v in consent.ccus.model_dump().items()},
        "previous_forms": [_form_view(f) for f in consent.previous_forms],
        "last_return": _plain(consent.last_return),
        "ended": _plain(consent.ended),
        "history": [_plain(h) for h in consent.history],
        "consent_form_request": consent_form_request(consent),
    }


def consent_form_request(consent: Consent) -> dict[str, Any]:
    """The body of the document service's ``POST /consent-forms`` for this worker."""
    return {
        "employer_name": consent.employer.get("employer_name"),
        "worker_name": consent.worker.name,
        "worker_name_kana": consent.worker.name_kana,
        "worker_id": consent.worker_id,
    }


def granted(consent: Consent) -> dict[str, Any]:
    """A worker the employer may apply for (what the application service needs)."""
    return {
        "consent_id": consent.consent_id,
        "employer_id": consent.employer_id,
        "worker_id": consent.worker_id,
        "worker_name": consent.worker.name,
        "worker_name_kana": consent.worker.name_kana,
        "birth_date": consent.worker.birth_date.isoformat(),
        "registration_type": consent.ccus.registration_type,
        "scopes": [i.scope for i in consent.consent_items],
        "granted_at": _iso(consent.approval.at) if consent.approval else None,
        "valid_until": _day(consent.valid_until),
    }
