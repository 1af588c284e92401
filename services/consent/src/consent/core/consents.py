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

Every function returns the new document and the events it raises, or raises
:class:`ConsentError` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from consent.core.errors import ConsentError, invalid
from consent.core.validation import (
    SCOPE_LABELS,
    SCOPES,
    Application,
    Worker,
    collapse_spaces,
    name_key,
)
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected

SOURCE = "consent"
PENDING = "pending"
APPROVED = "approved"
RETURNED = "returned"
ENDED = "ended"
STATUS_JA = {PENDING: "申請中", APPROVED: "承認", RETURNED: "差戻し", ENDED: "終了（判定完了）"}
AUTO_APPROVER = "auto-approval"
REASON_MAX = 1000
JST = timezone(timedelta(hours=9), "JST")
CONSENT_ID = re.compile(r"^(\d{14})-(\d{14})$")

Doc = dict[str, Any]
Outcome = tuple[Doc, list[Envelope]]


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


def japan_today(now: datetime) -> date:
    return now.astimezone(JST).date()


def is_valid(doc: Doc, today: date) -> bool:
    """Granted and not past its last valid day."""
    return (
        doc.get("status") == APPROVED
        and doc.get("valid_until") is not None
        and date.fromisoformat(doc["valid_until"]) >= today
    )


def _entry(action: str, by: str, now: datetime, status: str, **extra: Any) -> Doc:
    return {"at": now, "action": action, "by": by, "status": status, **extra}


def _already_approved(doc: Doc) -> ConsentError:
    return ConsentError(
        "already_approved",
        f"この技能者の個人情報利用申請は承認済みです（有効期限：{doc['valid_until']}）。",
    )


def filing_refusal(doc: Doc | None, today: date) -> str | None:
    """Why a new filing for this worker is refused (a valid consent exists), if it is."""
    if doc is not None and is_valid(doc, today):
        return f"この技能者の個人情報利用申請は承認済みです（有効期限：{doc['valid_until']}）"
    return None


