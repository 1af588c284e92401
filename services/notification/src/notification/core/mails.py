"""A mail's life as a document: recorded intent → sent, failed or no recipient. Pure.

The ``mails`` collection holds one :class:`Mail` per (trigger, template, recipient): its
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
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, Literal

from pydantic import Field

from shared_kernel.aggregate import Aggregate

MailStatus = Literal["pending", "sent", "failed", "no_recipient"]
PENDING: MailStatus = "pending"
SENT: MailStatus = "sent"
FAILED: MailStatus = "failed"
NO_RECIPIENT: MailStatus = "no_recipient"
STATUSES: tuple[MailStatus, ...] = (PENDING, SENT, FAILED, NO_RECIPIENT)
NO_ADDRESS = "-"
OPTIONAL = ("sealed_secrets", "secrets_expire_at", "requeued_at")
"""Fields stored only when set (a mail without a secret has no ``sealed_secrets``)."""


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


class Mail(Aggregate):
    """One mail (``_id``: :func:`mail_id`) from its recorded intent to sent or failed."""

    template: str
    event_id: str
    event_type: str
    key: str
    employer_id: str | None = None
    correlation_id: str | None = None
    to: str | None
    from_address: str = Field(alias="from")
    subject: str
    text: str
    html: str
    message_id: str
    created_at: datetime
    status: MailStatus
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    requeued_at: datetime | None = None
    sealed_secrets: dict[str, str] | None = None
    secrets_expire_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        doc = super().to_document()
        for name in OPTIONAL:
            if doc.get(name) is None:
                doc.pop(name, None)
        return doc

    def changed(self, **fields: Any) -> Mail:
        return self.model_copy(update=fields)


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
) -> Mail:
    """A new mail, its ``_id`` from :func:`mail_id`."""
    doc_id = mail_id(template, trigger.key, recipient)
    for value in (rendered.subject, rendered.text, rendered.html):
        for name, sealed in (sealed_secrets or {}).items():
            assert sealed not in value, f"sealed {name} must not be rendered"
    mail = Mail(
        id=doc_id,
        template=template,
        **asdict(trigger),
        **asdict(rendered),
        to=recipient,
        from_address=from_address,
        message_id=message_id(doc_id, from_address),
        created_at=now,
        status=NO_RECIPIENT,
        last_error="宛先のメールアドレスが登録されていません",
    )
    if not recipient:
        return mail
    pending = mail.changed(status=PENDING, next_attempt_at=now, last_error=None)
    if sealed_secrets:
        pending = pending.changed(
            sealed_secrets=dict(sealed_secrets), secrets_expire_at=secrets_expire_at
        )
    return pending


def is_due(mail: Mail, now: datetime) -> bool:
    """A pending mail whose next attempt is due and that no live sender holds."""
    if mail.status != PENDING:
        return False
    if mail.next_attempt_at is not None and mail.next_attempt_at > now:
        return False
    return mail.lease_until is None or mail.lease_until <= now


def claim(mail: Mail | None, owner: str, now: datetime, lease: timedelta) -> Mail | None:
    """Take the mail for one send attempt (``None``: not due, or another sender has it)."""
    if mail is None or not is_due(mail, now):
        return None
    return mail.changed(lease_owner=owner, lease_until=now + lease)


def sent(mail: Mail | None, now: datetime) -> Mail | None:
    if mail is None or mail.status != PENDING:
        return None
    return _settled(mail.changed(status=SENT, sent_at=now, last_error=None))


def failed(
    mail: Mail | None, error: str, now: datetime, *, drop_secrets: bool = False
) -> Mail | None:
    """A permanent failure (bad address, message refused): recorded, never retried."""
    if mail is None or mail.status != PENDING:
        return None
    failed = mail.changed(
        status=FAILED,
        failed_at=now,
        last_error=error[:1000],
        lease_owner=None,
        lease_until=None,
        next_attempt_at=None,
    )
    if drop_secrets:
        return failed.changed(sealed_secrets=None)
    # a sealed value is kept (it is no plaintext) so that an operator's requeue can send it
    return failed


def secrets_expired(mail: Mail, now: datetime) -> bool:
    """The mail carries a secret that is no longer valid (a temporary password expired)."""
    expires = mail.secrets_expire_at
    return bool(mail.sealed_secrets) and expires is not None and now >= expires


def retry_later(
    mail: Mail | None,
    owner: str,
    error: str,
    now: datetime,
    *,
    base_seconds: float,
    max_seconds: float,
) -> Mail | None:
    """A transient failure: the next attempt after an exponentially growing pause."""
    if mail is None or mail.status != PENDING or mail.lease_owner != owner:
        return None
    attempts = mail.attempts + 1
    return mail.changed(
        attempts=attempts,
        last_error=error[:1000],
        next_attempt_at=now + timedelta(seconds=backoff(attempts, base_seconds, max_seconds)),
        lease_owner=None,
        lease_until=None,
    )


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Pause after the ``attempts``-th failure: base, 2×base, 4×base … capped."""
    return float(min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def requeueable(mail: Mail) -> bool:
    """A failed mail with an address (and, if it needed a secret, the secret still sealed)."""
    lost_secret = mail.secrets_expire_at is not None and not mail.sealed_secrets
    return mail.status == FAILED and bool(mail.to) and not lost_secret


def requeue(mail: Mail | None, now: datetime) -> Mail | None:
    """An operator asks for a failed mail to be sent again (e.g. after fixing the address)."""
    if mail is None or not requeueable(mail):
        return None
    return mail.changed(
        status=PENDING, next_attempt_at=now, attempts=0, failed_at=None, requeued_at=now
    )


def _settled(mail: Mail) -> Mail:
    """A sent mail keeps no sealed secret and no lease."""
    return mail.changed(
        sealed_secrets=None, lease_owner=None, lease_until=None, next_attempt_at=None
    )


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


def view(mail: Mail) -> dict[str, Any]:
    """What operators see of a mail: no body, no sealed value."""
    return {"id": mail.id, **mail.model_dump(include=set(VIEW_FIELDS))}
