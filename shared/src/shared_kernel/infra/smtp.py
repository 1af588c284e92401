"""Sending mail over SMTP (aiosmtplib), for every service that mails: one sender, one settings.

``SmtpSettings`` is mixed into a service's settings (``class Settings(ServiceSettings,
SmtpSettings)``), so its fields take the service's env prefix (``NOTIFICATION_SMTP_HOST``,
``IDENTITY_SMTP_HOST`` …). ``SmtpSender.send`` hands one message to the server and sorts a
failure into :class:`SmtpFailure`'s kinds:

* ``permanent`` (never worth retrying): a 5xx reply to the recipient or the message
  (unknown or refused address, content refused, too large), an address that cannot be put
  on an SMTP command line, SMTPUTF8 needed but not offered;
* ``transient`` (retry later): a timeout, a dropped connection, any 4xx reply, and the errors
  that are our configuration's fault rather than the mail's (authentication or HELO refused,
  the From address refused): those would fail every mail alike;
* ``outage``: the server could not be reached at all.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr
from typing import Literal

import aiosmtplib
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FailureKind = Literal["permanent", "transient", "outage"]
PERMANENT: FailureKind = "permanent"
TRANSIENT: FailureKind = "transient"
OUTAGE: FailureKind = "outage"
# refused because of our configuration, not the mail: every mail would fail alike
OUR_FAULT = (
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPHeloError,
)


class SmtpSettings(BaseSettings):
    """The SMTP server's settings (a mixin of a service's settings)."""

    model_config = SettingsConfigDict(use_attribute_docstrings=True)  # documents each field

    smtp_host: str = "127.0.0.1"
    """SMTP server (the local mail sink by default)."""
    smtp_port: int = 1025
    """SMTP port."""
    smtp_tls: bool = False
    """Implicit TLS from the first byte (usually port 465)."""
    smtp_starttls: bool = False
    """Upgrade a plain connection with STARTTLS (usually port 587)."""
    smtp_validate_certs: bool = True
    """Check the SMTP server's TLS certificate."""
    smtp_username: str | None = None
    """SMTP AUTH user name (no authentication when unset)."""
    smtp_password: str | None = Field(default=None, repr=False)
    """SMTP AUTH password (kept out of ``repr``; not subject to the 32-byte secret rule, as
    SMTP providers' passwords are often shorter)."""
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    """Timeout of one SMTP connection and its commands."""


class SmtpFailure(Exception):
    """The server did not take the message: ``kind`` says whether trying again can help."""

    def __init__(self, message: str, kind: FailureKind) -> None:
        super().__init__(message)
        self.kind = kind


def classify(exc: BaseException) -> FailureKind:
    """``permanent``, ``transient`` or ``outage`` (server unreachable) for a send error."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return PERMANENT if codes and all(c >= 500 for c in codes) else TRANSIENT
    if isinstance(exc, OUR_FAULT):
        return TRANSIENT
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError):
        return OUTAGE
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return PERMANENT if exc.code >= 500 else TRANSIENT
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PERMANENT
    if isinstance(exc, ValueError):
        return PERMANENT  # an address that cannot be sent to
    if isinstance(exc, ConnectionRefusedError):
        return OUTAGE
    return TRANSIENT  # timeouts, disconnections, other OSErrors


def describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return f"{type(exc).__name__}: {exc}"


class SmtpSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Send ``message`` to ``recipient`` (the envelope's RCPT TO) from the address of its
        From header; raise :class:`SmtpFailure` when the server does not take it."""
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(str(message["From"]))[1],
                recipients=[recipient],
                hostname=s.smtp_host,
                port=s.smtp_port,
                use_tls=s.smtp_tls,
                start_tls=s.smtp_starttls,
                username=s.smtp_username,
                password=s.smtp_password,
                timeout=s.smtp_timeout_seconds,
                validate_certs=s.smtp_validate_certs,
            )
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            raise SmtpFailure(describe(exc), classify(exc)) from exc
