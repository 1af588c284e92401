"""The application aggregate (レベル判定代行申請): one document per application, pure.

An application is opened as a draft (下書き) by an employer, gets its card delivery address,
the two declarations and one line per worker (技能者追加), and is then submitted (申請) in
one go: the lines are checked again, the fee computed, the document frozen and
ApplicationSubmitted raised. The judgement service's events move each line, and with them
the application, 申請済 → 判定中 → 判定完了 (承認 / 不承認); a withdrawal (取下げ) is possible
until the first line starts being judged. A line's result is its current judgement: the
JudgementCompletedV2 with the highest ``sequence`` (a re-judgement, 再判定, replaces the
first one; every judgement applied stays in the line's ``judgement_history``). Every function
returns the new document and the events it raises (stored in the same write: outbox).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic_core import to_json

from application.core import address, lines
from application.core.career import CareerRules
from application.core.consents import japan_today
from application.core.errors import (
    ApplicationError,
    FieldError,
    invalid,
    line_not_found,
    not_editable,
    not_found,
)
from application.core.fees import FeeSchedule
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    JudgementStarted,
)

Doc = dict[str, Any]
Outcome = tuple[Doc, list[Envelope]]
SOURCE = "application"

DRAFT = "draft"
SUBMITTED = "submitted"
JUDGING = "judging"
COMPLETED = "completed"
WITHDRAWN = "withdrawn"
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
) -> Doc:
    return {
        "_id": application_id,
        "employer_id": employer_id,
        "created_by": created_by,
        "status": DRAFT,
        "created_at": now,
        "updated_at": now,
        "delivery_address": header.delivery_address if header.address_given else None,
        "declarations": {**dict.fromkeys(DECLARATIONS, False), **(header.declarations or {})},
        "lines": [],
        "line_count": 0,
        "next_line_number": 1,
        "lines_since": None,
        "last_reminded_at": None,
        "reminder_count": 0,
        "submission": None,
        "withdrawal": None,
    }


def owned(doc: Doc | None, employer_id: str | None) -> Doc:
    """The document if it exists, is not deleted and belongs to the employer; else 404."""
    if doc is None or doc.get("status") == DELETED or doc.get("employer_id") != employer_id:
        raise not_found()
    return doc


def editable(doc: Doc | None, employer_id: str | None) -> Doc:
    found = owned(doc, employer_id)
    if found["status"] != DRAFT:
        raise not_editable(STATUS_JA[found["status"]])
    return found


def update_header(doc: Doc, header: Header, now: datetime) -> Outcome:
    new = {**doc, "updated_at": now}
    if header.address_given:
        new["delivery_address"] = header.delivery_address
    if header.declarations is not None:
        new["declarations"] = {**doc["declarations"], **header.declarations}
    return new, []


def discard(doc: Doc, now: datetime) -> Outcome:
    """A draft no longer wanted: kept (documents are never deleted) but hidden."""
    return {**doc, "status": DELETED, "deleted_at": now, "updated_at": now}, []


# --- lines ---------------------------------------------------------------------------------


def _line_doc(number_id: str, checked: lines.CheckedLine, now: datetime, revision: int) -> Doc:
    worker = checked.worker
    return {
        "line_id": number_id,
        "revision": revision,
        "worker_id": worker["worker_id"],
        "worker_name": worker["worker_name"],
        "worker_name_kana": worker["worker_name_kana"],
        "birth_date": worker["birth_date"],
        "consent_id": worker["consent_id"],
        "trade": checked.trade,
        "requested_level": checked.requested_level,
        "career_period": checked.period.as_dict() if checked.period else None,
        "career_prefill": checked.prefill.as_dict() if checked.prefill else None,
        "foreman": checked.foreman.as_dict() if checked.foreman else None,
        "leader": checked.leader.as_dict() if checked.leader else None,
        "delivery_address": checked.delivery_address,
        "warnings": [w.as_dict() for w in checked.warnings],
        "preview": None,
        "status": DRAFT,
        "updated_at": now,
    }


def find_line(doc: Doc, wanted: str) -> Doc:
    for line in doc["lines"]:
        if line["line_id"] == wanted:
            return dict(line)
    raise line_not_found()


def _duplicate(doc: Doc, worker_id: str, except_line: str | None = None) -> None:
    if any(
        line["worker_id"] == worker_id and line["line_id"] != except_line for line in doc["lines"]
    ):
        raise invalid(
            [
                FieldError(
                    "worker_id",
                    "duplicate_worker",
                    "この技能者は既にこの申請に追加されています（同じ技能者は1申請に1件まで）",
                )
            ]
        )


def _with_lines(doc: Doc, new_lines: list[Doc], now: datetime) -> Doc:
    count = len(new_lines)
    since = doc.get("lines_since")
    if count == 0:
        since = None
    elif since is None:
        since = now
    return {
        **doc,
        "lines": new_lines,
        "line_count": count,
        "lines_since": since,
        "updated_at": now,
    }


def add_line(doc: Doc, checked: lines.CheckedLine, now: datetime, max_lines: int) -> Outcome:
    _duplicate(doc, checked.worker["worker_id"])
    if len(doc["lines"]) >= max_lines:
        raise ApplicationError(
            "too_many_lines", f"1つの申請に追加できる技能者は{max_lines}名までです。"
        )
    number = int(doc["next_line_number"])
    line = {**_line_doc(line_id(doc["_id"], number), checked, now, 1), "added_at": now}
    new = _with_lines(doc, [*doc["lines"], line], now)
    return {**new, "next_line_number": number + 1}, []


def replace_line(doc: Doc, wanted: str, checked: lines.CheckedLine, now: datetime) -> Outcome:
    old = find_line(doc, wanted)
    _duplicate(doc, checked.worker["worker_id"], except_line=wanted)
    line = {
        **_line_doc(wanted, checked, now, int(old.get("revision", 1)) + 1),
        "added_at": old.get("added_at", now),
    }
    return _with_lines(doc, [line if x["line_id"] == wanted else x for x in doc["lines"]], now), []


def remove_line(doc: Doc, wanted: str, now: datetime) -> Outcome:
    find_line(doc, wanted)
    return _with_lines(doc, [x for x in doc["lines"] if x["line_id"] != wanted], now), []


def preview_request(line: Doc, application_date: date) -> Doc:
    """The body of the judgement service's ``POST /preview/worker`` for a line."""
    period = line.get("career_period")
    certification: Doc | None = None
    if period:
        certification = {"start": period["start"], "end": period["end"]}
        for role in ("foreman", "leader"):
            if line.get(role) is not None:
                certification[role] = dict(line[role])
    return {
        "worker_id": line["worker_id"],
        "trade": line["trade"],
        "requested_level": line["requested_level"],
        "application_date": application_date.isoformat(),
        "career_certification": certification,
    }


