"""The activation mail over SMTP (``shared_kernel.infra.smtp``).

One attempt per 利用者仮申請, while the request waits: if the server does not take the
mail, the applicant is told so (503) and simply applies again (a new link). Nothing about
the link is kept anywhere but its hash, so there is nothing to retry from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from identity.core.activation_mail import ActivationMail
from identity.ports.mail import MailUnavailable
from shared_kernel.infra.smtp import SmtpFailure, SmtpSender


def message_of(mail: ActivationMail, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = from_address
    message["To"] = mail.to
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "noryoku-hyoka.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text(), charset="utf-8")
    message.add_alternative(mail.html(), subtype="html")
    return message


class SmtpActivationMailer:
    """The activation mail through the shared SMTP sender: one attempt, any failure is
    :class:`MailUnavailable` (the applicant applies again)."""

    def __init__(self, sender: SmtpSender, from_address: str) -> None:
        self.sender = sender
        self.from_address = from_address

    async def send(self, mail: ActivationMail) -> None:
        message = message_of(mail, self.from_address)
        try:
            await self.sender.send(message, mail.to)
        except SmtpFailure as exc:
            raise MailUnavailable(str(exc)) from exc
