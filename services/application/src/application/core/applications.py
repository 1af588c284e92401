"""The application aggregate (レベル判定代行申請): one document per application, pure.

An application is opened as a draft (下書き) by an employer, gets its card delivery address,
the two declarations and one line per worker (技能者追加), and is then submitted (申請) in
one go: the lines are checked again, the fee computed, the document frozen and
ApplicationSubmitted raised. The judgement service's events move each line, and with them
the application, 申請済 → 判定中 → 判定完了 (承認 / 不承認); a withdrawal (取下げ) is possible
until the first line starts being judged. A line's result is its current judgement: the
JudgementCompletedV2 with the highest ``sequence`` (a re-judgement, 再判定, replaces the
first one; every judgement applied stays in the line's ``judgement_history``). Every function
returns the new :class:`Application` and the events it raises (stored in the same write:
outbox); the views (``summary``, ``detail``, ``line_view``) are the JSON the routes answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from application.core import address, lines
from application.core.career import CareerRules
from application.core.consents import Consent
from application.core.errors import (
    ApplicationError,
    FieldError,
    invalid,
    line_not_found,
    not_editable,
    not_found,
)
from application.core.fees import FeeRule, FeeSchedule
from application.core.lines import (
    COMPLETED,
    DRAFT,
    JUDGING,
    SUBMITTED,
    WITHDRAWN,
    JudgementEntry,
    Line,
    NoticeEntry,
    Preview,
)
from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    JudgementStarted,
    ResultNoticeGenerated,
)
from shared_kernel.time import japan_today

View = dict[str, Any]
"""A JSON answer of the routes (not stored)."""
SOURCE = "application"

DELETED = "deleted"
STATUSES = (DRAFT, SUBMITTED, JUDGING, COMPLETED, WITHDRAWN)
STATUS_JA = {
    DRAFT: "下書き",
    SUBMITTED: "申請済",
    JUDGING: "判定中",
    COMPLETED: "判定完了",
    WITHDRAWN: "取下げ",
    DELETED: "削除済",
}
DECISION_JA = {"approved": "承認", "rejected": "不承認"}
LIKELY_REJECTED_JA = "このままでは不承認となる見込みです"
LATE_WITHDRAWAL_JA = "取下げの前に判定が開始されていたため、この技能者は判定されます"
DECLARATIONS = {
    "career_certified": "経歴証明（所属事業者として、申請する技能者の経歴を証明します）",
    "card_issuance_consented": (
        "カード発行に関する同意（申請する技能者が建設キャリアアップカードの発行に同意していることを表明します）"
    ),
}
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ID_LENGTH = 6


class Submission(BaseModel):
    """What the submission fixed: the key, the application date, the fee, the answer."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str
    submitted_at: datetime
    application_date: StoredDate
    fee_total_yen: int
    fee_rule: dict[str, Any]
    response_json: str = ""
    """The answer a retry with the same Idempotency-Key gets again, kept as JSON text: it
    is never queried, and as nested fields it doubled the document (FerretDB's cost is per
    element, in every write and read of the application; bench/README.md)."""


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    withdrawn_at: datetime


class Application(Aggregate):
    """One レベル判定代行申請 (``_id``: its number ``AP-YYYYMMDD-XXXXXX``)."""

    employer_id: str
    created_by: str
    status: str
    created_at: datetime
    updated_at: datetime
    delivery_address: dict[str, str | None] | None = None
    declarations: dict[str, bool]
    lines: list[Line] = Field(default_factory=list)
    line_count: int = 0
    next_line_number: int = 1
    lines_since: datetime | None = None
    last_reminded_at: datetime | None = None
    reminder_count: int = 0
    submission: Submission | None = None
    submission_key: str | None = None
    """The submission's Idempotency-Key again, at the top level: the submit's look-up of a
    key used by another application filters on it. FerretDB hands only top-level
    equalities to PostgreSQL (served by its index); a dotted path
    (``submission.idempotency_key``) it evaluated itself after reading every application of
    the employer: 3.8 s per submit at 2,000 applications (issue 24)."""
    withdrawal: Withdrawal | None = None
    deleted_at: datetime | None = None
    completed_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        """Stored without the fields that hold no value (most of a draft's line): FerretDB's
        cost is per element (bench/README.md); the model's defaults read them back."""
        return self.model_dump(by_alias=True, mode="python", exclude_none=True)

    def line(self, wanted: str) -> Line | None:
        return next((x for x in self.lines if x.line_id == wanted), None)

    def with_line(self, updated: Line) -> list[Line]:
        """The lines with ``updated`` in place of the line of the same id."""
        return [updated if x.line_id == updated.line_id else x for x in self.lines]