def preview_summary(result: Mapping[str, Any], application_date: date, now: datetime) -> Doc:
    """What a line keeps of a judgement preview (the §5 result), with the flag."""
    likely_rejected = result["decision"] == "rejected"
    requested = int(result["requested_level"])
    return {
        "decision": result["decision"],
        "decision_ja": DECISION_JA[result["decision"]],
        "requested_level": requested,
        "eligible_level": result["eligible_level"],
        "days": result.get("days"),
        "foreman_days": result.get("foreman_days"),
        "unmet": [
            c["message_ja"]
            for c in result.get("criteria", [])
            if not c.get("met") and c.get("message_ja") and int(c.get("level", 0)) <= requested
        ],
        "reconciliation": list(result.get("reconciliation", [])),
        "warnings": [w.get("message_ja", "") for w in result.get("warnings", [])],
        "criteria_version": result.get("criteria_version"),
        "application_date": application_date.isoformat(),
        "previewed_at": now,
        "likely_rejected": likely_rejected,
        "flag_ja": LIKELY_REJECTED_JA if likely_rejected else None,
    }


def record_preview(
    doc: Doc, wanted: str, revision: int, preview: Doc, now: datetime
) -> Outcome | None:
    """Keep the preview on the line, unless the line changed since it was asked for."""
    if doc.get("status") != DRAFT:
        return None
    line = next((x for x in doc["lines"] if x["line_id"] == wanted), None)
    if line is None or int(line.get("revision", 1)) != revision:
        return None
    updated = {**line, "preview": preview}
    new_lines = [updated if x["line_id"] == wanted else x for x in doc["lines"]]
    return {**doc, "lines": new_lines}, []


# --- submission ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitContext:
    application_date: date
    trades: Collection[str]
    prefectures: Collection[str]
    consents: Mapping[str, Doc | None]  # by worker id, from the read model
    schedule: FeeSchedule
    rules: CareerRules


