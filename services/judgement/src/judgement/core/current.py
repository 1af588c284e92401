"""A line's judgements and its current one: pure functions, no I/O.

A line's first judgement lives in its judgement document (``judgements``, ``_id`` = the
line id, sequence 1), which also carries the line's life before it (CCUSデータ待ち, 審査待ち).
Each re-judgement (再判定) is an immutable document of ``rejudgements`` (``_id`` =
``<line>#<sequence>``, sequence 2, 3 …). The line's **current** judgement is the one with
the highest sequence, never the latest by wall clock. Readers get both through
:class:`judgement.core.service.JudgementService` (``current``, ``current_of``), which merges
them here: no reader has to know there are two places.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from judgement.core import judging
from judgement.core.lines import HistoryEntry, JudgementSummary, RejudgementSummary

S = TypeVar("S", bound=JudgementSummary)
R = TypeVar("R", bound=RejudgementSummary)

NOT_MERGED = frozenset(
    {"id", "version", "line_id", "run_id", "reason", "request_json", "event_json"}
)
"""What of a re-judgement is not part of the line's current judgement (its own keys, its
run under other names, the parts only its detail shows)."""


def sequence_of(doc: JudgementSummary | RejudgementSummary) -> int:
    """A judgement's place among its line's judgements (a line document's is 1)."""
    return doc.sequence or 1


def latest_by_line(rejudgements: Iterable[R]) -> dict[str, R]:
    """The newest stored re-judgement of each line (highest sequence)."""
    latest: dict[str, R] = {}
    for doc in rejudgements:
        held = latest.get(doc.line_id)
        if held is None or doc.sequence > held.sequence:
            latest[doc.line_id] = doc
    return latest


def merged(line: S, rejudgement: RejudgementSummary | None) -> S:
    """The line's current judgement, of the line's shape.

    Without a re-judgement that is the line's judgement itself (sequence 1). With one, the
    line's own fields (the application line, the evaluation body …) and the re-judgement's
    result: its ids, decision, level, messages, criteria, request and run; never the
    line's review (the re-judgement is the engine's).
    """
    if rejudgement is None:
        return line.model_copy(update={"sequence": sequence_of(line)})
    update: dict[str, Any] = {
        name: getattr(rejudgement, name)
        for name in type(rejudgement).model_fields
        if name not in NOT_MERGED
    }
    if update.get("criteria_version") is None:  # refused (no criteria): the line's stays
        del update["criteria_version"]
    update.update(
        rejudgement_run_id=rejudgement.run_id,
        rejudgement_reason=rejudgement.reason,
        status=judging.COMPLETED,
        review=None,
    )
    if "request" in type(line).model_fields:
        request_json = getattr(rejudgement, "request_json", None)
        update["request"] = json.loads(request_json) if request_json else None
    return line.model_copy(update=update)


def history_entry(doc: JudgementSummary | RejudgementSummary) -> HistoryEntry:
    """One judgement of a line as the history lists it (line document or re-judgement)."""
    run_id: str | None
    reason: str | None
    requested_by: str | None
    if isinstance(doc, RejudgementSummary):
        run_id, reason, requested_by = doc.run_id, doc.reason, doc.requested_by
    else:
        run_id, reason, requested_by = (
            doc.rejudgement_run_id,
            doc.rejudgement_reason,
            doc.requested_by,
        )
    return HistoryEntry(
        sequence=sequence_of(doc),
        judgement_id=doc.judgement_id,
        decision=doc.decision,
        eligible_level=doc.eligible_level,
        criteria_version=doc.criteria_version,
        judged_at=doc.judged_at.isoformat() if doc.judged_at else None,
        rejudgement_run_id=run_id,
        rejudgement_reason=reason,
        requested_by=requested_by,
        supersedes=doc.supersedes,
    )


def history(
    line: JudgementSummary, rejudgements: Iterable[RejudgementSummary]
) -> list[HistoryEntry]:
    """Every completed judgement of a line, oldest first; the last one is the current."""
    if line.status != judging.COMPLETED:
        return []
    entries = [history_entry(line), *(history_entry(d) for d in rejudgements)]
    return sorted(entries, key=lambda e: e.sequence)
