"""Settings of the notification service (env prefix ``NOTIFICATION_``).

It holds no key of identity's (issue 22): the one mail that carries a secret, the
activation link of a 利用者仮申請, is sent by identity itself (``IDENTITY_SMTP_*``)."""

from __future__ import annotations

from pydantic import Field

from shared_kernel.infra.settings import ServiceSettings, service_config
from shared_kernel.infra.smtp import SmtpSettings


class Settings(ServiceSettings, SmtpSettings):
    model_config = service_config("NOTIFICATION_")

    service_name: str = "notification"
    http_port: int = 8005
    db_name: str = "notification"

    mail_from: str = "能力評価システム <no-reply@noryoku-hyoka.example.jp>"
    """From header of every mail (a display name in Japanese is encoded per RFC 2047)."""
    portal_base_url: str = "http://127.0.0.1:8000"
    """Base of every link in a mail (the employer portal)."""

    # the SMTP server: ``SmtpSettings`` (``NOTIFICATION_SMTP_*``)

    sender_poll_seconds: float = Field(default=2.0, gt=0)
    """How often the sender looks for pending mails (it is also woken when one is recorded)."""
    sender_batch: int = Field(default=50, ge=1)
    """Mails sent per sweep before the sender looks again."""
    sender_lease_seconds: float = Field(default=120.0, gt=0)
    """A sender holds a mail this long; a mail whose sender died is sent again after it."""
    retry_base_seconds: float = Field(default=5.0, gt=0)
    """First pause after a transient failure (doubles on each further failure)."""
    retry_max_seconds: float = Field(default=600.0, gt=0)
    """Longest pause between two attempts; transient failures are retried for ever."""

    rejudgement_wait_seconds: float = Field(default=1800.0, gt=0)
    """再判定 update mail: when nothing new (no plan part, no re-judged line) arrived for a
    run and employer for this long, the mail goes out with the lines that did arrive (a plan
    that never came, planned lines the run skipped). Normally it goes as soon as every
    planned line is there."""
    rejudgement_sweep_seconds: float = Field(default=60.0, gt=0)
    """How often the service looks for re-judgement digests whose wait is over."""