Outcome = tuple[Application, list[Envelope]]


def new_application_id(now: datetime, randbelow: Callable[[int], int]) -> str:
    """``AP-YYYYMMDD-XXXXXX``: the day the draft was opened (Japan time) and 6 random letters."""
    suffix = "".join(ID_ALPHABET[randbelow(len(ID_ALPHABET))] for _ in range(ID_LENGTH))
    return f"AP-{japan_today(now):%Y%m%d}-{suffix}"


def line_id(application_id: str, number: int) -> str:
    return f"{application_id}-{number:02d}"


# --- header: delivery address and declarations ---------------------------------------------


@dataclass(frozen=True)
class Header:
    """A validated change of the draft's header (``None`` = leave that part as it is)."""

    delivery_address: dict[str, str | None] | None = None
    address_given: bool = False
    declarations: dict[str, bool] | None = None


def check_header(
    raw_address: dict[str, Any] | None,
    address_given: bool,
    raw_declarations: dict[str, Any] | None,
    prefectures: Collection[str],
) -> Header:
    errors: list[FieldError] = []
    checked: dict[str, str | None] | None = None
    if address_given and raw_address is not None:
        checked, found = address.validate(raw_address, "delivery_address", prefectures)
        errors += found
    declarations: dict[str, bool] | None = None
    if raw_declarations is not None:
        declarations = {}
        for name in DECLARATIONS:
            value = raw_declarations.get(name, False)
            if not isinstance(value, bool):
                errors.append(
                    FieldError(
                        f"declarations.{name}", "invalid", "表明はチェックの有無で指定してください"
                    )
                )
                continue
            declarations[name] = value
    if errors:
        raise invalid(errors)
    return Header(checked, address_given, declarations)


def new_draft(
    application_id: str, employer_id: str, created_by: str, header: Header, now: datetime
) -> Application:
    return Application(
        id=application_id,
        employer_id=employer_id,
        created_by=created_by,
        status=DRAFT,
        created_at=now,
        updated_at=now,
        delivery_address=header.delivery_address if header.address_given else None,
        declarations={**dict.fromkeys(DECLARATIONS, False), **(header.declarations or {})},
    )


def owned(doc: Application | None, employer_id: str | None) -> Application:
    """The application if it exists, is not deleted and belongs to the employer; else 404."""
    if doc is None or doc.status == DELETED or doc.employer_id != employer_id:
        raise not_found()
    return doc


def editable(doc: Application | None, employer_id: str | None) -> Application:
    found = owned(doc, employer_id)
    if found.status != DRAFT:
        raise not_editable(STATUS_JA[found.status])
    return found


def update_header(doc: Application, header: Header, now: datetime) -> Outcome:
    changes: dict[str, Any] = {"updated_at": now}
    if header.address_given:
        changes["delivery_address"] = header.delivery_address
    if header.declarations is not None:
        changes["declarations"] = {**doc.declarations, **header.declarations}
    return doc.model_copy(update=changes), []


def discard(doc: Application, now: datetime) -> Outcome:
    """A draft no longer wanted: kept (documents are never deleted) but hidden."""
    return doc.model_copy(update={"status": DELETED, "deleted_at": now, "updated_at": now}), []


# --- lines ---------------------------------------------------------------------------------


def _new_line(
    number_id: str, checked: lines.CheckedLine, now: datetime, revision: int, added_at: datetime
) -> Line:
    worker = checked.worker
    assert worker.worker_name is not None and worker.worker_name_kana is not None
    assert worker.birth_date is not None and worker.consent_id is not None
    return Line(
        line_id=number_id,
        revision=revision,
        worker_id=worker.worker_id,
        worker_name=worker.worker_name,
        worker_name_kana=worker.worker_name_kana,
        birth_date=worker.birth_date,
        consent_id=worker.consent_id,
        trade=checked.trade,
        requested_level=checked.requested_level,
        career_period=checked.period.as_dict() if checked.period else None,
        career_prefill=checked.prefill.as_dict() if checked.prefill else None,
        foreman=checked.foreman.as_dict() if checked.foreman else None,
        leader=checked.leader.as_dict() if checked.leader else None,
        delivery_address=checked.delivery_address,
        warnings=[w.as_dict() for w in checked.warnings],
        status=DRAFT,
        updated_at=now,
        added_at=added_at,
    )