def submission_errors(doc: Doc, ctx: SubmitContext) -> list[FieldError]:
    """Everything a submission needs, checked again as of the application date."""
    errors: list[FieldError] = []
    if not doc["lines"]:
        errors.append(
            FieldError(
                "lines",
                "no_lines",
                "技能者が追加されていません。「技能者追加」から追加してください",
            )
        )
    errors += address.complete_errors(doc.get("delivery_address"), "delivery_address")
    for name, label in DECLARATIONS.items():
        if not doc["declarations"].get(name):
            errors.append(
                FieldError(
                    f"declarations.{name}",
                    "declaration_required",
                    f"{label.split('（')[0]}の表明にチェックしてください",
                )
            )
    for index, line in enumerate(doc["lines"]):
        ctx_line = lines.Context(
            application_date=ctx.application_date,
            trades=ctx.trades,
            prefectures=ctx.prefectures,
            consent=ctx.consents.get(line["worker_id"]),
            ccus=None,
            rules=ctx.rules,
        )
        errors += [
            replace(e, line_id=line["line_id"])
            for e in lines.recheck(line, ctx_line, f"lines.{index}.")
        ]
    return errors


def ensure_submittable(doc: Doc) -> None:
    if doc["status"] != DRAFT:
        raise ApplicationError(
            "already_submitted",
            f"この申請は{STATUS_JA[doc['status']]}のため、申請できません（申請できるのは下書きのみです）。",
        )


def submitted_by(doc: Doc, key: str) -> bool:
    return (doc.get("submission") or {}).get("idempotency_key") == key


def submit(doc: Doc, key: str, ctx: SubmitContext, now: datetime) -> Outcome:
    """申請: check everything, compute the fee, freeze, raise ApplicationSubmitted."""
    errors = submission_errors(doc, ctx)
    if errors:
        raise invalid(errors)
    rule = ctx.schedule.rule_on(ctx.application_date)
    submitted_lines: list[Doc] = []
    event_lines: list[ApplicationLine] = []
    for line in doc["lines"]:
        consent = ctx.consents[line["worker_id"]]
        assert consent is not None
        period = line.get("career_period") or {}
        foreman = line.get("foreman") or {}
        leader = line.get("leader") or {}
        frozen = {
            **line,
            # the names as the consent records them today (a renewed consent may correct them)
            "worker_name": consent["worker_name"],
            "worker_name_kana": consent["worker_name_kana"],
            "birth_date": consent["birth_date"],
            "consent_id": consent["consent_id"],
            "delivery_address": line.get("delivery_address") or doc["delivery_address"],
            "delivery_address_overridden": bool(line.get("delivery_address")),
            "fee_yen": rule.fee_yen,
            "status": SUBMITTED,
            "submitted_at": now,
        }
        submitted_lines.append(frozen)
        event_lines.append(
            ApplicationLine(
                line_id=frozen["line_id"],
                worker_id=frozen["worker_id"],
                worker_name=frozen["worker_name"],
                worker_name_kana=frozen["worker_name_kana"],
                birth_date=date.fromisoformat(frozen["birth_date"]),
                trade=frozen["trade"],
                requested_level=frozen["requested_level"],
                career_start=date.fromisoformat(period["start"]) if period else None,
                career_end=date.fromisoformat(period["end"]) if period else None,
                foreman_months=int(foreman.get("years", 0)) * 12 + int(foreman.get("months", 0)),
                leader_months=int(leader.get("years", 0)) * 12 + int(leader.get("months", 0)),
                fee_yen=rule.fee_yen,
            )
        )
    total = rule.fee_yen * len(submitted_lines)
    new = {
        **doc,
        "status": SUBMITTED,
        "lines": submitted_lines,
        "updated_at": now,
        "submission": {
            "idempotency_key": key,
            "submitted_at": now,
            "application_date": ctx.application_date.isoformat(),
            "fee_total_yen": total,
            "fee_rule": rule.as_dict(),
        },
    }
    # the answer a retry with the same Idempotency-Key gets again, kept as JSON text: it is
    # never queried, and as nested fields it doubled the document (FerretDB's cost is per
    # element, in every write and read of the application; bench/README.md)
    new["submission"]["response_json"] = to_json(detail(new)).decode()
    event = ApplicationSubmitted(
        application_id=doc["_id"],
        employer_id=doc["employer_id"],
        application_date=ctx.application_date,
        submitted_at=now,
        fee_total_yen=total,
        lines=event_lines,
    )
    return new, [Envelope(event, source=SOURCE)]


