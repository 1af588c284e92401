"""Per-application read model behind the 判定完了 and 結果通知書 mails. Pure functions.

One :class:`ApplicationMails` per application id, fed by ApplicationSubmitted (its lines),
JudgementCompletedV2 (one per line, possibly before the application itself arrives),
ResultNoticeGenerated (one per judged line) and ApplicationWithdrawn (lines that will not
be judged). The decision to mail is taken inside the same write as the event that
completes the picture (``result_mail`` / ``notices_mail``), so it is taken exactly once;
the mails are then derived from the stored decision, which a redelivered event finds
again.

* 判定完了 (``result_mail``): once the application is known and every line is judged or
  withdrawn, and at least one was judged. Withdrawn lines are shown as 取下げ.
* 結果通知書: if every judged line already has its notice when the 判定完了 mail is
  decided, that mail carries the download links (``with_notices``) and nothing follows;
  otherwise one follow-up mail (``notices_mail``) goes out when the last notice arrives.

Only a line's first judgement (``sequence`` 1) and its notice count here. A re-judgement
(再判定, ``sequence`` > 1) and the notice printing it are left out: they never decide nor
change these mails (the employer hears of them through ``rejudgements``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    ResultNoticeGenerated,
)

Outcome = tuple["ApplicationMails", list[Envelope]]
M = TypeVar("M", bound=BaseModel)
RESULT_MAIL = "result_mail"
NOTICES_MAIL = "notices_mail"


class Line(BaseModel):
    line_id: str
    worker_id: str
    worker_name: str
    trade: str
    requested_level: int
    fee_yen: int


class Result(BaseModel):
    line_id: str
    judgement_id: str
    worker_id: str
    worker_name: str
    trade: str
    evaluation_body: str | None = None
    requested_level: int
    decision: str
    eligible_level: int
    messages: list[str]
    judged_at: str


class Notice(BaseModel):
    line_id: str
    notice_id: str
    judgement_id: str
    document_id: str
    generated_at: str


class Decided(BaseModel):
    """A mail decision: the event that took it, and when."""

    event_id: str
    event_type: str
    at: datetime


class ResultMail(Decided):
    """The 判定完了 mail's decision: the lines it lists, and whether it links the notices."""

    line_ids: list[str]
    with_notices: bool


class ApplicationMails(Aggregate):
    """One application's read model (``_id``: the application id) and its mail decisions."""

    application_id: str
    employer_id: str
    submitted: bool = False
    application_date: str | None = None
    submitted_at: datetime | None = None
    fee_total_yen: int | None = None
    lines: list[Line] = Field(default_factory=list)
    results: list[Result] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    withdrawn: list[str] = Field(default_factory=list)
    result_mail: ResultMail | None = None
    notices_mail: Decided | None = None


def taken(model: type[M], source: BaseModel, **values: Any) -> M:
    """A ``model`` of the fields it shares with ``source`` (an event), ``values`` instead of
    some of them."""
    return model.model_validate({**source.model_dump(include=set(model.model_fields)), **values})


def blank(application_id: str, employer_id: str) -> ApplicationMails:
    return ApplicationMails(
        id=application_id, application_id=application_id, employer_id=employer_id
    )


def submitted(
    event: ApplicationSubmitted,
    event_id: str,
    event_type: str,
    now: datetime,
    doc: ApplicationMails | None,
) -> Outcome | None:
    if doc is not None and doc.submitted:
        return None
    new = (doc or blank(event.application_id, event.employer_id)).model_copy(
        update={
            "submitted": True,
            "employer_id": event.employer_id,
            "application_date": event.application_date.isoformat(),
            "submitted_at": event.submitted_at,
            "fee_total_yen": event.fee_total_yen,
            "lines": [Line.model_validate(line, from_attributes=True) for line in event.lines],
        }
    )
    return decide(new, event_id, event_type, now), []


def judged(
    event: JudgementCompletedV2,
    event_id: str,
    event_type: str,
    now: datetime,
    doc: ApplicationMails | None,
) -> Outcome | None:
    if event.sequence > 1:
        return None  # a re-judgement: the update mail (``rejudgements``), not this one
    base = doc or blank(event.application_id, event.employer_id)
    earlier = next((r for r in base.results if r.line_id == event.line_id), None)
    if earlier is not None and _at(earlier.judged_at) >= event.judged_at:
        return None  # the same result again, or an older one arriving late
    result = taken(Result, event, judged_at=event.judged_at.isoformat())
    results = [r for r in base.results if r.line_id != event.line_id] + [result]
    return decide(base.model_copy(update={"results": results}), event_id, event_type, now), []


def notice_generated(
    event: ResultNoticeGenerated,
    event_id: str,
    event_type: str,
    now: datetime,
    doc: ApplicationMails | None,
) -> Outcome | None:
    if event.sequence > 1:
        return None  # the notice of a re-judgement: no per-application mail
    base = doc or blank(event.application_id, event.employer_id)
    notice = taken(Notice, event, generated_at=event.generated_at.isoformat())
    earlier = next((n for n in base.notices if n.line_id == event.line_id), None)
    if earlier is not None and _at(earlier.generated_at) >= event.generated_at:
        return None
    notices = [n for n in base.notices if n.line_id != event.line_id] + [notice]
    return decide(base.model_copy(update={"notices": notices}), event_id, event_type, now), []


def withdrawn(
    event: ApplicationWithdrawn,
    event_id: str,
    event_type: str,
    now: datetime,
    doc: ApplicationMails | None,
) -> Outcome | None:
    base = doc or blank(event.application_id, event.employer_id)
    lines = list(dict.fromkeys([*base.withdrawn, *event.line_ids]))
    if lines == base.withdrawn:
        return None
    return decide(base.model_copy(update={"withdrawn": lines}), event_id, event_type, now), []


def decide(
    doc: ApplicationMails, event_id: str, event_type: str, now: datetime
) -> ApplicationMails:
    """Take the mail decisions the read model now calls for (each at most once)."""
    line_ids = [line.line_id for line in doc.lines]
    judged_ids = {r.line_id for r in doc.results}
    noticed = {n.line_id for n in doc.notices}
    withdrawn_ids = set(doc.withdrawn)
    if doc.submitted and doc.result_mail is None:
        completed = [line for line in line_ids if line in judged_ids]
        if completed and all(line in judged_ids or line in withdrawn_ids for line in line_ids):
            decision = ResultMail(
                event_id=event_id,
                event_type=event_type,
                at=now,
                line_ids=completed,
                with_notices=all(line in noticed for line in completed),
            )
            doc = doc.model_copy(update={"result_mail": decision})
    result_mail = doc.result_mail
    if (
        result_mail is not None
        and not result_mail.with_notices
        and doc.notices_mail is None
        and all(line in noticed for line in result_mail.line_ids)
    ):
        decided = Decided(event_id=event_id, event_type=event_type, at=now)
        doc = doc.model_copy(update={"notices_mail": decided})
    return doc


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)