def find_line(doc: Application, wanted: str) -> Line:
    found = doc.line(wanted)
    if found is None:
        raise line_not_found()
    return found


def _duplicate(doc: Application, worker_id: str, except_line: str | None = None) -> None:
    if any(line.worker_id == worker_id and line.line_id != except_line for line in doc.lines):
        raise invalid(
            [
                FieldError(
                    "worker_id",
                    "duplicate_worker",
                    "この技能者は既にこの申請に追加されています（同じ技能者は1申請に1件まで）",
                )
            ]
        )


def _with_lines(doc: Application, new_lines: list[Line], now: datetime) -> Application:
    count = len(new_lines)
    since = doc.lines_since
    if count == 0:
        since = None
    elif since is None:
        since = now
    return doc.model_copy(
        update={"lines": new_lines, "line_count": count, "lines_since": since, "updated_at": now}
    )


def add_line(
    doc: Application, checked: lines.CheckedLine, now: datetime, max_lines: int
) -> Outcome:
    _duplicate(doc, checked.worker.worker_id)
    if len(doc.lines) >= max_lines:
        raise ApplicationError(
            "too_many_lines", f"1つの申請に追加できる技能者は{max_lines}名までです。"
        )
    number = doc.next_line_number
    line = _new_line(line_id(doc.id, number), checked, now, 1, now)
    new = _with_lines(doc, [*doc.lines, line], now)
    return new.model_copy(update={"next_line_number": number + 1}), []


def replace_line(
    doc: Application, wanted: str, checked: lines.CheckedLine, now: datetime
) -> Outcome:
    old = find_line(doc, wanted)
    _duplicate(doc, checked.worker.worker_id, except_line=wanted)
    line = _new_line(wanted, checked, now, old.revision + 1, old.added_at or now)
    return _with_lines(doc, doc.with_line(line), now), []


def remove_line(doc: Application, wanted: str, now: datetime) -> Outcome:
    find_line(doc, wanted)
    return _with_lines(doc, [x for x in doc.lines if x.line_id != wanted], now), []


def preview_request(line: Line, application_date: date) -> View:
    """The body of the judgement service's ``POST /preview/worker`` for a line."""
    period = line.career_period
    certification: View | None = None
    if period:
        certification = {"start": period["start"], "end": period["end"]}
        if line.foreman is not None:
            certification["foreman"] = dict(line.foreman)
        if line.leader is not None:
            certification["leader"] = dict(line.leader)
    return {
        "worker_id": line.worker_id,
        "trade": line.trade,
        "requested_level": line.requested_level,
        "application_date": application_date.isoformat(),
        "career_certification": certification,
    }


def preview_summary(result: Mapping[str, Any], application_date: date, now: datetime) -> Preview:
    """What a line keeps of a judgement preview (the §5 result), with the flag."""
    likely_rejected = result["decision"] == "rejected"
    requested = int(result["requested_level"])
    return Preview(
        decision=result["decision"],
        decision_ja=DECISION_JA[result["decision"]],
        requested_level=requested,
        eligible_level=result["eligible_level"],
        days=result.get("days"),
        foreman_days=result.get("foreman_days"),
        unmet=[
            c["message_ja"]
            for c in result.get("criteria", [])
            if not c.get("met") and c.get("message_ja") and int(c.get("level", 0)) <= requested
        ],
        reconciliation=list(result.get("reconciliation", [])),
        warnings=[w.get("message_ja", "") for w in result.get("warnings", [])],
        criteria_version=result.get("criteria_version"),
        application_date=application_date.isoformat(),
        previewed_at=now,
        likely_rejected=likely_rejected,
        flag_ja=LIKELY_REJECTED_JA if likely_rejected else None,
    )


