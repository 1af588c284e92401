"""What each mail says: template name, trigger and the values its templates show. Pure.

A :class:`Draft` names its recipients either directly (``to``: the activation confirmation
goes to the registration address) or as an employer, whose active users' addresses the
service looks up when it records the mail. (The activation link itself is mailed by the
identity service: no secret reaches this service.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notification.core import rejudgements
from notification.core.applications import ApplicationMails, Decided
from notification.core.links import Links
from notification.core.mails import Trigger
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationSubmitted,
    ConsentGranted,
    ConsentRejected,
    UserActivated,
)

ACCOUNT_ACTIVATED = "account_activated"
CONSENT_GRANTED = "consent_granted"
CONSENT_REJECTED = "consent_rejected"
APPLICATION_RECEIVED = "application_received"
DRAFT_REMINDER = "draft_reminder"
JUDGEMENT_COMPLETED = "judgement_completed"
RESULT_NOTICES = "result_notices"
REJUDGEMENT_RESULTS = "rejudgement_results"
TEMPLATES = (
    ACCOUNT_ACTIVATED,
    CONSENT_GRANTED,
    CONSENT_REJECTED,
    APPLICATION_RECEIVED,
    DRAFT_REMINDER,
    JUDGEMENT_COMPLETED,
    RESULT_NOTICES,
    REJUDGEMENT_RESULTS,
)
Context = dict[str, Any]
"""The values a mail template shows (a template context, not a stored document)."""


@dataclass(frozen=True)
class Draft:
    template: str
    trigger: Trigger
    context: Context
    to: tuple[str, ...] | None = None  # None: the employer's active users
    sealed_secrets: dict[str, str] = field(default_factory=dict)
    secrets_expire_at: datetime | None = None  # not sent after this (the secret is useless)


def _trigger(envelope: Envelope, employer_id: str | None, key: str | None = None) -> Trigger:
    return Trigger(
        event_id=envelope.id,
        event_type=envelope.type,
        key=key or envelope.id,
        employer_id=employer_id,
        correlation_id=envelope.correlation_id,
    )


def _common(links: Links) -> Context:
    return {"portal_url": links.portal()}


def account_activated(envelope: Envelope, links: Links) -> Draft:
    event = envelope.event
    assert isinstance(event, UserActivated)
    context = {
        **_common(links),
        **event.model_dump(include={"login_id", "employer_name", "employer_id", "activated_at"}),
        "login_url": links.login(),
    }
    to = (event.email,) if event.email.strip() else ()
    return Draft(ACCOUNT_ACTIVATED, _trigger(envelope, event.employer_id), context, to=to)


def consent_granted(envelope: Envelope, links: Links) -> Draft:
    event = envelope.event
    assert isinstance(event, ConsentGranted)
    context = {
        **_common(links),
        **event.model_dump(
            include={
                "consent_id",
                "worker_id",
                "worker_name",
                "worker_name_kana",
                "scopes",
                "granted_at",
                "valid_until",
            }
        ),
        "consents_url": links.consents(),
    }
    return Draft(CONSENT_GRANTED, _trigger(envelope, event.employer_id), context)


def consent_rejected(envelope: Envelope, links: Links) -> Draft:
    event = envelope.event
    assert isinstance(event, ConsentRejected)
    context = {
        **_common(links),
        **event.model_dump(include={"consent_id", "worker_id", "reason", "rejected_at"}),
        "consents_url": links.consents(),
    }
    return Draft(CONSENT_REJECTED, _trigger(envelope, event.employer_id), context)


def application_received(envelope: Envelope, links: Links) -> Draft:
    event = envelope.event
    assert isinstance(event, ApplicationSubmitted)
    context = {
        **_common(links),
        **event.model_dump(
            include={"application_id", "application_date", "submitted_at", "fee_total_yen"}
        ),
        "lines": [line.model_dump(mode="json") for line in event.lines],
        "application_url": links.application(event.application_id),
    }
    return Draft(
        APPLICATION_RECEIVED,
        _trigger(envelope, event.employer_id, key=event.application_id),
        context,
    )


def draft_reminder(envelope: Envelope, links: Links) -> Draft:
    event = envelope.event
    assert isinstance(event, ApplicationDraftReminder)
    context = {
        **_common(links),
        **event.model_dump(
            include={"application_id", "line_count", "draft_created_at", "reminded_at"}
        ),
        "draft_url": links.application(event.application_id),
    }
    return Draft(DRAFT_REMINDER, _trigger(envelope, event.employer_id), context)


def application_mails(
    doc: ApplicationMails, links: Links, correlation_id: str | None = None
) -> list[Draft]:
    """The per-application mails the read model has decided on (see ``applications``);
    ``correlation_id``: the application's, from the event being applied (for the logs)."""
    drafts = []
    result_mail = doc.result_mail
    if result_mail is not None:
        drafts.append(
            _application_draft(
                JUDGEMENT_COMPLETED,
                doc,
                result_mail,
                result_mail.line_ids,
                links,
                result_mail.with_notices,
                correlation_id,
            )
        )
    if doc.notices_mail is not None:
        draft = _application_draft(
            RESULT_NOTICES, doc, doc.notices_mail, None, links, True, correlation_id
        )
        rows = [r for r in draft.context["rows"] if r["status"] == "completed"]
        drafts.append(Draft(draft.template, draft.trigger, {**draft.context, "rows": rows}))
    return drafts