def file(
    doc: Doc | None,
    *,
    employer_id: str,
    application: Application,
    worker: Worker,
    ccus: Doc,
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
    state: Doc = {
        "consent_id": consent_id(employer_id, worker.worker_id),
        "employer_id": employer_id,
        "worker_id": worker.worker_id,
        "employer": dict(application.employer),
        "worker": {
            "name": worker.name,
            "name_kana": worker.name_kana,
            "birth_date": worker.birth_date.isoformat(),
        },
        "ccus": {
            "registration_type": ccus.get("registration_type"),
            "name_matches": name_key(worker.name) == name_key(str(ccus.get("name", ""))),
            "snapshot_taken_at": ccus.get("taken_at"),
            "checked_at": now,
        },
        "warnings": [{k: w[k] for k in ("code", "message")} for w in warnings],
        "consent_items": [
            {"scope": s, "label": SCOPE_LABELS[s], "accepted": True, "accepted_at": now}
            for s in SCOPES
            if s in application.scopes
        ],
        "filed_by": actor,
        "updated_at": now,
        "submitted_at": now,
    }
    if doc is None:
        new: Doc = {
            **state,
            "status": PENDING,
            "filed_at": now,
            "signed_form": None,
            "previous_forms": [],
            "last_return": None,
            "approval": None,
            "valid_until": None,
            "ended": None,
            "history": [_entry("filed", actor, now, PENDING)],
        }
        return auto_approve(new, now, policy)
    if is_valid(doc, japan_today(now)):
        raise _already_approved(doc)
    status = doc["status"]
    new = {**doc, **state, "status": PENDING}
    if status == PENDING:
        action = "corrected"
    elif status == RETURNED:
        action = "resubmitted"
    else:  # ended, or granted and expired: a new consent with a new signed form
        action = "renewed"
        new.update(
            filed_at=now,
            signed_form=None,
            previous_forms=_previous(doc),
            last_return=None,
            approval=None,
            valid_until=None,
            ended=None,
        )
    new["history"] = [*doc.get("history", []), _entry(action, actor, now, PENDING)]
    return auto_approve(new, now, policy)


def _previous(doc: Doc) -> list[Doc]:
    form = doc.get("signed_form")
    return [*doc.get("previous_forms", []), *([form] if form else [])]


def attachable(doc: Doc, today: date) -> None:
    """Raise unless a signed form may be attached now (申請中 or 差戻し)."""
    if doc["status"] in (PENDING, RETURNED):
        return
    if is_valid(doc, today):
        raise _already_approved(doc)
    raise ConsentError(
        "reapplication_required",
        "この個人情報利用申請は終了しています。改めて個人情報利用申請を行ってから同意書を添付してください。",
    )


def attach_form(doc: Doc, *, form: Doc, actor: str, now: datetime, policy: Policy) -> Outcome:
    """Attach (or replace) the signed form; a returned application is re-submitted."""
    attachable(doc, japan_today(now))
    returned = doc["status"] == RETURNED
    if returned:
        action = "resubmitted"
    elif doc.get("signed_form"):
        action = "form_replaced"
    else:
        action = "form_attached"
    new = {
        **doc,
        "status": PENDING,
        "signed_form": form,
        "previous_forms": _previous(doc),
        "updated_at": now,
        "submitted_at": now if returned else doc.get("submitted_at", now),
        "history": [
            *doc.get("history", []),
            _entry(action, actor, now, PENDING, file_id=form["file_id"]),
        ],
    }
    return auto_approve(new, now, policy)


def complete(doc: Doc) -> bool:
    """Everything an evaluator needs: the four items accepted and the signed form."""
    accepted = {i["scope"] for i in doc.get("consent_items", []) if i.get("accepted")}
    return bool(doc.get("signed_form")) and accepted == set(SCOPES)


def auto_approve(doc: Doc, now: datetime, policy: Policy) -> Outcome:
    if policy.auto_approve and doc["status"] == PENDING and complete(doc):
        return approve(doc, actor=AUTO_APPROVER, now=now, policy=policy)
    return doc, []


def approve(
    doc: Doc,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    expected_form_id: str | None = None,
) -> Outcome:
    """承認: ConsentGranted, valid for ``policy.valid_days`` days from today (Japan time)."""
    if doc["status"] != PENDING:
        raise ConsentError(
            "not_pending", f"この申請は「{STATUS_JA[doc['status']]}」のため承認できません。"
        )
    if not complete(doc):
        raise ConsentError(
            "signed_form_missing", "署名済みの同意書が添付されていないため承認できません。"
        )
    if expected_form_id is not None and doc["signed_form"]["file_id"] != expected_form_id:
        raise ConsentError(
            "signed_form_changed",
            "同意書が差し替えられています。最新の同意書を確認してから承認してください。",
        )
    valid_until = japan_today(now) + timedelta(days=policy.valid_days)
    auto = actor == AUTO_APPROVER
    event = ConsentGranted(
        consent_id=doc["consent_id"],
        employer_id=doc["employer_id"],
        worker_id=doc["worker_id"],
        worker_name=doc["worker"]["name"],
        worker_name_kana=doc["worker"]["name_kana"],
        birth_date=date.fromisoformat(doc["worker"]["birth_date"]),
        scopes=[i["scope"] for i in doc["consent_items"]],
        granted_at=now,
        valid_until=valid_until,
        ends_on_first_judgement=policy.ends_on_judgement,
    )
    new = {
        **doc,
        "status": APPROVED,
        "approval": {"by": actor, "at": now, "auto": auto},
        "valid_until": valid_until.isoformat(),
        "updated_at": now,
        "history": [
            *doc.get("history", []),
            _entry("approved", actor, now, APPROVED, valid_until=valid_until.isoformat()),
        ],
    }
    return new, [Envelope(event, source=SOURCE)]


def check_reason(reason: str | None) -> str:
    text = collapse_spaces(reason or "")
    if not text:
        raise invalid([{"field": "reason", "message": "差戻し理由を入力してください"}])
    if len(text) > REASON_MAX:
        raise invalid(
            [{"field": "reason", "message": f"差戻し理由は{REASON_MAX}文字以内で入力してください"}]
        )
    return text


def return_(doc: Doc, *, actor: str, reason: str | None, now: datetime) -> Outcome:
    """差戻し with a reason: ConsentRejected."""
    text = check_reason(reason)
    if doc["status"] != PENDING:
        raise ConsentError(
            "not_pending", f"この申請は「{STATUS_JA[doc['status']]}」のため差戻しできません。"
        )
    event = ConsentRejected(
        consent_id=doc["consent_id"],
        employer_id=doc["employer_id"],
        worker_id=doc["worker_id"],
        reason=text,
        rejected_at=now,
    )
    new = {
        **doc,
        "status": RETURNED,
        "last_return": {"reason": text, "by": actor, "at": now},
        "updated_at": now,
        "history": [
            *doc.get("history", []),
            _entry("returned", actor, now, RETURNED, reason=text),
        ],
    }
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
    doc: Doc | None,
    *,
    judgement_id: str,
    judged_at: datetime,
    sequence: int,
    now: datetime,
) -> Outcome | None:
    """A line's first judgement completed after the grant: the consent has served its
    purpose (終了). Anything else changes nothing (see :func:`judgement_ends_consent`)."""
    if doc is None or doc.get("status") != APPROVED:
        return None
    if not judgement_ends_consent(sequence, judged_at, doc["approval"]["at"]):
        return None
    new = {
        **doc,
        "status": ENDED,
        "ended": {
            "reason": "judgement_completed",
            "judgement_id": judgement_id,
            "judged_at": judged_at,
            "at": now,
        },
        "updated_at": now,
        "history": [
            *doc.get("history", []),
            _entry("ended", "judgement", now, ENDED, judgement_id=judgement_id),
        ],
    }
    return new, []


