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
from datetime import datetime

from judgement.core import judging
from judgement.core.judging import Doc

REJUDGEMENT_SUMMARY = {"request_json": 0, "event_json": 0}
"""What a list leaves out of a stored re-judgement (the parts only the detail shows)."""
LINE_ONLY = frozenset({"review", judging.RESULT_JSON, "request", "snapshot_id"})
"""What of a line document belongs to its first judgement only (replaced, not merged)."""

HISTORY_FIELDS = (
    "sequence",
    "judgement_id",
    "decision",
    "eligible_level",
    "criteria_version",
    "judged_at",
    "rejudgement_run_id",
    "rejudgement_reason",
    "requested_by",
    "supersedes",
)


def sequence_of(doc: Doc) -> int:
    """A judgement's place among its line's judgements (a line document's is 1)."""
    return int(doc.get("sequence") or 1)


def latest_by_line(rejudgements: Iterable[Doc]) -> dict[str, Doc]:
    """The newest stored re-judgement of each line (highest sequence)."""
    latest: dict[str, Doc] = {}
    for doc in rejudgements:
        held = latest.get(doc["line_id"])
        if held is None or sequence_of(doc) > sequence_of(held):
            latest[doc["line_id"]] = doc
    return latest


def merged(line: Doc, rejudgement: Doc | None) -> Doc:
    """The line's current judgement as one document of the line's shape.

    Without a re-judgement that is the line document itself (sequence 1). With one, the
    line's own fields (the application line, the evaluation body …) and the re-judgement's
    result: its ids, decision, level, messages, criteria, request and run.
    """
    if rejudgement is None:
        return {**line, "sequence": sequence_of(line)}
    result = {
        key: value
        for key, value in rejudgement.items()
        if key not in ("_id", "line_id", "run_id", "reason", "request_json", "event_json")
        and not key.startswith("_")
        and key != "version"
    }
    current: Doc = {
        **{k: v for k, v in line.items() if k not in LINE_ONLY},
        **result,
        "rejudgement_run_id": rejudgement.get("run_id"),
        "rejudgement_reason": rejudgement.get("reason"),
        "status": judging.COMPLETED,
    }
    if rejudgement.get("request_json"):
        current["request"] = json.loads(rejudgement["request_json"])
    return current


def history_entry(doc: Doc) -> Doc:
    """One judgement of a line as the history lists it (line document or re-judgement)."""
    entry = {name: doc.get(name) for name in HISTORY_FIELDS}
    entry["sequence"] = sequence_of(doc)
    entry["rejudgement_run_id"] = doc.get("rejudgement_run_id") or doc.get("run_id")
    entry["rejudgement_reason"] = doc.get("rejudgement_reason") or doc.get("reason")
    judged = entry["judged_at"]
    if isinstance(judged, datetime):
        entry["judged_at"] = judged.isoformat()
    return entry


def history(line: Doc, rejudgements: Iterable[Doc]) -> list[Doc]:
    """Every completed judgement of a line, oldest first; the last one is the current."""
    if line.get("status") != judging.COMPLETED:
        return []
    entries = [history_entry(line), *(history_entry(d) for d in rejudgements)]
    return sorted(entries, key=lambda e: int(e["sequence"]))