# --- withdrawal and judgement progress -----------------------------------------------------


def withdraw(doc: Doc, reason: str | None, now: datetime) -> Outcome:
    """取下げ: only a submitted application none of whose lines has started being judged."""
    status = doc["status"]
    if status == DRAFT:
        raise ApplicationError(
            "not_submitted", "下書きは取下げできません（不要な下書きは削除してください）。"
        )
    if status == WITHDRAWN:
        raise ApplicationError("already_withdrawn", "この申請は既に取下げられています。")
    if status != SUBMITTED or any(x["status"] != SUBMITTED for x in doc["lines"]):
        raise ApplicationError(
            "judgement_started",
            "判定が開始されているため、この申請は取下げできません。",
        )
    text = " ".join(reason.split()) if reason else None
    if text and len(text) > 500:
        raise invalid(
            [FieldError("reason", "too_long", "取下げ理由は500文字以内で入力してください")]
        )
    new_lines = [{**x, "status": WITHDRAWN, "withdrawn_at": now} for x in doc["lines"]]
    new = {
        **doc,
        "status": WITHDRAWN,
        "lines": new_lines,
        "updated_at": now,
        "withdrawal": {"reason": text or None, "withdrawn_at": now},
    }
    event = ApplicationWithdrawn(
        application_id=doc["_id"],
        employer_id=doc["employer_id"],
        line_ids=[x["line_id"] for x in doc["lines"]],
        reason=text or None,
        withdrawn_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def overall_status(doc: Doc) -> str:
    """The application's status from its lines' (after submission)."""
    if doc["status"] in (DRAFT, DELETED):
        return str(doc["status"])
    active = [x for x in doc["lines"] if x["status"] != WITHDRAWN]
    if not active:
        return WITHDRAWN
    if all(x["status"] == COMPLETED for x in active):
        return COMPLETED
    if any(x["status"] in (JUDGING, COMPLETED) for x in active):
        return JUDGING
    return SUBMITTED


def _progress(
    doc: Doc | None,
    employer_id: str,
    wanted: str,
    change: Callable[[Doc], Doc | None],
    now: datetime,
) -> Outcome | None:
    if doc is None or doc.get("employer_id") != employer_id or doc["status"] in (DRAFT, DELETED):
        return None  # not ours, or never submitted: nothing to move
    line = next((x for x in doc["lines"] if x["line_id"] == wanted), None)
    if line is None:
        return None
    updated = change(line)
    if updated is None:
        return None
    new = {**doc, "lines": [updated if x["line_id"] == wanted else x for x in doc["lines"]]}
    status = overall_status(new)
    new = {**new, "status": status, "updated_at": now}
    if status == COMPLETED and not doc.get("completed_at"):
        new["completed_at"] = now
    return new, []


def started(doc: Doc | None, event: JudgementStarted, now: datetime) -> Outcome | None:
    """判定中. A line already judging or judged stays as it is."""

    def start(line: Doc) -> Doc | None:
        if line["status"] in (JUDGING, COMPLETED):
            return None
        late = line["status"] == WITHDRAWN
        return {
            **line,
            "status": JUDGING,
            "judgement_id": event.judgement_id,
            "started_at": event.started_at,
            **({"note_ja": LATE_WITHDRAWAL_JA} if late else {}),
        }

    return _progress(doc, event.employer_id, event.line_id, start, now)


def held_sequence(line: Doc) -> int:
    """The sequence of the line's current judgement: 0 while it has none. A line judged
    before sequences were kept holds its one judgement, sequence 1."""
    if line.get("judgement_sequence") is not None:
        return int(line["judgement_sequence"])
    return 1 if line.get("decision") is not None else 0


def judgement_history(line: Doc) -> list[Doc]:
    """Every judgement applied to the line, oldest first (the last one is the current).

    A line judged before histories were kept gets its one judgement from its own fields.
    """
    stored = line.get("judgement_history")
    if stored is not None:
        return [dict(entry) for entry in stored]
    if held_sequence(line) == 0:
        return []
    return [
        {
            "sequence": 1,
            "judgement_id": line.get("judgement_id"),
            "decision": line.get("decision"),
            "eligible_level": line.get("eligible_level"),
            "criteria_version": line.get("criteria_version"),
            "judged_at": line.get("judged_at"),
            "rejudgement_reason": None,
            "supersedes": None,
        }
    ]


def _history_entry(event: JudgementCompletedV2) -> Doc:
    return {
        "sequence": event.sequence,
        "judgement_id": event.judgement_id,
        "decision": event.decision,
        "eligible_level": event.eligible_level,
        "criteria_version": event.criteria_version,
        "judged_at": event.judged_at,
        "rejudgement_reason": event.rejudgement_reason,
        "supersedes": event.supersedes,
    }


def completed(doc: Doc | None, event: JudgementCompletedV2, now: datetime) -> Outcome | None:
    """判定完了 (承認 / 不承認), or a re-judgement (再判定) replacing the line's result.

    Applied only when the event's ``sequence`` is higher than the one the line holds: a
    redelivered, duplicate or out-of-order (older) judgement changes nothing. The line's
    result becomes the event's and the event joins ``judgement_history``. What the line's
    first completion did is not done again: the application's status stays 判定完了 and its
    ``completed_at`` keeps the first completion's time; no event is raised either way.
    """

    def complete(line: Doc) -> Doc | None:
        if event.sequence <= held_sequence(line):
            return None
        late = line["status"] == WITHDRAWN
        return {
            **line,
            "status": COMPLETED,
            "judgement_id": event.judgement_id,
            "judgement_sequence": event.sequence,
            "started_at": line.get("started_at") or event.judged_at,
            "decision": event.decision,
            "eligible_level": event.eligible_level,
            "messages": list(event.messages),
            "criteria_version": event.criteria_version,
            "evaluation_body": event.evaluation_body,
            "judged_at": event.judged_at,
            "supersedes": event.supersedes,
            "rejudgement_reason": event.rejudgement_reason,
            "judgement_history": [*judgement_history(line), _history_entry(event)],
            **({"note_ja": LATE_WITHDRAWAL_JA} if late else {}),
        }

    return _progress(doc, event.employer_id, event.line_id, complete, now)


# --- 押し忘れ防止 -----------------------------------------------------------------------------


def reminder_due(doc: Doc, now: datetime, after: timedelta, every: timedelta) -> bool:
    """A draft with lines, unsubmitted for ``after``, not reminded within ``every``."""
    if doc.get("status") != DRAFT or not doc.get("line_count") or doc.get("lines_since") is None:
        return False
    if now - doc["lines_since"] < after:
        return False
    last = doc.get("last_reminded_at")
    return last is None or now - last >= every


def remind(doc: Doc | None, now: datetime, after: timedelta, every: timedelta) -> Outcome | None:
    if doc is None or not reminder_due(doc, now, after, every):
        return None
    event = ApplicationDraftReminder(
        application_id=doc["_id"],
        employer_id=doc["employer_id"],
        line_count=int(doc["line_count"]),
        draft_created_at=doc["created_at"],
        reminded_at=now,
    )
    new = {**doc, "last_reminded_at": now, "reminder_count": int(doc.get("reminder_count", 0)) + 1}
    return new, [Envelope(event, source=SOURCE)]


# --- views ---------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _status_ja(status: str, decision: str | None) -> str:
    if status == COMPLETED and decision:
        return f"{STATUS_JA[COMPLETED]}（{DECISION_JA[decision]}）"
    return STATUS_JA[status]


def line_view(line: Doc, doc: Doc) -> Doc:
    override = line.get("delivery_address")
    if doc["status"] == DRAFT:
        effective = override or doc.get("delivery_address")
        overridden = bool(override)
    else:  # frozen at submission with the effective address
        effective = override
        overridden = bool(line.get("delivery_address_overridden"))
    preview = line.get("preview")
    view = {
        "line_id": line["line_id"],
        "worker_id": line["worker_id"],
        "worker_name": line["worker_name"],
        "worker_name_kana": line["worker_name_kana"],
        "birth_date": line["birth_date"],
        "trade": line["trade"],
        "requested_level": line["requested_level"],
        "career_period": line.get("career_period"),
        "career_prefill": line.get("career_prefill"),
        "foreman": line.get("foreman"),
        "leader": line.get("leader"),
        "delivery_address": effective,
        "delivery_address_ja": address.one_line(effective),
        "delivery_address_overridden": overridden,
        "warnings": line.get("warnings", []),
        "preview": {k: _iso(v) for k, v in preview.items()} if preview else None,
        "flag_ja": (preview or {}).get("flag_ja"),
        "status": line["status"],
        "status_ja": _status_ja(line["status"], line.get("decision")),
        "fee_yen": line.get("fee_yen"),
        "decision": line.get("decision"),
        "decision_ja": DECISION_JA.get(line.get("decision") or ""),
        "eligible_level": line.get("eligible_level"),
        "messages": line.get("messages", []),
        "judgement_id": line.get("judgement_id"),
        "judgement_sequence": held_sequence(line) or None,
        "criteria_version": line.get("criteria_version"),
        "judged_at": _iso(line.get("judged_at")),
        "supersedes": line.get("supersedes"),
        "rejudgement_reason": line.get("rejudgement_reason"),
        "judgement_history": [_history_view(entry) for entry in judgement_history(line)],
        "note_ja": line.get("note_ja"),
    }
    return view


def _history_view(entry: Doc) -> Doc:
    return {
        "sequence": entry["sequence"],
        "judgement_id": entry.get("judgement_id"),
        "decision": entry.get("decision"),
        "decision_ja": DECISION_JA.get(entry.get("decision") or ""),
        "eligible_level": entry.get("eligible_level"),
        "criteria_version": entry.get("criteria_version"),
        "judged_at": _iso(entry.get("judged_at")),
        "rejudgement_reason": entry.get("rejudgement_reason"),
        "supersedes": entry.get("supersedes"),
    }


def fee_total(doc: Doc, fee_per_line: int | None) -> int | None:
    """The application's fee: fixed at submission; for a draft, what it would cost if
    submitted today (``fee_per_line`` × its lines; ``None`` when no fee rule applies)."""
    submission = doc.get("submission")
    if submission:
        return int(submission["fee_total_yen"])
    if doc["status"] != DRAFT or fee_per_line is None:
        return None
    return fee_per_line * len(doc["lines"])


def summary(doc: Doc, fee_per_line: int | None = None) -> Doc:
    """``fee_per_line``: today's fee, for a draft's ``fee_total_yen`` (see ``fee_total``)."""
    submission = doc.get("submission") or {}
    decided = [x.get("decision") for x in doc["lines"] if x["status"] == COMPLETED]
    attention = None
    if doc["status"] == DRAFT and doc.get("line_count"):
        attention = (
            f"申請ボタンが押されていません。技能者{doc['line_count']}名の申請は未完了です。"
            "内容を確認して「申請」を押してください"
        )
    return {
        "application_id": doc["_id"],
        "employer_id": doc["employer_id"],
        "status": doc["status"],
        "status_ja": STATUS_JA[doc["status"]],
        "created_at": _iso(doc["created_at"]),
        "updated_at": _iso(doc["updated_at"]),
        "submitted_at": _iso(submission.get("submitted_at")),
        "application_date": submission.get("application_date"),
        "line_count": len(doc["lines"]),
        "fee_total_yen": fee_total(doc, fee_per_line),
        "approved_count": decided.count("approved"),
        "rejected_count": decided.count("rejected"),
        "attention_ja": attention,
        "last_reminded_at": _iso(doc.get("last_reminded_at")),
    }


def submitted_response(doc: Doc) -> Doc:
    """The answer the submission gave (documents written before kept it nested)."""
    submission = doc["submission"]
    if "response_json" in submission:
        answer: Doc = json.loads(submission["response_json"])
        return answer
    nested: Doc = submission["response"]
    return nested


def detail(doc: Doc, fee_per_line: int | None = None) -> Doc:
    submission = doc.get("submission")
    withdrawal = doc.get("withdrawal")
    return {
        **summary(doc, fee_per_line),
        "delivery_address": doc.get("delivery_address"),
        "delivery_address_ja": address.one_line(doc.get("delivery_address")),
        "declarations": dict(doc["declarations"]),
        "declarations_ja": dict(DECLARATIONS),
        "lines": [line_view(x, doc) for x in doc["lines"]],
        "fee_rule": (submission or {}).get("fee_rule"),
        "withdrawal": {k: _iso(v) for k, v in withdrawal.items()} if withdrawal else None,
        "completed_at": _iso(doc.get("completed_at")),
        "editable": doc["status"] == DRAFT,
        "withdrawable": doc["status"] == SUBMITTED
        and all(x["status"] == SUBMITTED for x in doc["lines"]),
    }