# --- views ----------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _form_view(form: Doc | None) -> Doc | None:
    if not form:
        return None
    return {
        "file_id": form["file_id"],
        "filename": form["filename"],
        "content_type": form["content_type"],
        "size": form["size"],
        "sha256": form["sha256"],
        "uploaded_at": _iso(form["uploaded_at"]),
    }


def validity_ja(doc: Doc, today: date) -> str | None:
    if doc["status"] == APPROVED:
        if is_valid(doc, today):
            return f"有効（{doc['valid_until']}まで）"
        return f"期限切れ（{doc['valid_until']}まで有効でした）"
    if doc["status"] == ENDED:
        return "終了（レベル判定が完了しました）"
    return None


def summary(doc: Doc, today: date) -> Doc:
    """One worker's consent as lists show it (personal data: reads are logged)."""
    last_return = doc.get("last_return") or {}
    approval = doc.get("approval") or {}
    return {
        "consent_id": doc["consent_id"],
        "employer_id": doc["employer_id"],
        "employer_name": doc["employer"].get("employer_name"),
        "worker_id": doc["worker_id"],
        "worker_name": doc["worker"]["name"],
        "worker_name_kana": doc["worker"]["name_kana"],
        "birth_date": doc["worker"]["birth_date"],
        "registration_type": doc["ccus"].get("registration_type"),
        "status": doc["status"],
        "status_ja": STATUS_JA[doc["status"]],
        "complete": complete(doc),
        "signed_form": _form_view(doc.get("signed_form")),
        "warnings": doc.get("warnings", []),
        "return_reason": last_return.get("reason") if doc["status"] == RETURNED else None,
        "returned_at": _iso(last_return.get("at")) if doc["status"] == RETURNED else None,
        "approved_at": _iso(approval.get("at")),
        "valid_until": doc.get("valid_until"),
        "valid": is_valid(doc, today),
        "validity_ja": validity_ja(doc, today),
        "submitted_at": _iso(doc.get("submitted_at")),
        "updated_at": _iso(doc.get("updated_at")),
    }


def detail(doc: Doc, today: date) -> Doc:
    return {
        **summary(doc, today),
        "employer": doc["employer"],
        "consent_items": [
            {**i, "accepted_at": _iso(i.get("accepted_at"))} for i in doc.get("consent_items", [])
        ],
        "ccus": {k: _iso(v) for k, v in doc.get("ccus", {}).items()},
        "previous_forms": [_form_view(f) for f in doc.get("previous_forms", [])],
        "last_return": {k: _iso(v) for k, v in (doc.get("last_return") or {}).items()} or None,
        "ended": {k: _iso(v) for k, v in (doc.get("ended") or {}).items()} or None,
        "history": [{k: _iso(v) for k, v in h.items()} for h in doc.get("history", [])],
        "consent_form_request": consent_form_request(doc),
    }


def consent_form_request(doc: Doc) -> Doc:
    """The body of the document service's ``POST /consent-forms`` for this worker."""
    return {
        "employer_name": doc["employer"].get("employer_name"),
        "worker_name": doc["worker"]["name"],
        "worker_name_kana": doc["worker"]["name_kana"],
        "worker_id": doc["worker_id"],
    }


def granted(doc: Doc) -> Doc:
    """A worker the employer may apply for (what the application service needs)."""
    return {
        "consent_id": doc["consent_id"],
        "employer_id": doc["employer_id"],
        "worker_id": doc["worker_id"],
        "worker_name": doc["worker"]["name"],
        "worker_name_kana": doc["worker"]["name_kana"],
        "birth_date": doc["worker"]["birth_date"],
        "registration_type": doc["ccus"].get("registration_type"),
        "scopes": [i["scope"] for i in doc.get("consent_items", [])],
        "granted_at": _iso(doc["approval"]["at"]),
        "valid_until": doc["valid_until"],
    }
