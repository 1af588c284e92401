"""The 再判定 digest behind the 「レベル判定結果が更新されました」 mail. Pure functions.

One document per (re-judgement run, employer), ``_id`` ``<run_id>:<employer_id>``, fed by

* RejudgementPlanned (the run's lines of this employer; a resumed run sends its plan again
  and a large plan comes in parts: the expected set is the union), and
* JudgementCompletedV2 with ``sequence`` > 1 (one re-judged line, before or after the plan:
  they travel under different keys, so on different partitions).

Each line is kept once under its line id (a redelivered or republished judgement changes
nothing). The mail is decided once, inside the write that completes the picture:

* **complete**: the plan is known and every planned line has arrived → decided at once;
* **waited** (:func:`waited`, run by the sweep): nothing new arrived for the configured
  wait while the service was listening → decided with the lines there are (a plan that
  never came, planned lines the run skipped or could not judge).

After the decision the digest is frozen: a line arriving later is kept in ``late`` (and
logged by the service), never mailed. A digest with a plan but no line yet waits without a
deadline (nothing changed for the employer yet, and its lines may come late in a long run).

Lines are stored as compact JSON texts (one string each): FerretDB 1.24 spends its time per
nested element, and the digest is rewritten whole for every line of the run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from notification.core.applications import taken
from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import JudgementCompletedV2, RejudgementPlanned

Outcome = tuple["Digest", list[Envelope]]

DigestStatus = Literal["planned", "open", "decided", "mailed"]
PLANNED: DigestStatus = "planned"  # the plan only: no line yet (the sweep leaves it alone)
OPEN: DigestStatus = "open"  # lines arrived, the mail is not decided yet
DECIDED: DigestStatus = "decided"  # the mail is decided; its mails may not be recorded yet
MAILED: DigestStatus = "mailed"  # the mails are recorded (one per recipient)
COMPLETE = "complete"
WAITED = "waited"


@dataclass(frozen=True)
class Arrival:
    """The event being applied (what a decision it takes records as its trigger)."""

    event_id: str
    event_type: str
    correlation_id: str | None
    at: datetime


class RejudgedLine(BaseModel):
    """One re-judged line as the mail shows it (stored as a compact JSON text)."""

    line_id: str
    application_id: str
    judgement_id: str
    sequence: int
    worker_id: str
    worker_name: str
    trade: str
    requested_level: int
    decision: str
    eligible_level: int
    previous_decision: str | None = None
    previous_eligible_level: int | None = None
    judged_at: str


class LastEvent(BaseModel):
    event_id: str
    event_type: str
    correlation_id: str | None = None


class Decision(LastEvent):
    """The update mail's decision: its trigger, when, why, and the lines it lists."""

    at: datetime
    cause: str
    line_ids: list[str]


class Digest(Aggregate):
    """One re-judgement run's lines of one employer (``_id``: :func:`digest_id`)."""

    run_id: str
    employer_id: str
    reason: str | None = None
    planned: list[str] = Field(default_factory=list)
    lines: list[str] = Field(default_factory=list)
    late: list[str] = Field(default_factory=list)
    status: DigestStatus = PLANNED
    created_at: datetime
    last_arrival_at: datetime
    last_event: LastEvent | None = None
    decision: Decision | None = None
    mailed_at: datetime | None = None


def digest_id(run_id: str, employer_id: str) -> str:
    return f"{run_id}:{employer_id}"


def run_of(event: JudgementCompletedV2) -> str:
    """The run a re-judgement belongs to; one made outside a run is a run of its own."""
    return event.rejudgement_run_id or event.judgement_id


def blank(run_id: str, employer_id: str, now: datetime) -> Digest:
    return Digest(
        id=digest_id(run_id, employer_id),
        run_id=run_id,
        employer_id=employer_id,
        created_at=now,
        last_arrival_at=now,
    )


def line_entry(event: JudgementCompletedV2) -> RejudgedLine:
    """What the mail needs of one re-judged line."""
    return taken(RejudgedLine, event, judged_at=event.judged_at.isoformat())


def entries(doc: Digest) -> list[RejudgedLine]:
    """The stored lines, in arrival order."""
    return [RejudgedLine.model_validate(json.loads(text)) for text in doc.lines]


