"""Settings base: one pydantic-settings class per service, env vars with a per-service prefix.

Every service subclasses :class:`ServiceSettings` and sets ``model_config`` with its own
``env_prefix`` (``IDENTITY_`` …). Infrastructure addresses are shared names without a
prefix (``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URL``) so one ``.env`` serves the stack.
Outside development, secrets that still hold a placeholder are refused at start-up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "changethis-development-only-not-a-secret"
PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "change-me", "secret", "dev-secret", "password", DEVELOPMENT_SECRET}
)
MIN_SECRET_LENGTH = 32

Environment = Literal["development", "test", "staging", "production"]


def service_config(prefix: str) -> SettingsConfigDict:
    """The settings config every service uses: its env prefix plus a shared ``.env``."""
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        use_attribute_docstrings=True,  # a field's docstring documents it (docs/configuration.md)
    )


class ServiceSettings(BaseSettings):
    """What every service needs: identity, infrastructure and shared secrets."""

    model_config = service_config("SERVICE_")

    service_name: str = "service"
    """Name in logs, metrics and as the consumer group."""
    environment: Environment = Field(
        default="development", validation_alias=AliasChoices("APP_ENV", "ENVIRONMENT")
    )
    """development, test, staging or production; outside development and test, placeholder
    or short secrets are refused at start-up."""
    http_host: str = "127.0.0.1"
    """Address the HTTP server listens on."""
    http_port: int = 8000
    """Port of the HTTP server."""
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    """Log level (JSON lines on stdout)."""

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    """Kafka brokers."""
    topic_prefix: str = Field(default="", validation_alias=AliasChoices("TOPIC_PREFIX"))
    """Prepended to every topic and consumer group name (tests use one per run)."""
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/", validation_alias=AliasChoices("MONGODB_URL")
    )
    """MongoDB (production) or FerretDB (local) connection string."""
    db_name: str = "noryoku"
    """The service's own database."""
    ferretdb_postgresql_url: str | None = Field(
        default="postgresql://ferretdb:ferretdb@127.0.0.1:5432/ferretdb",
        validation_alias=AliasChoices("FERRETDB_POSTGRESQL_URL"),
    )
    """Only with FerretDB (the local stack): the PostgreSQL database behind it, where the
    lookup indexes are created (``shared_kernel.indexes``). Unused on MongoDB."""

    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    """Handler attempts before an event goes to the dead-letter topic."""
    consumer_backoff_seconds: float = Field(default=0.2, ge=0.0)
    """Pause before the first retry (doubles each time)."""
    event_max_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest event payload a consumer accepts; a larger one goes to the dead-letter topic
    (``dlq_reason: too_large``) with only its first 64 KiB. Below Kafka's default 1 MiB
    record limit, so that a dead-lettered copy with its extra headers still fits."""
    outbox_poll_seconds: float = Field(default=0.5, gt=0.0)
    """How often the outbox relay sweeps for pending events (it is also woken by writes)."""
    lag_poll_seconds: float = Field(default=15.0, gt=0.0)
    """How often consumer lag is measured for /metrics."""
    inbox_retention_days: float = Field(default=14.0, gt=0.0)
    """How long a consumed event's id is kept in the inbox (redeliveries are skipped by it).
    Keep it longer than the topics' retention (Kafka's default: 7 days): older events can no
    longer be redelivered."""
    retention_sweep_seconds: float = Field(default=3600.0, gt=0.0)
    """How often documents past their retention (inbox entries, expired sessions …) are
    deleted."""

    jwt_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET), validation_alias=AliasChoices("JWT_SECRET")
    )
    """Secret that signs and verifies the bearer tokens (HS256, at least 32 bytes)."""

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment in ("development", "test"):
            return self
        for name, value in self:
            if not isinstance(value, SecretStr):
                continue
            secret = value.get_secret_value()
            if secret in PLACEHOLDER_SECRETS or secret.startswith("changethis"):
                raise ValueError(
                    f"{name} holds a placeholder secret; set a real value for {self.environment}"
                )
            if len(secret.encode()) < MIN_SECRET_LENGTH:
                raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} bytes long")
        return self

    def topic(self, logical_name: str) -> str:
        """The physical Kafka topic for a logical topic name (tests give each run a prefix)."""
        return f"{self.topic_prefix}{logical_name}"
