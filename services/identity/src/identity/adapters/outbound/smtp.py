"""The activation mail over SMTP (standard library ``smtplib`` in a worker thread).

One attempt per 利用者仮申請, while the request waits: if the server does not take the
mail, the applicant is told so (503) and simply applies again (a new link). Nothing about
the link is kept anywhere but its hash, so there is nothing to retry from.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from identity.core.activation_mail import ActivationMail
from identity.ports.mail import MailUnavailable


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
    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        use_tls: bool = False,
        start_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
        validate_certs: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address
        self.use_tls = use_tls
        self.start_tls = start_tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.validate_certs = validate_certs

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _send(self, message: EmailMessage, recipient: str) -> None:
        sender = parseaddr(self.from_address)[1]
        smtp: smtplib.SMTP
        if self.use_tls:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.start_tls:
                smtp.starttls(context=self._context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])

    async def send(self, mail: ActivationMail) -> None:
        message = message_of(mail, self.from_address)
        try:
            await asyncio.to_thread(self._send, message, mail.to)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise MailUnavailable(f"{type(exc).__name__}: {exc}") from exc
