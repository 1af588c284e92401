"""The life of one application line's judgement: pure functions, no I/O.

A line arrives with ApplicationSubmitted and becomes a judgement document (``_id`` = the
line id). It is judged against the worker's latest CCUS snapshot as soon as there is one
(CCUSデータ待ち until then, rejected after the waiting time); the review policy decides
whether the result goes to an evaluator (審査待ち) before JudgementCompleted is emitted.
Every function returns the new document and the events it raises.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, TypedDict

from judgement.core import compact
from judgement.core.compact import CompactCcus, CompactFormatError
from judgement.core.engine import evaluate
from judgement.core.errors import CriteriaNotAvailable, ReviewRefused, UnknownTrade
from judgement.core.lines import Decision, JudgementLine, JudgementSummary, Review
from judgement.core.master import Master
from judgement.core.models import (
    CareerCertification,
    CcusRecord,
    EvaluationRequest,
    EvaluationResult,
    YearsMonths,
)
from judgement.core.workers import LatestSnapshot
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    CcusWorkerSnapshot,
    JudgementCompletedV2,
    JudgementStarted,
    PartnerJudgementCompleted,
)

SOURCE = "judgement"
WAITING: Final = "waiting_ccus"
IN_REVIEW: Final = "in_review"
COMPLETED: Final = "completed"
WITHDRAWN: Final = "withdrawn"
STATUS_JA = {
    WAITING: "CCUSデータ待ち",
    IN_REVIEW: "審査待ち",
    COMPLETED: "判定完了",
    WITHDRAWN: "取下げ",
}
DECISION_JA = {"approved": "承認", "rejected": "不承認"}

ReviewPolicy = Literal["auto", "review_when_warnings", "review_all"]


class StoredSnapshot(TypedDict, total=False):
    """A stored CCUS snapshot version (``ccus_snapshots``): an immutable record, written once
    (:func:`snapshot_version_doc`) and never changed, so no version and no outbox. Typed as
    a TypedDict rather than an ``Aggregate`` model on purpose: the bulk readers (re-judgement,
    the impact preview: 100,000 snapshots) read it by projection (only ``ccus_json``, or only
    the compact form) and must not validate what they do not read (docs/architecture.md)."""

    _id: str
    worker_id: str
    taken_at: datetime
    ccus_json: str
    ccus_compact: str


Outcome = tuple[JudgementLine, list[Envelope]]


RESULT_JSON = "result_json"
"""The engine's result, stored as JSON text: FerretDB 1.24 spends its time per nested
element, and the result is ~100 of them (a judgement document is read 2.4x faster and
written 1.9x faster with the result as text; bench/README.md). Documents written before
with a nested ``result`` are rewritten by the migration ``0001-judgement-result-json``
(``judgement.adapters.outbound.migrations.result_as_text``)."""


def result_of(doc: JudgementSummary) -> dict[str, Any] | None:
    """The stored engine result of a judgement (``None`` before judging)."""
    return doc.result()


def readable(doc: JudgementSummary) -> dict[str, Any]:
    """The judgement as an answer shows it: its document with the result as a nested
    object again (the storage's bookkeeping fields are never in the model)."""
    shown = doc.to_document()
    if RESULT_JSON in shown:
        del shown[RESULT_JSON]
        shown["result"] = doc.result()
    return shown


def judgement_id(line_id: str) -> str:
    return f"J-{line_id}"


def evaluation_body(master: Master, trade: str) -> str:
    try:
        return master.trade(trade).bodies_ja()
    except UnknownTrade:
        return "未登録"


def received(
    event: ApplicationSubmitted,
    line: ApplicationLine,
    now: datetime,
    wait_days: int,
    master: Master,
) -> JudgementLine:
    """A new judgement of one line, waiting for its CCUS data."""
    return JudgementLine(
        id=line.line_id,
        evaluation_body=evaluation_body(master, line.trade),
        judgement_id=judgement_id(line.line_id),
        application_id=event.application_id,
        employer_id=event.employer_id,
        application_date=event.application_date,
        worker_id=line.worker_id,
        worker_name=line.worker_name,
        trade=line.trade,
        requested_level=line.requested_level,
        line=line,
        status=WAITING,
        received_at=now,
        deadline=now + timedelta(days=wait_days),
    )


def snapshot_record(snapshot: CcusWorkerSnapshot) -> dict[str, Any]:
    """The §5 ``ccus`` part of a request, from a CCUS snapshot."""
    return {
        "worker_id": snapshot.worker_id,
        "registration_type": snapshot.registration_type,
        "registered_on": snapshot.registered_on.isoformat(),
        "qualifications": [q.model_dump(mode="json") for q in snapshot.qualifications],
        "work_history": [
            {
                "date": r.date.isoformat(),
                "site_id": r.site_id,
                "role": r.role,
                "occupation": r.occupation_code,
            }
            for r in snapshot.work_history
        ],
    }


def certification(line: ApplicationLine) -> CareerCertification | None:
    """The employer's 経歴証明 of the line (none when no period was declared)."""
    if line.career_start is None or line.career_end is None:
        return None
    return CareerCertification(
        start=line.career_start,
        end=line.career_end,
        foreman=YearsMonths(years=line.foreman_months // 12, months=line.foreman_months % 12),
        leader=YearsMonths(years=line.leader_months // 12, months=line.leader_months % 12),
    )


@dataclass(frozen=True)
class Ccus:
    """A worker's CCUS data as the engine reads it, with the snapshot it came from."""

    snapshot_id: str
    record: CcusRecord


def snapshot_id(snapshot: CcusWorkerSnapshot) -> str:
    return f"{snapshot.worker_id}@{snapshot.taken_at.isoformat()}"


def request_for(doc: JudgementLine, record: CcusRecord) -> EvaluationRequest:
    """The §5 request of a line: its declared career plus the worker's CCUS record."""
    line = doc.line
    return EvaluationRequest(
        trade=line.trade,
        requested_level=line.requested_level,
        application_date=doc.application_date,
        ccus=record,
        career_certification=certification(line),
    )


def reproduce(doc: JudgementLine, record: CcusRecord, master: Master) -> EvaluationResult:
    """Judge a stored judgement's input again (with the snapshot it referenced)."""
    return evaluate(request_for(doc, record), master)


def needs_review(result: EvaluationResult, policy: ReviewPolicy) -> bool:
    if policy == "review_all":
        return True
    return policy == "review_when_warnings" and bool(result.warnings)


def judge(
    doc: JudgementLine, ccus: Ccus, master: Master, policy: ReviewPolicy, now: datetime
) -> Outcome:
    """Judge a waiting line against the snapshot; complete it or send it to review.

    JudgementStarted is raised first: from then on the application cannot be withdrawn.
    """
    started = Envelope(
        JudgementStarted(
            judgement_id=doc.judgement_id,
            application_id=doc.application_id,
            line_id=doc.id,
            employer_id=doc.employer_id,
            worker_id=doc.worker_id,
            started_at=now,
        ),
        source=SOURCE,
    )
    try:
        request = request_for(doc, ccus.record)
        result = evaluate(request, master)
    except (UnknownTrade, CriteriaNotAvailable) as exc:
        done, events = refuse(doc, exc.message_ja, now)
        return done, [started, *events]
    judged = doc.model_copy(
        update={
            # the input without the CCUS part, which is the immutable snapshot it references
            "request": request.model_dump(mode="json", exclude={"ccus"}),
            "snapshot_id": ccus.snapshot_id,
            "result_json": result.model_dump_json(),
            "criteria_version": result.criteria_version,
            "master_version": master.version,
            "judged_at": now,
        }
    )
    if needs_review(result, policy):
        return judged.model_copy(update={"status": IN_REVIEW}), [started]
    done, events = complete(
        judged, result.decision, result.eligible_level, unmet_messages(result), now
    )
    return done, [started, *events]


def withdraw(doc: JudgementLine, now: datetime) -> Outcome | None:
    """A line not yet started is dropped when its application is withdrawn (取下げ)."""
    if doc.status != WAITING:
        return None  # judging has started: the withdrawal came too late for this line
    return doc.model_copy(update={"status": WITHDRAWN, "withdrawn_at": now}), []


def unmet_messages(result: EvaluationResult) -> list[str]:
    """What is missing for the requested level (higher levels' shortfalls are not news)."""
    return [
        c.message_ja
        for c in result.criteria
        if not c.met and c.message_ja and c.level <= result.requested_level
    ]


def refuse(doc: JudgementLine, message_ja: str, now: datetime) -> Outcome:
    """Complete a line that cannot be judged at all (no criteria, no CCUS data in time)."""
    return complete(doc.model_copy(update={"judged_at": now}), "rejected", 1, [message_ja], now)


def expire(doc: JudgementLine, now: datetime) -> Outcome | None:
    """A line still waiting for CCUS data after its deadline is rejected with the reason."""
    if doc.status != WAITING or doc.deadline is None or now < doc.deadline:
        return None
    days = (doc.deadline - doc.received_at).days if doc.received_at else 0
    return refuse(
        doc,
        f"CCUSの技能者データを受信できなかったため判定できませんでした（{days}日経過）。"
        "CCUSへの技能者登録内容をご確認のうえ、再度申請してください",
        now,
    )


def complete(
    doc: JudgementLine, decision: Decision, eligible_level: int, messages: list[str], now: datetime
) -> Outcome:
    done = doc.model_copy(
        update={
            "status": COMPLETED,
            "decision": decision,
            "eligible_level": eligible_level,
            "messages": messages,
            "completed_at": now,
        }
    )
    result = done.result() or {}
    event = JudgementCompletedV2(
        judgement_id=done.judgement_id,
        application_id=done.application_id,
        line_id=done.id,
        employer_id=done.employer_id,
        worker_id=done.worker_id,
        worker_name=done.worker_name,
        trade=done.trade,
        evaluation_body=done.evaluation_body,
        application_date=done.application_date,
        requested_level=done.requested_level,
        decision=decision,
        eligible_level=eligible_level,
        criteria_version=done.criteria_version or f"{done.trade}@未登録",
        messages=messages,
        days=result.get("days"),
        foreman_days=result.get("foreman_days"),
        criteria=result.get("criteria", []),
        reconciliation=result.get("reconciliation", []),
        warnings=[w["message_ja"] for w in result.get("warnings", [])],
        reviewed_by=done.review.reviewer if done.review else None,
        judged_at=now,
        sequence=done.place,
        supersedes=done.supersedes,
        previous_decision=done.previous_decision,
        previous_eligible_level=done.previous_eligible_level,
        rejudgement_run_id=done.rejudgement_run_id,
        rejudgement_reason=done.rejudgement_reason,
    )
    completed = Envelope(event, source=SOURCE)
    return done, [completed, partner_view(completed)]


PARTNER_FIELDS = frozenset(PartnerJudgementCompleted.model_fields)


def partner_view(completed: Envelope) -> Envelope:
    """The partners' PartnerJudgementCompleted of a JudgementCompleted v2 (docs/events.md).

    Derived, never stored: its ``ce_id`` is a UUIDv5 of the internal event's, so the pair
    republished after a crash or for a redelivered request has the same two ids.
    """
    event = completed.event
    assert isinstance(event, JudgementCompletedV2)
    return Envelope(
        PartnerJudgementCompleted.model_validate(
            {name: getattr(event, name) for name in PARTNER_FIELDS}
        ),
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"partner:{completed.id}")),
        source=completed.source,
        time=completed.time,
        correlation_id=completed.correlation_id,
    )


def review(
    doc: JudgementLine,
    *,
    reviewer: str,
    action: Literal["confirm", "override"],
    reason: str | None,
    eligible_level: int | None,
    now: datetime,
) -> Outcome:
    """An evaluator confirms the engine's result or overrides it (with a reason)."""
    if doc.status != IN_REVIEW:
        raise ReviewRefused("not_in_review", "この判定は審査待ちではありません。")
    result = EvaluationResult.model_validate(doc.result())
    if action == "confirm":
        decision: Decision = result.decision
        level = result.eligible_level
    else:
        if not reason or not reason.strip():
            raise ReviewRefused("reason_required", "判定を変更する場合は理由を入力してください。")
        if eligible_level is None or not 1 <= eligible_level <= 4:
            raise ReviewRefused("level_required", "変更後のレベル（1〜4）を指定してください。")
        level = eligible_level
        decision = "approved" if level >= doc.requested_level else "rejected"
    messages = unmet_messages(result) if decision == "rejected" else []
    if reason:
        messages = [*messages, f"審査員所見：{reason.strip()}"]
    reviewed = doc.model_copy(
        update={
            "review": Review(
                reviewer=reviewer,
                action=action,
                reason=reason,
                engine_decision=result.decision,
                engine_eligible_level=result.eligible_level,
                at=now,
            )
        }
    )
    return complete(reviewed, decision, level, messages, now)


CCUS_COMPACT: Final = "ccus_compact"
"""The compact form of a stored snapshot (``judgement.core.compact``, format version 1):
what the engine reads, decoded in a few µs where the §5 JSON takes ≈ 7 ms per 3,000
records to validate. Written beside ``ccus_json`` since 2026-12; see :func:`stored_compact`
for snapshots stored before."""


def snapshot_compact(snapshot: CcusWorkerSnapshot) -> CompactCcus:
    """The compact form of a snapshot's CCUS data (the same data as its §5 ``ccus`` part)."""
    return compact.from_parts(
        snapshot.registration_type,
        snapshot.registered_on,
        ((q.code, q.name, q.acquired_on) for q in snapshot.qualifications),
        ((r.date, r.role, r.occupation_code) for r in snapshot.work_history),
    )


def snapshot_version_doc(snapshot: CcusWorkerSnapshot) -> StoredSnapshot:
    """An immutable copy of one snapshot: what judgements reference to be reproducible.

    The §5 ``ccus`` part is stored as one JSON string (``ccus_json``): it is only ever read
    whole, and on FerretDB one string is ~3x cheaper to insert and ~10x cheaper to read
    back than a hundred nested work records (bench/bulk_rejudgement.py). It is the record
    of what was received. Beside it, ``ccus_compact`` (:data:`CCUS_COMPACT`) is what the
    engine judges from without parsing the records (:func:`stored_compact`).
    """
    return {
        "_id": snapshot_id(snapshot),
        "worker_id": snapshot.worker_id,
        "taken_at": snapshot.taken_at,
        "ccus_json": json.dumps(
            snapshot_record(snapshot), ensure_ascii=False, separators=(",", ":")
        ),
        CCUS_COMPACT: compact.encode(snapshot_compact(snapshot)),
    }


def stored_ccus_json(stored: StoredSnapshot) -> str:
    """A stored snapshot's §5 ``ccus`` part as JSON."""
    return str(stored["ccus_json"])


def stored_record(stored: StoredSnapshot) -> CcusRecord:
    """The CCUS record of a stored snapshot."""
    return CcusRecord.model_validate_json(stored["ccus_json"])


def _plain(value: Any) -> str:
    """A date the database gave back (a datetime at midnight) as the §5 text of a date."""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def snapshot_as_text(stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stored snapshot of the first format (a nested ``ccus``, before 2026-12) in the
    current one (``ccus_json`` and its compact form); ``None`` when it is current already
    (the change of the migration ``0002-snapshot-ccus-json``)."""
    if "ccus" not in stored:
        return None
    rest = {k: v for k, v in stored.items() if k != "ccus"}
    text = json.dumps(stored["ccus"], ensure_ascii=False, separators=(",", ":"), default=_plain)
    rest.setdefault("ccus_json", text)
    rest.setdefault(CCUS_COMPACT, compact.encode(compact.from_ccus_json(rest["ccus_json"])))
    return rest


def stored_compact(stored: StoredSnapshot) -> CompactCcus:
    """The compact form of a stored snapshot, whatever its age.

    Snapshots are immutable: one stored before the compact form existed (no
    ``ccus_compact``), or with a compact form of a version this code does not read, is
    converted on read from its §5 JSON (:func:`judgement.core.compact.from_ccus_json`,
    the same result). Bulk readers
    keep the converted form elsewhere rather than converting every time: the latest
    snapshot of every worker is mirrored in ``ccus_compact`` (``judgement.impact.snapshots``,
    whose backfill migrates the workers whose latest snapshot predates the form).
    """
    text = stored.get(CCUS_COMPACT)
    if text is not None:
        try:
            return compact.decode(text)
        except CompactFormatError:
            pass  # e.g. a later format version: the JSON is always there
    return compact.from_ccus_json(stored["ccus_json"])


def stored_compact_text(stored: StoredSnapshot) -> str:
    """The compact text of a stored snapshot (as stored, or converted: :func:`stored_compact`)."""
    text = stored.get(CCUS_COMPACT)
    if isinstance(text, str) and text.startswith(f'{{"v":{compact.FORMAT_VERSION},'):
        return text
    return compact.encode(stored_compact(stored))


def latest_snapshot(snapshot: CcusWorkerSnapshot) -> LatestSnapshot:
    """The pointer to a worker's newest snapshot, with the summary other services read."""
    return LatestSnapshot(
        id=snapshot.worker_id,
        taken_at=snapshot.taken_at,
        snapshot_id=snapshot_id(snapshot),
        summary=ccus_summary(snapshot),
    )


def ccus_summary(snapshot: CcusWorkerSnapshot) -> dict[str, Any]:
    """What other services need to know of a worker's CCUS record (no work history)."""
    dated = [q.acquired_on for q in snapshot.qualifications if q.acquired_on is not None]
    oldest: date | None = min(dated) if dated else None
    return {
        "worker_id": snapshot.worker_id,
        "name": snapshot.name,
        "name_kana": snapshot.name_kana,
        "birth_date": snapshot.birth_date.isoformat(),
        "registration_type": snapshot.registration_type,
        "registered_on": snapshot.registered_on.isoformat(),
        "oldest_qualification_on": oldest.isoformat() if oldest else None,
        "occupations": [o.model_dump() for o in snapshot.occupations],
        "qualifications": [q.model_dump(mode="json") for q in snapshot.qualifications],
        "work_days": len({r.date for r in snapshot.work_history}),
        "taken_at": snapshot.taken_at.isoformat(),
    }