def _text(entry: RejudgedLine) -> str:
    return json.dumps(entry.model_dump(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def planned(event: RejudgementPlanned, arrival: Arrival, doc: Digest | None) -> Outcome | None:
    """A plan (or a part of it, or the plan of a resumed run) adds to the expected lines."""
    base = doc or blank(event.run_id, event.employer_id, arrival.at)
    if base.decision is not None:
        return None  # decided already (a plan that came after the wait): nothing to do
    expected = sorted({*base.planned, *event.line_ids})
    if expected == base.planned:
        return None  # the same plan again
    new = base.model_copy(
        update={
            "planned": expected,
            "reason": base.reason or event.reason,
            "last_arrival_at": arrival.at,
            "last_event": _event(arrival),
        }
    )
    return _decide_if_complete(new, arrival), []


def rejudged(event: JudgementCompletedV2, arrival: Arrival, doc: Digest | None) -> Outcome | None:
    """One re-judged line (``sequence`` > 1) of the run."""
    if event.sequence <= 1:
        return None  # a first judgement: the per-application mails (``applications``)
    base = doc or blank(run_of(event), event.employer_id, arrival.at)
    known = {e.line_id: e for e in entries(base)}
    if base.decision is not None:
        if event.line_id in known or event.line_id in base.late:
            return None
        return base.model_copy(update={"late": [*base.late, event.line_id]}), []  # never mailed
    earlier = known.get(event.line_id)
    if earlier is not None and earlier.sequence >= event.sequence:
        return None  # the same judgement again (redelivered, republished)
    entry = _text(line_entry(event))
    kept = [t for t, e in zip(base.lines, entries(base), strict=True) if e.line_id != event.line_id]
    lines = [*kept, entry]
    expected = base.planned
    if event.rejudgement_run_id is None:
        expected = sorted({*expected, event.line_id})  # a run of one line: complete at once
    new = base.model_copy(
        update={
            "lines": lines,
            "planned": expected,
            "reason": base.reason or event.rejudgement_reason,
            "status": OPEN,
            "last_arrival_at": arrival.at,
            "last_event": _event(arrival),
        }
    )
    return _decide_if_complete(new, arrival), []


def is_late(doc: Digest, line_id: str) -> bool:
    """The line arrived after the mail was decided (kept, not mailed)."""
    return line_id in doc.late


def is_due(doc: Digest, now: datetime, wait: timedelta, listening_since: datetime) -> bool:
    """Nothing new arrived for ``wait`` while the service was listening.

    ``listening_since`` (when this process started) keeps a restart from deciding with
    what arrived before an outage: the events that came meanwhile are read first.
    """
    if doc.status != OPEN:
        return False
    quiet_since = max(doc.last_arrival_at, listening_since)
    return bool(now - quiet_since >= wait)


def waited(
    doc: Digest | None, *, now: datetime, wait: timedelta, listening_since: datetime
) -> Outcome | None:
    """The fallback: decide with the lines that arrived (the sweep; taken at most once)."""
    if doc is None or not is_due(doc, now, wait, listening_since):
        return None
    last = doc.last_event
    trigger = Arrival(
        event_id=(last.event_id if last else None) or doc.run_id,
        event_type=(last.event_type if last else None) or "",
        correlation_id=last.correlation_id if last else None,
        at=now,
    )
    return _decided(doc, trigger, WAITED), []


def mailed(doc: Digest | None, *, now: datetime) -> Outcome | None:
    """The decided mails are recorded (the sweep no longer looks at the digest)."""
    if doc is None or doc.status != DECIDED:
        return None
    return doc.model_copy(update={"status": MAILED, "mailed_at": now}), []


def decided_lines(doc: Digest) -> list[RejudgedLine]:
    """The lines the decided mail lists, by application and line (the same every time)."""
    if doc.decision is None:
        return []
    chosen = set(doc.decision.line_ids)
    picked = [e for e in entries(doc) if e.line_id in chosen]
    return sorted(picked, key=lambda e: (e.application_id, e.line_id))


def changed(entry: RejudgedLine) -> bool | None:
    """Whether the re-judgement changed the result (``None``: the previous one is unknown)."""
    before = (entry.previous_decision, entry.previous_eligible_level)
    if None in before:
        return None
    return before != (entry.decision, entry.eligible_level)


def _decide_if_complete(doc: Digest, arrival: Arrival) -> Digest:
    arrived = {e.line_id for e in entries(doc)}
    if doc.planned and arrived and set(doc.planned) <= arrived:
        return _decided(doc, arrival, COMPLETE)
    return doc


def _decided(doc: Digest, trigger: Arrival, cause: str) -> Digest:
    decision = Decision(**asdict(trigger), cause=cause, line_ids=[e.line_id for e in entries(doc)])
    return doc.model_copy(update={"status": DECIDED, "decision": decision})


def _event(arrival: Arrival) -> LastEvent:
    return LastEvent.model_validate(arrival, from_attributes=True)
