"""再判定 (re-judgement): judge completed lines again with the current criteria master.

Pure functions, no I/O. An operator runs ``python -m judgement rejudge`` after a criteria
correction; it selects completed lines and publishes ``RejudgementRequested`` events that
carry each line's input (the application line and the CCUS snapshot the judgement cited)
and the line's current judgement (its sequence). The judgement service judges each line
again and stores the result as a **new judgement** of the same line (``J-<line>-<run>``,
the next sequence) in ``rejudgements`` under ``<line>#<sequence>``: the unique ``_id`` lets
one judgement take each place of a line, whatever runs race. The original judgement
document stays as it was; :mod:`judgement.core.current` tells the line's current judgement.
See docs/judgement.md "Re-judgement".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from judgement.core import judging
from judgement.core.engine import CcusInput, evaluate_ccus
from judgement.core.errors import CriteriaNotAvailable, UnknownTrade
from judgement.core.lines import JudgementLine, Rejudgement
from judgement.core.master import Master
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    CATALOGUE,
    RejudgementLine,
    RejudgementRequested,
)

# What the command reads of a judgement document (not the stored result).
SELECT_FIELDS = (
    "_id",
    "judgement_id",
    "application_id",
    "employer_id",
    "application_date",
    "trade",
    "status",
    "line",
    "snapshot_id",
    "review",
    "decision",
    "eligible_level",
)
SKIP_REASONS_JA = {
    "not_completed": "判定が完了していない明細（CCUSデータ待ち・審査待ち・取下げ）",
    "no_engine_result": "判定基準がなく判定できなかった明細（再申請が必要です）",
    "decided_by_evaluator": "審査員が判定した明細（審査員が個別に見直してください）",
    "already_rejudged_in_run": "この再判定で判定済みの明細（再開時）",
}


def skip_reason(status: str | None, snapshot_id: str | None, reviewed: bool) -> str | None:
    """Why a line's judgement is not re-judged, or ``None`` when it is (``status``,
    ``snapshot_id`` and whether an evaluator reviewed it: the bulk readers pass them from
    the raw projection they stream, :meth:`JudgementLine` holders from the model)."""
    if status != judging.COMPLETED:
        return "not_completed"
    if not snapshot_id:
        return "no_engine_result"
    if reviewed:
        return "decided_by_evaluator"
    return None


def rejudgement_id(line_id: str, sequence: int) -> str:
    """The stored re-judgement's ``_id``: one judgement per place of a line (the
    exactly-once key: a redelivered request, or a second run that raced for the same
    place, finds it taken)."""
    return f"{line_id}#{sequence}"


def new_judgement_id(line_id: str, run_id: str) -> str:
    return f"{judging.judgement_id(line_id)}-{run_id}"


def note_ja(reason: str) -> str:
    return f"判定基準の訂正に伴う再判定です（{reason}）"


def rejudge(
    item: RejudgementLine,
    record: CcusInput,
    request_event: RejudgementRequested,
    master: Master,
    now: datetime,
) -> tuple[Rejudgement, list[Envelope]]:
    """The new judgement of one line (to store) and its events to publish: JudgementCompleted
    v2 (stored with it) and the partners' view of it. ``record`` is the cited snapshot's
    CCUS data as the engine reads it: a ``CcusRecord`` or its compact form."""
    line = item.line
    run_id = request_event.run_id
    # the line's new judgement in the line's shape (judging.complete raises its events)
    base = JudgementLine.model_construct(
        id=item.line_id,
        version=0,
        sequence=item.previous_sequence + 1,
        supersedes=item.previous_judgement_id,
        previous_decision=item.previous_decision,
        previous_eligible_level=item.previous_eligible_level,
        rejudgement_run_id=run_id,
        rejudgement_reason=request_event.reason,
        judgement_id=new_judgement_id(item.line_id, run_id),
        application_id=item.application_id,
        employer_id=item.employer_id,
        worker_id=line.worker_id,
        worker_name=line.worker_name,
        trade=line.trade,
        evaluation_body=judging.evaluation_body(master, line.trade),
        application_date=item.application_date,
        requested_level=line.requested_level,
        line=line,
        status=judging.COMPLETED,
        review=None,
        result_json=None,
        criteria_version=None,
        judged_at=now,
    )
    note = note_ja(request_event.reason)
    certification = judging.certification(line)
    # the §5 request without its CCUS part (the snapshot it cites), as judging.judge stores it
    request = {
        "trade": line.trade,
        "requested_level": line.requested_level,
        "application_date": item.application_date.isoformat(),
        "career_certification": certification.model_dump(mode="json") if certification else None,
    }
    try:
        result = evaluate_ccus(
            record,
            master,
            trade=line.trade,
            requested_level=line.requested_level,
            application_date=item.application_date,
            career_certification=certification,
        )
    except (UnknownTrade, CriteriaNotAvailable) as exc:
        done, events = judging.complete(base, "rejected", 1, [exc.message_ja, note], now)
        request_json = None
    else:
        judged = base.model_copy(
            update={
                "result_json": result.model_dump_json(),
                "criteria_version": result.criteria_version,
            }
        )
        messages = [*judging.unmet_messages(result), note]
        done, events = judging.complete(
            judged, result.decision, result.eligible_level, messages, now
        )
        request_json = _json(request)
    envelope = events[0]  # JudgementCompleted v2; its partner view is derived from it
    return stored_form(done, item, request_event, master, envelope, request_json), events


def stored_form(
    done: JudgementLine,
    item: RejudgementLine,
    request_event: RejudgementRequested,
    master: Master,
    envelope: Envelope,
    request_json: str | None,
) -> Rejudgement:
    """The stored re-judgement: flat fields to find it by, the nested parts as JSON text.

    Written once and read whole (never updated), so the request, result and event are kept
    as strings: on FerretDB a document of a few flat fields inserts several times faster
    than one with the ~10 nested criteria twice over (bench/bulk_rejudgement.py).
    """
    assert done.sequence is not None and done.supersedes is not None
    assert done.decision is not None and done.eligible_level is not None
    assert done.judged_at is not None and done.completed_at is not None
    return Rejudgement(
        id=rejudgement_id(item.line_id, done.sequence),
        line_id=item.line_id,
        run_id=request_event.run_id,
        previous_judgement_id=item.previous_judgement_id,
        snapshot_id=item.snapshot_id,
        master_version=master.version,
        reason=request_event.reason,
        requested_by=request_event.requested_by,
        requested_at=request_event.requested_at,
        judgement_id=done.judgement_id,
        sequence=done.sequence,
        supersedes=done.supersedes,
        previous_decision=done.previous_decision,
        previous_eligible_level=done.previous_eligible_level,
        evaluation_body=done.evaluation_body,
        application_id=done.application_id,
        employer_id=done.employer_id,
        worker_id=done.worker_id,
        worker_name=done.worker_name,
        trade=done.trade,
        application_date=done.application_date,
        requested_level=done.requested_level,
        status=done.status,
        decision=done.decision,
        eligible_level=done.eligible_level,
        messages=done.messages or [],
        criteria_version=done.criteria_version,
        judged_at=done.judged_at,
        completed_at=done.completed_at,
        request_json=request_json,
        result_json=done.result_json,
        event_json=_json(envelope.to_document()),
    )


def stored_document(rejudgement: Rejudgement) -> dict[str, Any]:
    """The document of a new re-judgement for a bulk insert (the model built once, dumped
    once: ``insert_many`` sets its version)."""
    doc = rejudgement.model_dump(by_alias=True)
    del doc["version"]
    if doc["criteria_version"] is None:  # refused: stored without one, as before
        del doc["criteria_version"]
    return doc


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stored_events(event_json: str) -> list[Envelope]:
    """The events of a stored re-judgement (its ``event_json``), to publish again with the
    same ids: its JudgementCompleted v2 and the partners' view derived from it."""
    completed = CATALOGUE.from_document(json.loads(event_json))
    return [completed, judging.partner_view(completed)]
