"""The ``Mailer`` port over the shared SMTP sender (``shared_kernel.infra.smtp``).

A permanent failure is recorded (``failed``, never retried); a transient one or an outage
is retried with backoff: configuration errors (authentication or HELO refused, the From
address refused) would fail every mail alike, so those mails wait until it is fixed.
"""

from __future__ import annotations

from email.message import EmailMessage

from notification.ports import PermanentFailure, TransientFailure
from shared_kernel.infra.smtp import OUTAGE, PERMANENT, SmtpFailure, SmtpSender


class SmtpMailer:
    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender

    async def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            await self.sender.send(message, recipient)
        except SmtpFailure as exc:
            if exc.kind == PERMANENT:
                raise PermanentFailure(str(exc)) from exc
            raise TransientFailure(str(exc), outage=exc.kind == OUTAGE) from exc
