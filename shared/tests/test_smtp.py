"""The shared SMTP sender: failures sorted by whether a retry can help; one settings mixin."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import aiosmtplib
import pytest
from pydantic_settings import SettingsConfigDict

from shared_kernel.infra.smtp import (
    OUTAGE,
    PERMANENT,
    TRANSIENT,
    SmtpFailure,
    SmtpSender,
    SmtpSettings,
    classify,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.jp")]
            ),
            PERMANENT,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "x@example.jp")]
            ),
            TRANSIENT,
        ),
        (aiosmtplib.SMTPDataError(554, "content rejected"), PERMANENT),
        (aiosmtplib.SMTPDataError(451, "try later"), TRANSIENT),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), TRANSIENT),
        (aiosmtplib.SMTPSenderRefused(550, "sender refused", "no-reply@x"), TRANSIENT),
        (aiosmtplib.SMTPConnectError("connection refused"), OUTAGE),
        (aiosmtplib.SMTPServerDisconnected("lost"), TRANSIENT),
        (aiosmtplib.SMTPReadTimeoutError("timeout"), TRANSIENT),
        (ValueError("Address 'a b@x' contains characters not permitted"), PERMANENT),
    ],
)
def test_smtp_errors_are_classified(error: BaseException, kind: str) -> None:
    assert classify(error) == kind


class MailingSettings(SmtpSettings):
    model_config = SettingsConfigDict(env_prefix="MAILING_")


def test_settings_take_the_services_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILING_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("MAILING_SMTP_STARTTLS", "true")
    settings = MailingSettings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.example.jp",
        1025,
        True,
    )
    assert "smtp_password" not in repr(MailingSettings(smtp_password="secret"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_is_an_outage() -> None:
    sender = SmtpSender(MailingSettings(smtp_port=_closed_port(), smtp_timeout_seconds=2))
    message = EmailMessage()
    message["From"] = "no-reply@example.jp"
    message["To"] = "x@example.jp"
    message.set_content("本文")
    with pytest.raises(SmtpFailure) as failed:
        await sender.send(message, "x@example.jp")
    assert failed.value.kind == OUTAGE
