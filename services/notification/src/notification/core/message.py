"""The MIME message of a recorded mail (standard library only, no I/O).

``email.message.EmailMessage`` with the default policy: a non-ASCII header (the Japanese
subject, a Japanese display name in From) is written as an RFC 2047 encoded word in
UTF-8 (``=?utf-8?b?…?=``), and each body part is UTF-8 text (base64 when that is shorter).
The message is ``multipart/alternative``: plain text first, then HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from notification.core.mails import Mail, unseal_into


def one_line(text: str) -> str:
    """A header value on one line (no header injection through a newline in the data)."""
    return " ".join(text.split())


def build_message(mail: Mail, secrets: Mapping[str, str], now: datetime) -> EmailMessage:
    """The message to send for a mail; ``secrets`` are the unsealed values."""
    message = EmailMessage()
    message["Subject"] = one_line(mail.subject)
    message["From"] = mail.from_address
    message["To"] = mail.to or ""
    message["Date"] = format_datetime(now)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(unseal_into(mail.text, secrets), charset="utf-8")
    message.add_alternative(unseal_into(mail.html, secrets, escape=True), subtype="html")
    return message
