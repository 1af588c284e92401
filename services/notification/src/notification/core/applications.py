"""Per-application read model behind the 判定完了 and 結果通知書 mails. Pure functions.

One document per application id, fed by ApplicationSubmitted (its lines),
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
from typing import Any

from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    ResultNoticeGenerated,
)

Doc = dict[str, Any]
Outcome = tuple[Doc, list[Any]]
RESULT_MAIL = "result_mail"
NOTICES_MAIL = "notices_mail"


def blank(application_id: str, employer_id: str) -> Doc:
    return {
        "application_id": application_id,
        "employer_id": employer_id,
        "submitted": False,
        "lines": [],
        "results": [],
        "notices": [],
        "withdrawn": [],
        RESULT_MAIL: None,
        NOTICES_MAIL: None,
    }


def submitted(
    event: ApplicationSubmitted, event_id: str, event_type: str, now: datetime, doc: Doc | None
) -> Outcome | None:
    if doc is not None and doc.get("submitted"):
        return None
    new = {
        **(doc or blank(event.application_id, event.employer_id)),
        "submitted": True,
        "employer_id": event.employer_id,
        "application_date": event.application_date.isoformat(),
        "submitted_at": event.submitted_at,
        "fee_total_yen": event.fee_total_yen,
        "lines": [
            {
                "line_id": line.line_id,
                "worker_id": line.worker_id,
                "worker_name": line.worker_name,
                "trade": line.trade,
                "requested_level": line.requested_level,
                "fee_yen": line.fee_yen,
            }
            for line in event.lines
        ],
    }
    return decide(new, event_id, event_type, now), []


def judged(
    event: JudgementCompletedV2, event_id: str, event_type: str, now: datetime, doc: Doc | None
) -> Outcome | None:
    if event.sequence > 1:
        return None  # a re-judgement: the update mail (``rejudgements``), not this one
    base = doc or blank(event.application_id, event.employer_id)
    earlier = next((r for r in base["results"] if r["line_id"] == event.line_id), None)
    if earlier is not None and _at(earlier["judged_at"]) >= event.judged_at:
        return None  # the same result again, or an older one arriving late
    result = {
        "line_id": event.line_id,
        "judgement_id": event.judgement_id,
        "worker_id": event.worker_id,
        "worker_name": event.worker_name,
        "trade": event.trade,
        "evaluation_body": event.evaluation_body,
        "requested_level": event.requested_level,
        "decision": event.decision,
        "eligible_level": event.eligible_level,
        "messages": list(event.messages),
        "judged_at": event.judged_at.isoformat(),
    }
    results = [r for r in base["results"] if r["line_id"] != event.line_id] + [result]
    return decide({**base, "results": results}, event_id, event_type, now), []


def notice_generated(
    event: ResultNoticeGenerated, event_id: str, event_type: str, now: datetime, doc: Doc | None
) -> Outcome | None:
    if event.sequence > 1:
        return None  # the notice of a re-judgement: no per-application mail
    base = doc or blank(event.application_id, event.employer_id)
    notice = {
        "line_id": event.line_id,
        "notice_id": event.notice_id,
        "judgement_id": event.judgement_id,
        "document_id": event.document_id,
        "generated_at": event.generated_at.isoformat(),
    }
    earlier = next((n for n in base["notices"] if n["line_id"] == event.line_id), None)
    if earlier is not None and _at(earlier["generated_at"]) >= event.generated_at:
        return None
    notices = [n for n in base["notices"] if n["line_id"] != event.line_id] + [notice]
    return decide({**base, "notices": notices}, event_id, event_type, now), []


def withdrawn(
    event: ApplicationWithdrawn, event_id: str, event_type: str, now: datetime, doc: Doc | None
) -> Outcome | None:
    base = doc or blank(event.application_id, event.employer_id)
    lines = list(dict.fromkeys([*base["withdrawn"], *event.line_ids]))
    if lines == base["withdrawn"]:
        return None
    return decide({**base, "withdrawn": lines}, event_id, event_type, now), []


def decide(doc: Doc, event_id: str, event_type: str, now: datetime) -> Doc:
    """Take the mail decisions the document now calls for (each at most once)."""
    line_ids = [line["line_id"] for line in doc["lines"]]
    judged_ids = {r["line_id"] for r in doc["results"]}
    noticed = {n["line_id"] for n in doc["notices"]}
    withdrawn_ids = set(doc["withdrawn"])
    decided = {"event_id": event_id, "event_type": event_type, "at": now}
    if doc["submitted"] and doc.get(RESULT_MAIL) is None:
        completed = [line for line in line_ids if line in judged_ids]
        if completed and all(line in judged_ids or line in withdrawn_ids for line in line_ids):
            doc = {
                **doc,
                RESULT_MAIL: {
                    **decided,
                    "line_ids": completed,
                    "with_notices": all(line in noticed for line in completed),
                },
            }
    result_mail = doc.get(RESULT_MAIL)
    if (
        result_mail is not None
        and not result_mail["with_notices"]
        and doc.get(NOTICES_MAIL) is None
        and all(line in noticed for line in result_mail["line_ids"])
    ):
        doc = {**doc, NOTICES_MAIL: decided}
    return doc


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)