def preview_view(preview: Preview) -> View:
    return {k: _iso(v) for k, v in preview.model_dump().items()}


def record_preview(
    doc: Application, wanted: str, revision: int, preview: Preview, now: datetime
) -> Outcome | None:
    """Keep the preview on the line, unless the line changed since it was asked for."""
    if doc.status != DRAFT:
        return None
    line = doc.line(wanted)
    if line is None or line.revision != revision:
        return None
    return doc.model_copy(
        update={"lines": doc.with_line(line.model_copy(update={"preview": preview}))}
    ), []


# --- submission ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitContext:
    application_date: date
    trades: Collection[str]
    prefectures: Collection[str]
    consents: Mapping[str, Consent | None]  # by worker id, from the read model
    schedule: FeeSchedule
    rules: CareerRules


def submission_errors(doc: Application, ctx: SubmitContext) -> list[FieldError]:
    """Everything a submission needs, checked again as of the application date."""
    errors: list[FieldError] = []
    if not doc.lines:
        errors.append(
            FieldError(
                "lines",
                "no_lines",
                "技能者が追加されていません。「技能者追加」から追加してください",
            )
        )
    errors += address.complete_errors(doc.delivery_address, "delivery_address")
    for name, label in DECLARATIONS.items():
        if not doc.declarations.get(name):
            errors.append(
                FieldError(
                    f"declarations.{name}",
                    "declaration_required",
                    f"{label.split('（')[0]}の表明にチェックしてください",
                )
            )
    for index, line in enumerate(doc.lines):
        ctx_line = lines.Context(
            application_date=ctx.application_date,
            trades=ctx.trades,
            prefectures=ctx.prefectures,
            consent=ctx.consents.get(line.worker_id),
            ccus=None,
            rules=ctx.rules,
        )
        errors += [
            replace(e, line_id=line.line_id)
            for e in lines.recheck(line, ctx_line, f"lines.{index}.")
        ]
    return errors


def ensure_submittable(doc: Application) -> None:
    if doc.status != DRAFT:
        raise ApplicationError(
            "already_submitted",
            f"この申請は{STATUS_JA[doc.status]}のため、申請できません（申請できるのは下書きのみです）。",
        )


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def checked_key(key: str | None) -> str:
    """The submission's Idempotency-Key: given, printable ASCII, at most 255 characters."""
    if key is None or not key.strip():
        raise ApplicationError(
            "idempotency_key_required",
            "Idempotency-Key ヘッダーが必要です"
            "（申請の二重送信を防ぐため、申請ごとに一意の値を指定してください）。",
        )
    if not IDEMPOTENCY_KEY.match(key):
        raise ApplicationError(
            "invalid_idempotency_key",
            "Idempotency-Key は255文字以内の半角英数字・記号で指定してください。",
        )
    return key


def checked_status(status: str | None) -> str | None:
    """The status a list is filtered by (``None``: every one but the deleted drafts)."""
    if status is not None and status not in STATUSES:
        raise invalid(
            [
                FieldError(
                    "status",
                    "invalid_status",
                    "状態は draft, submitted, judging, completed, withdrawn のいずれかです",
                )
            ]
        )
    return status


def submitted_by(doc: Application, key: str) -> bool:
    return doc.submission is not None and doc.submission.idempotency_key == key


def _months(years_months: dict[str, int] | None) -> int:
    given = years_months or {}
    return int(given.get("years", 0)) * 12 + int(given.get("months", 0))


