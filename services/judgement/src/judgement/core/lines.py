"""A line's judgements as typed models (pure).

* :class:`JudgementLine` (``judgements``, ``_id`` = the line id): the line's first judgement,
  with its life before it (CCUSデータ待ち, 審査待ち, 取下げ). :class:`JudgementSummary` is the
  same document without the application line and the request: what lists read (a
  projection), and the shape of a line's **current** judgement (``core/current.py``), which
  may carry a later judgement's fields (``sequence``, ``supersedes`` …; never stored in
  ``judgements``).
* :class:`Rejudgement` (``rejudgements``, ``_id`` = ``<line>#<sequence>``): a later judgement
  of a line, immutable, its nested parts kept as JSON text (``request_json``,
  ``result_json``, ``event_json``); :class:`RejudgementSummary` is what lists read of it.

The stored field names are the documents' (the bench, the migrations and the raw readers of
``judgement.rejudge.planning`` and ``judgement.impact.job`` read them). A field that is
``None`` is not stored (:meth:`JudgementSummary.to_document`): a waiting line has no
``decision``, as before the models.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer

from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.events.catalogue import ApplicationLine

Status = Literal["waiting_ccus", "in_review", "completed", "withdrawn"]
Decision = Literal["approved", "rejected"]

StoredLine = Annotated[
    ApplicationLine, PlainSerializer(lambda line: line.model_dump(mode="json"), return_type=dict)
]
"""The application line, stored as its JSON form (dates as text)."""


class Review(BaseModel):
    """An evaluator's review of a line (審査): confirmed or overridden, with the engine's own
    decision kept beside it."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str
    action: Literal["confirm", "override"]
    reason: str | None = None
    engine_decision: Decision
    engine_eligible_level: int
    at: datetime


class JudgementSummary(Aggregate):
    """A line's judgement without its application line and request (lists read this)."""

    judgement_id: str
    application_id: str
    employer_id: str
    application_date: StoredDate
    worker_id: str
    worker_name: str
    trade: str
    requested_level: int
    evaluation_body: str
    status: Status
    received_at: datetime | None = None
    deadline: datetime | None = None
    snapshot_id: str | None = None
    result_json: str | None = None
    criteria_version: str | None = None
    master_version: str | None = None
    judged_at: datetime | None = None
    decision: Decision | None = None
    eligible_level: int | None = None
    messages: list[str] | None = None
    completed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    review: Review | None = None
    # a later judgement's (re-judgement): in a line's current judgement only, never stored
    # in ``judgements`` (core/current.py merges them from the re-judgement)
    sequence: int | None = None
    supersedes: str | None = None
    previous_judgement_id: str | None = None
    previous_decision: Decision | None = None
    previous_eligible_level: int | None = None
    rejudgement_run_id: str | None = None
    rejudgement_reason: str | None = None
    requested_by: str | None = None
    requested_at: datetime | None = None

    @property
    def line_id(self) -> str:
        return self.id

    @property
    def place(self) -> int:
        """The judgement's place among its line's judgements (the first one's is 1)."""
        return self.sequence or 1

    def result(self) -> dict[str, Any] | None:
        """The engine's stored result (``None`` before judging or when refused)."""
        if self.result_json is None:
            return None
        parsed: dict[str, Any] = json.loads(self.result_json)
        return parsed

    def to_document(self) -> dict[str, Any]:
        doc = super().to_document()
        return {k: v for k, v in doc.items() if v is not None}


class JudgementLine(JudgementSummary):
    """A line's first judgement document (the aggregate of ``judgements``)."""

    line: StoredLine
    request: dict[str, Any] | None = None
    """The §5 request without its CCUS part (the snapshot it cites: ``snapshot_id``)."""


class RejudgementSummary(Aggregate):
    """A stored re-judgement without its request and event (lists read this)."""

    line_id: str
    run_id: str
    reason: str
    requested_by: str
    requested_at: datetime
    previous_judgement_id: str
    snapshot_id: str
    master_version: str
    judgement_id: str
    sequence: int
    supersedes: str
    previous_decision: Decision | None = None
    previous_eligible_level: int | None = None
    evaluation_body: str
    application_id: str
    employer_id: str
    worker_id: str
    worker_name: str
    trade: str
    application_date: StoredDate
    requested_level: int
    status: Status
    decision: Decision
    eligible_level: int
    messages: list[str]
    criteria_version: str | None = None
    judged_at: datetime
    completed_at: datetime
    result_json: str | None = None


class Rejudgement(RejudgementSummary):
    """A later judgement of a line (the aggregate of ``rejudgements``): written once."""

    request_json: str | None = None
    event_json: str
    """Its JudgementCompleted v2 (the envelope's document), republished with the same id."""


class HistoryEntry(BaseModel):
    """One completed judgement of a line as its history lists it."""

    sequence: int
    judgement_id: str
    decision: Decision | None = None
    eligible_level: int | None = None
    criteria_version: str | None = None
    judged_at: str | None = None
    rejudgement_run_id: str | None = None
    rejudgement_reason: str | None = None
    requested_by: str | None = None
    supersedes: str | None = None
