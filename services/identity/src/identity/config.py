"""Settings of the identity service (env prefix ``IDENTITY_``).

Identity alone holds the keys that sign the access tokens (``IDENTITY_SIGNING_KEYS``); the
other services verify with the public halves it publishes (``shared_kernel.infra.auth``). It
sends the one mail that carries a secret — the activation link of a 利用者仮申請 — itself,
over SMTP (``IDENTITY_SMTP_*``, the same server as the notification service's), so that no
secret ever travels through Kafka.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from shared_kernel.infra.auth import SigningKey, load_signing_keys
from shared_kernel.infra.settings import ServiceSettings, service_config
from shared_kernel.infra.smtp import SmtpSettings


class Settings(ServiceSettings, SmtpSettings):
    model_config = service_config("IDENTITY_")

    service_name: str = "identity"
    http_port: int = 8001
    db_name: str = "identity"

    signing_keys: SecretStr | None = None
    """Ed25519 private keys (PKCS#8 PEM blocks one after another; ``python -m identity
    generate-signing-key`` makes one) that sign the access tokens: the first signs, every
    one is published in ``/.well-known/jwks.json`` (a rollover: docs/security.md). Required
    outside development and test; ``make run`` generates one under ``var/secrets``; without
    it a development identity signs with a key of its own made at start-up (tokens then end
    with the process)."""
    trusted_proxies: str = ""
    """Comma-separated addresses or networks (CIDR) of the proxies in front of identity (the
    portal, a load balancer): only a request from one of them may name the client's address
    in ``X-Forwarded-For``. Empty: the socket peer is the client. The local stack sets
    127.0.0.1 (the portal)."""

    activation_ttl_hours: float = Field(default=24.0, gt=0)
    """How long the activation link of a 利用者仮申請 may be used for 利用者本申請."""
    pending_retention_hours: float = Field(default=24.0, ge=0)
    """A registration never activated is deleted this long after its link expired (its login
    ID and 事業者ID become free again)."""
    portal_base_url: str = "http://127.0.0.1:8000"
    """The portal as users reach it: the activation link is ``<this>/register/activate``."""
    mail_from: str = "能力評価システム <no-reply@noryoku-hyoka.example.jp>"
    """From header of the activation mail (the same as the notification service's)."""
    # the SMTP server: ``SmtpSettings`` (``IDENTITY_SMTP_*``, the notification service's values)

    registrations_per_email: int = Field(default=3, ge=1)
    """利用者仮申請 (each one mails a link) per e-mail address per window, counted in the
    database (shared by every replica): more are refused with 429 and nothing is mailed."""
    registration_email_window_minutes: float = Field(default=60.0, gt=0)
    registrations_per_ip: int = Field(default=20, ge=1)
    """利用者仮申請 per client address per window (database, every replica)."""
    registration_ip_window_minutes: float = Field(default=60.0, gt=0)

    access_token_ttl_minutes: float = Field(default=15.0, gt=0)
    """Lifetime of a bearer access token (JWT); the portal renews it with its session."""
    session_ttl_hours: float = Field(default=12.0, gt=0)
    """Absolute lifetime of a login session (cookie)."""
    session_cookie_name: str = "noryoku_session"
    session_cookie_secure: bool = False
    """Always mark the session cookie Secure (it is Secure anyway on an HTTPS request)."""

    login_free_failures: int = Field(default=3, ge=1)
    """Failed logins of one login ID from one source (client address; IPv6: its /64) that
    cost nothing; each further one makes that source wait before the next attempt."""
    login_delay_base_seconds: float = Field(default=2.0, gt=0)
    """The first wait; it doubles with each further failure."""
    login_delay_max_seconds: float = Field(default=900.0, gt=0)
    """The longest wait of a source between two attempts."""
    login_failure_memory_hours: float = Field(default=24.0, gt=0)
    """A source's failures are forgotten this long after its last one (a success forgets
    them at once)."""
    login_account_failures_per_hour: int = Field(default=100, ge=1)
    """Failed logins of one login ID per hour from every source together; past it, only the
    sources the account logged in from before may try until the hour ends."""
    login_history_retention_days: float = Field(default=90.0, gt=0)
    """How long an ended session (after its expiry) and the failed attempts of a login ID
    and source (after the last one) are kept, for investigating account misuse."""

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

    @field_validator("signing_keys")
    @classmethod
    def _readable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            load_signing_keys(value.get_secret_value())  # raises ValueError
            return value
        return None

    @model_validator(mode="after")
    def _keys_outside_development(self) -> Settings:
        if self.environment not in ("development", "test") and self.signing_keys is None:
            raise ValueError(
                f"IDENTITY_SIGNING_KEYS must be set for {self.environment} "
                "(python -m identity generate-signing-key)"
            )
        return self

    def configured_keys(self) -> list[SigningKey]:
        """The configured signing keys (empty: none configured)."""
        if self.signing_keys is None:
            return []
        return load_signing_keys(self.signing_keys.get_secret_value())