def submit(doc: Application, key: str, ctx: SubmitContext, now: datetime) -> Outcome:
    """申請: check everything, compute the fee, freeze, raise ApplicationSubmitted."""
    errors = submission_errors(doc, ctx)
    if errors:
        raise invalid(errors)
    rule = ctx.schedule.rule_on(ctx.application_date)
    submitted_lines: list[Line] = []
    event_lines: list[ApplicationLine] = []
    for line in doc.lines:
        consent = ctx.consents[line.worker_id]
        assert consent is not None
        frozen = line.model_copy(
            update={
                # the names as the consent records them today (a renewed consent may correct them)
                "worker_name": consent.worker_name,
                "worker_name_kana": consent.worker_name_kana,
                "birth_date": consent.birth_date,
                "consent_id": consent.consent_id,
                "delivery_address": line.delivery_address or doc.delivery_address,
                "delivery_address_overridden": bool(line.delivery_address),
                "fee_yen": rule.fee_yen,
                "status": SUBMITTED,
                "submitted_at": now,
            }
        )
        submitted_lines.append(frozen)
        period = frozen.career_period
        event_lines.append(
            ApplicationLine(
                **frozen.model_dump(
                    include={
                        "line_id",
                        "worker_id",
                        "worker_name",
                        "worker_name_kana",
                        "birth_date",
                        "trade",
                        "requested_level",
                    }
                ),
                career_start=date.fromisoformat(period["start"]) if period else None,
                career_end=date.fromisoformat(period["end"]) if period else None,
                foreman_months=_months(frozen.foreman),
                leader_months=_months(frozen.leader),
                fee_yen=rule.fee_yen,
            )
        )
    total = rule.total(len(submitted_lines))
    submission = Submission(
        idempotency_key=key,
        submitted_at=now,
        application_date=ctx.application_date,
        fee_total_yen=total,
        fee_rule=rule.as_dict(),
    )
    new = doc.model_copy(
        update={
            "status": SUBMITTED,
            "lines": submitted_lines,
            "updated_at": now,
            "submission": submission,
            "submission_key": key,
        }
    )
    answer = to_json(detail(new)).decode()
    new = new.model_copy(
        update={"submission": submission.model_copy(update={"response_json": answer})}
    )
    event = ApplicationSubmitted(
        application_id=doc.id,
        employer_id=doc.employer_id,
        application_date=ctx.application_date,
        submitted_at=now,
        fee_total_yen=total,
        lines=event_lines,
    )
    return new, [Envelope(event, source=SOURCE)]


# --- withdrawal and judgement progress -----------------------------------------------------


