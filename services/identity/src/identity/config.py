"""Settings of the identity service (env prefix ``IDENTITY_``).

``MAIL_SEALING_KEY`` has no prefix: the notification service reads the same variable to
unseal the temporary password it mails (see ``shared_kernel.sealing``).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, model_validator

from shared_kernel.settings import ServiceSettings, service_config

DEVELOPMENT_MAIL_SEALING_KEY = "changethis-development-mail-sealing-key"
PLACEHOLDER_PREFIX = "changethis"


class Settings(ServiceSettings):
    model_config = service_config("IDENTITY_")

    service_name: str = "identity"
    http_port: int = 8001
    db_name: str = "identity"

    mail_sealing_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_MAIL_SEALING_KEY),
        validation_alias=AliasChoices("MAIL_SEALING_KEY", "mail_sealing_key"),
    )
    """Key shared with the notification service only; seals the temporary password."""

    temporary_password_ttl_hours: float = Field(default=24.0, gt=0)
    """How long a temporary password (仮パスワード) may be used for 利用者本申請."""
    temporary_password_length: int = Field(default=12, ge=10, le=64)

    access_token_ttl_minutes: float = Field(default=15.0, gt=0)
    """Lifetime of a bearer access token (JWT); the portal renews it with its session."""
    session_ttl_hours: float = Field(default=12.0, gt=0)
    """Absolute lifetime of a login session (cookie)."""
    session_cookie_name: str = "noryoku_session"
    session_cookie_secure: bool = False
    """Always mark the session cookie Secure (it is Secure anyway on an HTTPS request)."""

    lockout_max_failures: int = Field(default=5, ge=1)
    lockout_window_minutes: float = Field(default=15.0, gt=0)
    lockout_minutes: float = Field(default=15.0, gt=0)
    login_history_retention_days: float = Field(default=90.0, gt=0)
    """How long an ended session (after its expiry) and a login ID's failed attempts (after
    the last one) are kept, for investigating account misuse; then they are deleted."""

    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_per_ip: int = Field(default=60, ge=1)
    """Requests to the public endpoints per client IP per window (per process)."""
    rate_limit_per_login_id: int = Field(default=10, ge=1)
    """Requests to the public endpoints naming one login ID per window (per process)."""

    judgement_url: str = "http://127.0.0.1:8004"
    """The judgement service: the admin command line reads its criteria master
    (``GET /trades``) to resolve the 分野 of a staff account's body (the HTTP service never
    calls it)."""
    judgement_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long the admin command line waits for the criteria master."""

    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    hash_concurrency: int = Field(default=4, ge=1)
    """How many password hashes may be computed at once (each takes argon2_memory_kib)."""

    @model_validator(mode="after")
    def _refuse_placeholder_sealing_key(self) -> Settings:
        if self.environment in ("development", "test"):
            return self
        if self.mail_sealing_key.get_secret_value().startswith(PLACEHOLDER_PREFIX):
            raise ValueError(
                f"mail_sealing_key holds a placeholder secret; set MAIL_SEALING_KEY for "
                f"{self.environment}"
            )
        return self