def _application_draft(
    template: str,
    doc: ApplicationMails,
    decided: Decided,
    judged: list[str] | None,
    links: Links,
    with_notices: bool,
    correlation_id: str | None = None,
) -> Draft:
    application_id = doc.application_id
    rows = line_rows(doc, links, with_notices=with_notices, judged=judged)
    context = {
        **_common(links),
        "application_id": application_id,
        "application_date": doc.application_date,
        "rows": rows,
        "approved_count": sum(1 for r in rows if r["decision"] == "approved"),
        "rejected_count": sum(1 for r in rows if r["decision"] == "rejected"),
        "withdrawn_count": sum(1 for r in rows if r["status"] == "withdrawn"),
        "with_notices": with_notices,
        "result_url": links.result(application_id),
    }
    trigger = Trigger(
        event_id=decided.event_id,
        event_type=decided.event_type,
        key=application_id,
        employer_id=doc.employer_id,
        correlation_id=correlation_id,
    )
    return Draft(template, trigger, context)


def line_rows(
    doc: ApplicationMails, links: Links, *, with_notices: bool, judged: list[str] | None
) -> list[dict[str, Any]]:
    """One row per line of the application, in the order of the application.

    Only the lines judged when the mail was decided (``judged``) count as judged, so that
    the mail reads the same whenever it is derived again.
    """
    results = {r.line_id: r for r in doc.results}
    notices = {n.line_id: n for n in doc.notices}
    rows = []
    for line in doc.lines:
        result = results.get(line.line_id)
        if judged is not None and line.line_id not in judged:
            result = None
        notice = notices.get(line.line_id) if with_notices and result else None
        rows.append(
            {
                **line.model_dump(),
                "worker_name": (result or line).worker_name,
                "status": "completed" if result else "withdrawn",
                "decision": result.decision if result else None,
                "eligible_level": result.eligible_level if result else None,
                "evaluation_body": result.evaluation_body if result else None,
                "messages": (result.messages if result and result.decision == "rejected" else []),
                "notice_url": (
                    links.notice(doc.application_id, notice.notice_id) if notice else None
                ),
            }
        )
    return rows


def rejudgement_results(doc: rejudgements.Digest, links: Links) -> Draft | None:
    """The 「レベル判定結果が更新されました」 mail a re-judgement digest has decided on
    (``rejudgements``): one per employer and run, every re-judged worker of the employer
    with the result before and after; ``None`` if nothing is decided (or nothing to list)."""
    decision = doc.decision
    lines = rejudgements.decided_lines(doc)
    if decision is None or not lines:
        return None
    rows = [
        {
            **line.model_dump(),
            "changed": rejudgements.changed(line),
            "result_url": links.result_line(line.application_id, line.line_id),
        }
        for line in lines
    ]
    context = {
        **_common(links),
        "reason": doc.reason or "",
        "rows": rows,
        "changed_count": sum(1 for r in rows if r["changed"] is True),
        "unchanged_count": sum(1 for r in rows if r["changed"] is False),
        "rejudged_at": max(r["judged_at"] for r in rows),
        "results_url": links.results(),
    }
    trigger = Trigger(
        event_id=decision.event_id,
        event_type=decision.event_type,
        key=rejudgements.digest_id(doc.run_id, doc.employer_id),
        employer_id=doc.employer_id,
        correlation_id=decision.correlation_id,
    )
    return Draft(REJUDGEMENT_RESULTS, trigger, context)
