"""Settings of the notification service (env prefix ``NOTIFICATION_``).

It holds no key of identity's (issue 22): the one mail that carries a secret, the
activation link of a 利用者仮申請, is sent by identity itself (``IDENTITY_SMTP_*``)."""

from __future__ import annotations

from pydantic import Field

from shared_kernel.infra.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("NOTIFICATION_")

    service_name: str = "notification"
    http_port: int = 8005
    db_name: str = "notification"

    mail_from: str = "能力評価システム <no-reply@noryoku-hyoka.example.jp>"
    """From header of every mail (a display name in Japanese is encoded per RFC 2047)."""
    portal_base_url: str = "http://127.0.0.1:8000"
    """Base of every link in a mail (the employer portal)."""

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
