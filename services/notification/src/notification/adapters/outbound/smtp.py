"""Sending over SMTP with aiosmtplib; failures sorted into permanent and transient.

* permanent (recorded as ``failed``, never retried): a 5xx reply to the recipient or the
  message (unknown or refused address, content refused, too large), an address that
  cannot be put on an SMTP command line, SMTPUTF8 needed but not offered;
* transient (retried with backoff): the server unreachable, a timeout, a dropped
  connection, any 4xx reply, and the errors that are our configuration's fault rather
  than the mail's (authentication or HELO refused, the From address refused): those would fail
  every mail alike, so they are kept pending until the configuration is fixed.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from notification.ports import PermanentFailure, TransientFailure

PERMANENT = "permanent"
TRANSIENT = "transient"
OUTAGE = "outage"
# refused because of our configuration, not the mail: every mail would fail alike
OUR_FAULT = (
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPHeloError,
)


def classify(exc: BaseException) -> str:
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


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        use_tls: bool = False,
        start_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
        validate_certs: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.use_tls = use_tls
        self.start_tls = start_tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.validate_certs = validate_certs

    async def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(str(message["From"]))[1],
                recipients=[recipient],
                hostname=self.host,
                port=self.port,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                username=self.username,
                password=self.password,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
            )
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            kind = classify(exc)
            text = describe(exc)
            if kind == PERMANENT:
                raise PermanentFailure(text) from exc
            raise TransientFailure(text, outage=kind == OUTAGE) from exc
