"""A mail's life as a document: recorded intent → sent, failed or no recipient. Pure.

The ``mails`` collection holds one document per (trigger, template, recipient): its
``_id`` is natural, so recording the same intent twice (a redelivered event, a handler
run again after a crash) finds the document there and changes nothing. The document
holds the rendered message without any secret: a secret (the temporary password) stays
sealed in ``sealed_secrets`` and its place in the text is held by a marker that the
sender replaces after unsealing, just before the message leaves; the sealed value is
dropped once the mail is sent or has failed for good.

Sending is at least once with a deterministic ``Message-ID``: a sender takes a lease on
the mail, sends, then marks it sent. If it dies between sending and marking, the lease
runs out and the mail is sent again with the same ``Message-ID`` (clients and most
servers fold such a duplicate into one); a lost mail is worse than a rare duplicate.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, Literal

Doc = dict[str, Any]
MailStatus = Literal["pending", "sent", "failed", "no_recipient"]
PENDING: MailStatus = "pending"
SENT: MailStatus = "sent"
FAILED: MailStatus = "failed"
NO_RECIPIENT: MailStatus = "no_recipient"
STATUSES: tuple[MailStatus, ...] = (PENDING, SENT, FAILED, NO_RECIPIENT)
NO_ADDRESS = "-"


MARKER_START = "@@sealed:"


def secret_marker(name: str) -> str:
    """What stands in the stored text for the secret ``name`` until the mail is sent."""
    return f"{MARKER_START}{name}@@"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Trigger:
    """What caused a mail: the event, and the key the mail is unique for."""

    event_id: str
    event_type: str
    key: str  # the event id for one-off mails; the application id for per-application mails
    employer_id: str | None = None
    correlation_id: str | None = None


def mail_id(template: str, key: str, recipient: str | None) -> str:
    """The natural id: one mail per template, trigger key and recipient."""
    return f"{template}:{key}:{recipient or NO_ADDRESS}"


def message_id(doc_id: str, from_address: str) -> str:
    """A ``Message-ID`` derived from the mail id only: every send of a mail carries it."""
    digest = hashlib.sha256(doc_id.encode()).hexdigest()[:32]
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "noryoku-hyoka.invalid"
    return f"<{digest}@{domain}>"


def intent(
    *,
    template: str,
    trigger: Trigger,
    recipient: str | None,
    rendered: Rendered,
    from_address: str,
    now: datetime,
    sealed_secrets: Mapping[str, str] | None = None,
    secrets_expire_at: datetime | None = None,
) -> Doc:
    """A new mail document (without ``_id``, which the store sets from :func:`mail_id`)."""
    doc_id = mail_id(template, trigger.key, recipient)
    for value in (rendered.subject, rendered.text, rendered.html):
        for name, sealed in (sealed_secrets or {}).items():
            assert sealed not in value, f"sealed {name} must not be rendered"
    doc: Doc = {
        "template": template,
        "event_id": trigger.event_id,
        "event_type": trigger.event_type,
        "key": trigger.key,
        "employer_id": trigger.employer_id,
        "correlation_id": trigger.correlation_id,
        "to": recipient,
        "from": from_address,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "message_id": message_id(doc_id, from_address),
        "created_at": now,
        "attempts": 0,
        "last_error": None,
        "sent_at": None,
        "failed_at": None,
        "lease_owner": None,
        "lease_until": None,
    }
    if recipient:
        doc |= {"status": PENDING, "next_attempt_at": now}
        if sealed_secrets:
            doc["sealed_secrets"] = dict(sealed_secrets)
            doc["secrets_expire_at"] = secrets_expire_at
    else:
        doc |= {
            "status": NO_RECIPIENT,
            "next_attempt_at": None,
            "last_error": "宛先のメールアドレスが登録されていません",
        }
    return doc


def is_due(doc: Doc, now: datetime) -> bool:
    """A pending mail whose next attempt is due and that no live sender holds."""
    if doc.get("status") != PENDING:
        return False
    if doc.get("next_attempt_at") is not None and doc["next_attempt_at"] > now:
        return False
    lease = doc.get("lease_until")
    return lease is None or lease <= now


def claim(doc: Doc | None, owner: str, now: datetime, lease: timedelta) -> Doc | None:
    """Take the mail for one send attempt (``None``: not due, or another sender has it)."""
    if doc is None or not is_due(doc, now):
        return None
    return {**doc, "lease_owner": owner, "lease_until": now + lease}


def sent(doc: Doc | None, now: datetime) -> Doc | None:
    if doc is None or doc.get("status") != PENDING:
        return None
    return _settled({**doc, "status": SENT, "sent_at": now, "last_error": None})


def failed(doc: Doc | None, error: str, now: datetime, *, drop_secrets: bool = False) -> Doc | None:
    """A permanent failure (bad address, message refused): recorded, never retried."""
    if doc is None or doc.get("status") != PENDING:
        return None
    failed = {**doc, "status": FAILED, "failed_at": now, "last_error": error[:1000]}
    failed = {**failed, "lease_owner": None, "lease_until": None, "next_attempt_at": None}
    if drop_secrets:
        return {k: v for k, v in failed.items() if k != "sealed_secrets"}
    # a sealed value is kept (it is no plaintext) so that an operator's requeue can send it
    return failed


def secrets_expired(doc: Doc, now: datetime) -> bool:
    """The mail carries a secret that is no longer valid (a temporary password expired)."""
    expires = doc.get("secrets_expire_at")
    return bool(doc.get("sealed_secrets")) and expires is not None and now >= expires


def retry_later(
    doc: Doc | None,
    owner: str,
    error: str,
    now: datetime,
    *,
    base_seconds: float,
    max_seconds: float,
) -> Doc | None:
    """A transient failure: the next attempt after an exponentially growing pause."""
    if doc is None or doc.get("status") != PENDING or doc.get("lease_owner") != owner:
        return None
    attempts = int(doc.get("attempts", 0)) + 1
    return {
        **doc,
        "attempts": attempts,
        "last_error": error[:1000],
        "next_attempt_at": now + timedelta(seconds=backoff(attempts, base_seconds, max_seconds)),
        "lease_owner": None,
        "lease_until": None,
    }


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Pause after the ``attempts``-th failure: base, 2×base, 4×base … capped."""
    return float(min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def requeueable(doc: Doc) -> bool:
    """A failed mail with an address (and, if it needed a secret, the secret still sealed)."""
    lost_secret = doc.get("secrets_expire_at") is not None and not doc.get("sealed_secrets")
    return doc.get("status") == FAILED and bool(doc.get("to")) and not lost_secret


def requeue(doc: Doc | None, now: datetime) -> Doc | None:
    """An operator asks for a failed mail to be sent again (e.g. after fixing the address)."""
    if doc is None or not requeueable(doc):
        return None
    return {
        **doc,
        "status": PENDING,
        "next_attempt_at": now,
        "attempts": 0,
        "failed_at": None,
        "requeued_at": now,
    }


def _settled(doc: Doc) -> Doc:
    """A sent mail keeps no sealed secret and no lease."""
    settled = {k: v for k, v in doc.items() if k != "sealed_secrets"}
    return {**settled, "lease_owner": None, "lease_until": None, "next_attempt_at": None}


def unseal_into(text: str, secrets: Mapping[str, str], *, escape: bool = False) -> str:
    """Put the unsealed secrets in place of their markers (HTML-escaped for the HTML part).

    Raises ``ValueError`` if a marker is left: a mail never goes out without its secret.
    """
    for name, value in secrets.items():
        text = text.replace(secret_marker(name), html.escape(value) if escape else value)
    if MARKER_START in text:
        raise ValueError("a sealed value of this mail is missing")
    return text


VIEW_FIELDS: Sequence[str] = (
    "to",
    "template",
    "event_id",
    "event_type",
    "employer_id",
    "subject",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "sent_at",
    "failed_at",
    "next_attempt_at",
    "message_id",
)


def view(doc: Doc) -> Doc:
    """What operators see of a mail: no body, no sealed value."""
    return {"id": doc["_id"], **{k: doc.get(k) for k in VIEW_FIELDS}}
