"""The read model of workers' consents (個人情報利用の同意), built from consent events, pure.

Only a worker with a valid granted consent can be put on an application line, and the line
shows what the consent application recorded (name, kana, birth date). The model is kept
from ConsentGranted / ConsentRejected (consumer group ``application``), one document per
employer × worker (``<事業者ID>|<技能者ID>``), so that a renewed consent replaces the old one:

* ConsentGranted: the newest grant (by ``granted_at``) wins, an older one is ignored;
* ConsentRejected: a rejection after the grant (a renewal returned) ends its validity;
* the first judgement of a line of the same employer and worker (JudgementCompletedV2 with
  ``sequence`` 1) judged after the grant ends it too when the consent's own term says so
  (``ConsentGranted.ends_on_first_judgement``, set by the consent service, the one owner of
  that policy): "until the judgement or one year". A re-judgement (再判定, sequence 2 and
  up) ends nothing. The consent service announces no end (there is no ConsentEnded
  event), so this model must see the judgement itself (docs/consent.md, "End by judgement");
* a consent is valid while granted and ``valid_until`` (Japan time, inclusive) has not passed.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from application.core.errors import FieldError
from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected
from shared_kernel.time import as_utc

GRANTED = "granted"
REJECTED = "rejected"
ENDED = "ended"
REQUIRED_SCOPES = frozenset({"view_ccus_data", "proxy_application", "card_issuance", "fee"})


class Consent(Aggregate):
    """An employer's worker's consent as the events told it (``_id``: :func:`key`). A
    consent first seen rejected has no names, grant or validity."""

    employer_id: str
    worker_id: str
    consent_id: str | None = None
    status: str
    worker_name: str | None = None
    worker_name_kana: str | None = None
    birth_date: StoredDate | None = None
    scopes: list[str] = Field(default_factory=list)
    granted_at: datetime | None = None
    valid_until: StoredDate | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    ended_at: datetime | None = None
    ends_on_first_judgement: bool = True
    """The consent's own term (``ConsentGranted.ends_on_first_judgement``): whether the
    first judgement of the worker ends it."""


def key(employer_id: str, worker_id: str) -> str:
    return f"{employer_id}|{worker_id}"


def granted(event: ConsentGranted, doc: Consent | None) -> Consent | None:
    """The new state after a grant, or None when a newer grant is already recorded."""
    recorded = None if doc is None else doc.granted_at
    if recorded is not None and as_utc(recorded) >= as_utc(event.granted_at):
        return None
    return Consent(
        id=key(event.employer_id, event.worker_id),
        version=0 if doc is None else doc.version,
        employer_id=event.employer_id,
        worker_id=event.worker_id,
        consent_id=event.consent_id,
        status=GRANTED,
        worker_name=event.worker_name,
        worker_name_kana=event.worker_name_kana,
        birth_date=event.birth_date,
        scopes=sorted(event.scopes),
        granted_at=event.granted_at,
        valid_until=event.valid_until,
        # None: an event from before the field existed; every such consent was granted
        # under the default term, which ends with the first judgement
        ends_on_first_judgement=event.ends_on_first_judgement is not False,
    )


def rejected(event: ConsentRejected, doc: Consent | None) -> Consent | None:
    """A returned 個人情報利用申請: no longer usable unless granted after the rejection."""
    recorded = None if doc is None else doc.granted_at
    if recorded is not None and as_utc(recorded) > as_utc(event.rejected_at):
        return None  # an older rejection arriving after the grant
    base = doc or Consent(
        id=key(event.employer_id, event.worker_id),
        employer_id=event.employer_id,
        worker_id=event.worker_id,
        status=REJECTED,
    )
    return base.model_copy(
        update={
            "consent_id": event.consent_id,
            "status": REJECTED,
            "rejected_at": event.rejected_at,
            "rejection_reason": event.reason,
        }
    )


def judgement_ends_consent(sequence: int, judged_at: datetime, granted_at: datetime) -> bool:
    """Whether a completed judgement ends the consent granted at ``granted_at``.

    docs/consent.md ("End by judgement"), the same predicate as the consent service's
    ``consent.core.consents.judgement_ends_consent``: only a line's first judgement
    (``sequence`` 1) judged after the grant. A re-judgement is judged now but answers an
    application made under an earlier consent.
    """
    return sequence == 1 and as_utc(judged_at) > as_utc(granted_at)


def ended_by_judgement(sequence: int, judged_at: datetime, doc: Consent | None) -> Consent | None:
    """A line's first judgement of this employer's worker after the grant ends the consent,
    when the consent's own term says so."""
    if doc is None or doc.status != GRANTED or doc.granted_at is None:
        return None
    if not doc.ends_on_first_judgement:
        return None  # the consent's own term: it runs until valid_until
    if not judgement_ends_consent(sequence, judged_at, doc.granted_at):
        return None
    return doc.model_copy(update={"status": ENDED, "ended_at": judged_at})


def is_valid(doc: Consent | None, today: date) -> bool:
    return refusal(doc, today) is None


def refusal(doc: Consent | None, today: date, field: str = "worker_id") -> FieldError | None:
    """Why this worker cannot be put on a line (None when the consent is valid)."""
    code = "consent_required"
    again = "個人情報利用申請を行い、承認を受けてから追加してください"
    if doc is None:
        return FieldError(
            field,
            code,
            f"この技能者は個人情報利用の同意が得られていないため選択できません。{again}",
        )
    status = doc.status
    if status == REJECTED:
        return FieldError(
            field,
            code,
            f"この技能者の個人情報利用申請は差戻しされています（理由：{doc.rejection_reason}）。"
            f"{again}",
        )
    if status == ENDED:
        return FieldError(
            field,
            "consent_ended",
            f"この技能者の個人情報利用の同意は、レベル判定の完了により終了しています。再度{again}",
        )
    valid_until = doc.valid_until
    if status != GRANTED or valid_until is None:
        return FieldError(
            field, code, f"この技能者は個人情報利用の同意が有効ではありません。{again}"
        )
    if valid_until < today:
        return FieldError(
            field,
            "consent_expired",
            f"この技能者の個人情報利用の同意は有効期限（{valid_until.isoformat()}）が過ぎています。再度{again}",
        )
    missing = REQUIRED_SCOPES - set(doc.scopes)
    if missing:
        return FieldError(
            field,
            "consent_scope_missing",
            "この技能者の同意には代行申請・カード発行・手数料・CCUS情報の閲覧のすべてが含まれていません。"
            f"{again}",
        )
    return None


def worker_view(doc: Consent) -> dict[str, str | None]:
    """A worker the employer may choose (技能者追加), as the consent recorded him."""
    return {
        "worker_id": doc.worker_id,
        "worker_name": doc.worker_name,
        "worker_name_kana": doc.worker_name_kana,
        "birth_date": doc.birth_date.isoformat() if doc.birth_date else None,
        "consent_id": doc.consent_id,
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
        "granted_at": as_utc(doc.granted_at).isoformat() if doc.granted_at else None,
    }