def withdraw(doc: Application, reason: str | None, now: datetime) -> Outcome:
    """取下げ: only a submitted application none of whose lines has started being judged."""
    status = doc.status
    if status == DRAFT:
        raise ApplicationError(
            "not_submitted", "下書きは取下げできません（不要な下書きは削除してください）。"
        )
    if status == WITHDRAWN:
        raise ApplicationError("already_withdrawn", "この申請は既に取下げられています。")
    if status != SUBMITTED or any(x.status != SUBMITTED for x in doc.lines):
        raise ApplicationError(
            "judgement_started",
            "判定が開始されているため、この申請は取下げできません。",
        )
    text = " ".join(reason.split()) if reason else None
    if text and len(text) > 500:
        raise invalid(
            [FieldError("reason", "too_long", "取下げ理由は500文字以内で入力してください")]
        )
    new_lines = [x.model_copy(update={"status": WITHDRAWN, "withdrawn_at": now}) for x in doc.lines]
    new = doc.model_copy(
        update={
            "status": WITHDRAWN,
            "lines": new_lines,
            "updated_at": now,
            "withdrawal": Withdrawal(reason=text or None, withdrawn_at=now),
        }
    )
    event = ApplicationWithdrawn(
        application_id=doc.id,
        employer_id=doc.employer_id,
        line_ids=[x.line_id for x in doc.lines],
        reason=text or None,
        withdrawn_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def overall_status(doc: Application) -> str:
    """The application's status from its lines' (after submission)."""
    if doc.status in (DRAFT, DELETED):
        return doc.status
    active = [x for x in doc.lines if x.status != WITHDRAWN]
    if not active:
        return WITHDRAWN
    if all(x.status == COMPLETED for x in active):
        return COMPLETED
    if any(x.status in (JUDGING, COMPLETED) for x in active):
        return JUDGING
    return SUBMITTED


def _progress(
    doc: Application | None,
    employer_id: str,
    wanted: str,
    change: Callable[[Line], Line | None],
    now: datetime,
) -> Outcome | None:
    if doc is None or doc.employer_id != employer_id or doc.status in (DRAFT, DELETED):
        return None  # not ours, or never submitted: nothing to move
    line = doc.line(wanted)
    if line is None:
        return None
    updated = change(line)
    if updated is None:
        return None
    new = doc.model_copy(update={"lines": doc.with_line(updated)})
    status = overall_status(new)
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if status == COMPLETED and not doc.completed_at:
        changes["completed_at"] = now
    return new.model_copy(update=changes), []


def started(doc: Application | None, event: JudgementStarted, now: datetime) -> Outcome | None:
    """判定中. A line already judging or judged stays as it is."""

    def start(line: Line) -> Line | None:
        if line.status in (JUDGING, COMPLETED):
            return None
        late = line.status == WITHDRAWN
        return line.model_copy(
            update={
                "status": JUDGING,
                "judgement_id": event.judgement_id,
                "started_at": event.started_at,
                **({"note_ja": LATE_WITHDRAWAL_JA} if late else {}),
            }
        )

    return _progress(doc, event.employer_id, event.line_id, start, now)


def completed(
    doc: Application | None, event: JudgementCompletedV2, now: datetime
) -> Outcome | None:
    """判定完了 (承認 / 不承認), or a re-judgement (再判定) replacing the line's result.

    Applied only when the event's ``sequence`` is higher than the one the line holds: a
    redelivered, duplicate or out-of-order (older) judgement changes nothing. The line's
    result becomes the event's and the event joins ``judgement_history``. What the line's
    first completion did is not done again: the application's status stays 判定完了 and its
    ``completed_at`` keeps the first completion's time; no event is raised either way.
    """

    def complete(line: Line) -> Line | None:
        if event.sequence <= line.held_sequence:
            return None
        late = line.status == WITHDRAWN
        entry = JudgementEntry.model_validate(event, from_attributes=True)
        return line.model_copy(
            update={
                "status": COMPLETED,
                "judgement_id": event.judgement_id,
                "judgement_sequence": event.sequence,
                "started_at": line.started_at or event.judged_at,
                "decision": event.decision,
                "eligible_level": event.eligible_level,
                "messages": list(event.messages),
                "criteria_version": event.criteria_version,
                "evaluation_body": event.evaluation_body,
                "judged_at": event.judged_at,
                "supersedes": event.supersedes,
                "rejudgement_reason": event.rejudgement_reason,
                "judgement_history": [*line.judgement_history, entry],
                **({"note_ja": LATE_WITHDRAWAL_JA} if late else {}),
            }
        )

    return _progress(doc, event.employer_id, event.line_id, complete, now)


def notice_generated(doc: Application | None, event: ResultNoticeGenerated) -> Outcome | None:
    """A 結果通知書 issued for one of the line's judgements: kept on the line (for the result
    list's summary); a redelivered one changes nothing. The application's status and
    ``updated_at`` stay (nothing the employer did or the judgement decided changed)."""
    if doc is None or doc.employer_id != event.employer_id or doc.status in (DRAFT, DELETED):
        return None
    line = doc.line(event.line_id)
    if line is None:
        return None
    held = line.notices or []
    if any(n.notice_id == event.notice_id for n in held):
        return None
    entry = NoticeEntry(
        notice_id=event.notice_id, judgement_id=event.judgement_id, sequence=event.sequence
    )
    notices = sorted([*held, entry], key=lambda n: n.sequence)
    return doc.model_copy(
        update={"lines": doc.with_line(line.model_copy(update={"notices": notices}))}
    ), []


# --- 押し忘れ防止 -----------------------------------------------------------------------------


def reminder_due(doc: Application, now: datetime, after: timedelta, every: timedelta) -> bool:
    """A draft with lines, unsubmitted for ``after``, not reminded within ``every``."""
    if doc.status != DRAFT or not doc.line_count or doc.lines_since is None:
        return False
    if now - doc.lines_since < after:
        return False
    last = doc.last_reminded_at
    return last is None or now - last >= every


def remind(
    doc: Application | None, now: datetime, after: timedelta, every: timedelta
) -> Outcome | None:
    if doc is None or not reminder_due(doc, now, after, every):
        return None
    event = ApplicationDraftReminder(
        application_id=doc.id,
        employer_id=doc.employer_id,
        line_count=doc.line_count,
        draft_created_at=doc.created_at,
        reminded_at=now,
    )
    new = doc.model_copy(update={"last_reminded_at": now, "reminder_count": doc.reminder_count + 1})
    return new, [Envelope(event, source=SOURCE)]


# --- views ---------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _status_ja(status: str, decision: str | None) -> str:
    if status == COMPLETED and decision:
        return f"{STATUS_JA[COMPLETED]}（{DECISION_JA[decision]}）"
    return STATUS_JA[status]


def line_view(line: Line, doc: Application) -> View:
    override = line.delivery_address
    if doc.status == DRAFT:
        effective = override or doc.delivery_address
        overridden = bool(override)
    else:  # frozen at submission with the effective address
        effective = override
        overridden = line.delivery_address_overridden
    preview = line.preview
    return {
        **line.model_dump(
            include={
                "line_id",
                "worker_id",
                "worker_name",
                "worker_name_kana",
                "trade",
                "requested_level",
                "career_period",
                "career_prefill",
                "foreman",
                "leader",
                "warnings",
                "status",
                "fee_yen",
                "decision",
                "eligible_level",
                "messages",
                "judgement_id",
                "criteria_version",
                "supersedes",
                "rejudgement_reason",
                "note_ja",
            }
        ),
        "birth_date": line.birth_date.isoformat(),
        "delivery_address": effective,
        "delivery_address_ja": address.one_line(effective),
        "delivery_address_overridden": overridden,
        "preview": preview_view(preview) if preview else None,
        "flag_ja": preview.flag_ja if preview else None,
        "status_ja": _status_ja(line.status, line.decision),
        "decision_ja": DECISION_JA.get(line.decision or ""),
        "judgement_sequence": line.held_sequence or None,
        "judged_at": _iso(line.judged_at),
        "judgement_history": [_history_view(entry) for entry in line.judgement_history],
    }


def _history_view(entry: JudgementEntry) -> View:
    return {
        **entry.model_dump(),
        "decision_ja": DECISION_JA.get(entry.decision or ""),
        "judged_at": _iso(entry.judged_at),
    }


def fee_total(doc: Application, fee_today: FeeRule | None) -> int | None:
    """The application's fee: fixed at submission; for a draft, what it would cost if
    submitted today (``fee_today`` for each of its lines; ``None`` when no fee rule
    applies)."""
    if doc.submission is not None:
        return doc.submission.fee_total_yen
    if doc.status != DRAFT or fee_today is None:
        return None
    return fee_today.total(len(doc.lines))


def _stored_moment(value: datetime | None) -> str | None:
    """A moment as the database gives it back (milliseconds), in ISO form."""
    if value is None:
        return None
    return value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat()


def summary_entry(doc: Application) -> View:
    """What the lists show of an application, kept in its summary document
    (``core.summaries``) at every write: JSON values only, the aggregate's ``version``; a
    draft's fee is added when read (``summary_view``: it is today's)."""
    submission = doc.submission
    decided = [x.decision for x in doc.lines if x.status == COMPLETED]
    return {
        "version": doc.version,
        "status": doc.status,
        "created_at": _stored_moment(doc.created_at),
        "created_ts": doc.created_at.timestamp(),
        "updated_at": _stored_moment(doc.updated_at),
        "submitted_at": _stored_moment(submission.submitted_at) if submission else None,
        "application_date": _iso(submission.application_date) if submission else None,
        "line_count": len(doc.lines),
        "fee_total_yen": submission.fee_total_yen if submission else None,
        "approved_count": decided.count("approved"),
        "rejected_count": decided.count("rejected"),
        "last_reminded_at": _stored_moment(doc.last_reminded_at),
        **(
            {} if doc.status in (DRAFT, DELETED) else {"lines": [result_line(x) for x in doc.lines]}
        ),
    }


RESULT_STATUS = {
    SUBMITTED: ("waiting_ccus", "CCUSデータ待ち"),
    JUDGING: ("in_review", "審査待ち"),
    COMPLETED: ("completed", "判定完了"),
    WITHDRAWN: ("withdrawn", "取下げ"),
}
"""A submitted line's status as the judgement service names it (its ``GET /judgements``):
not started = waiting for the worker's CCUS data (a line is judged as soon as it arrives),
started and not completed = waiting for an evaluator's review."""


def result_line(line: Line) -> View:
    """What the result list (レベル判定結果確認) shows of a submitted line: its current
    judgement and the 結果通知書 issued for its judgements (each with ``superseded_by``:
    the next one's number, or null while it is the newest)."""
    status, status_ja = RESULT_STATUS.get(line.status, (line.status, line.status))
    notices = line.notices or []
    return {
        "line_id": line.line_id,
        "worker_id": line.worker_id,
        "worker_name": line.worker_name,
        "trade": line.trade,
        "requested_level": line.requested_level,
        "status": status,
        "status_ja": status_ja,
        "decision": line.decision,
        "eligible_level": line.eligible_level,
        "sequence": line.held_sequence or 1,
        "notices": [
            {
                "notice_id": n.notice_id,
                "line_id": line.line_id,
                "judgement_id": n.judgement_id,
                "sequence": n.sequence,
                "superseded_by": after.notice_id if after is not None else None,
            }
            for n, after in zip(notices, [*notices[1:], None], strict=False)
        ],
    }


def summary_view(
    application_id: str, employer_id: str, entry: Mapping[str, Any], fee_today: FeeRule | None
) -> View:
    """The list's answer for one application from its ``summary_entry``; ``fee_today``:
    today's fee rule, for a draft's ``fee_total_yen`` (as ``fee_total``)."""
    status = str(entry["status"])
    count = int(entry["line_count"])
    fee = entry["fee_total_yen"]
    if fee is None and status == DRAFT and fee_today is not None:
        fee = fee_today.total(count)
    attention = None
    if status == DRAFT and count:
        attention = (
            f"申請ボタンが押されていません。技能者{count}名の申請は未完了です。"
            "内容を確認して「申請」を押してください"
        )
    return {
        "application_id": application_id,
        "employer_id": employer_id,
        "status": status,
        "status_ja": STATUS_JA[status],
        "created_at": entry["created_at"],
        "updated_at": entry["updated_at"],
        "submitted_at": entry["submitted_at"],
        "application_date": entry["application_date"],
        "line_count": count,
        "fee_total_yen": fee,
        "approved_count": entry["approved_count"],
        "rejected_count": entry["rejected_count"],
        "attention_ja": attention,
        "last_reminded_at": entry["last_reminded_at"],
    }


def summary(doc: Application, fee_today: FeeRule | None = None) -> View:
    """``fee_today``: today's fee rule, for a draft's ``fee_total_yen`` (``fee_total``)."""
    submission = doc.submission
    decided = [x.decision for x in doc.lines if x.status == COMPLETED]
    attention = None
    if doc.status == DRAFT and doc.line_count:
        attention = (
            f"申請ボタンが押されていません。技能者{doc.line_count}名の申請は未完了です。"
            "内容を確認して「申請」を押してください"
        )
    return {
        "application_id": doc.id,
        "employer_id": doc.employer_id,
        "status": doc.status,
        "status_ja": STATUS_JA[doc.status],
        "created_at": _iso(doc.created_at),
        "updated_at": _iso(doc.updated_at),
        "submitted_at": _iso(submission.submitted_at) if submission else None,
        "application_date": _iso(submission.application_date) if submission else None,
        "line_count": len(doc.lines),
        "fee_total_yen": fee_total(doc, fee_today),
        "approved_count": decided.count("approved"),
        "rejected_count": decided.count("rejected"),
        "attention_ja": attention,
        "last_reminded_at": _iso(doc.last_reminded_at),
    }


def submitted_response(doc: Application) -> View:
    """The answer the submission gave."""
    assert doc.submission is not None
    answer: View = json.loads(doc.submission.response_json)
    return answer


def detail(doc: Application, fee_today: FeeRule | None = None) -> View:
    submission = doc.submission
    withdrawal = doc.withdrawal
    return {
        **summary(doc, fee_today),
        "delivery_address": doc.delivery_address,
        "delivery_address_ja": address.one_line(doc.delivery_address),
        "declarations": dict(doc.declarations),
        "declarations_ja": dict(DECLARATIONS),
        "lines": [line_view(x, doc) for x in doc.lines],
        "fee_rule": submission.fee_rule if submission else None,
        "withdrawal": (
            {"reason": withdrawal.reason, "withdrawn_at": _iso(withdrawal.withdrawn_at)}
            if withdrawal
            else None
        ),
        "completed_at": _iso(doc.completed_at),
        "editable": doc.status == DRAFT,
        "withdrawable": doc.status == SUBMITTED and all(x.status == SUBMITTED for x in doc.lines),
    }
