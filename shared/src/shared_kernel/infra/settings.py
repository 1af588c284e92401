"""Settings base: one pydantic-settings class per service, env vars with a per-service prefix.

Every service subclasses :class:`ServiceSettings` and sets ``model_config`` with its own
``env_prefix`` (``IDENTITY_`` …). Infrastructure addresses are shared names without a
prefix (``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URL``) so one ``.env`` serves the stack.
Outside development and test, secrets that still hold a placeholder are refused when the
settings are read; in development the services refuse to *serve* with them
(``shared_kernel.infra.service.serve_cli``): ``make run`` generates the local stack's secrets
(``deploy/local/secrets.sh``), so placeholders only ever serve tests (``APP_ENV=test``).
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
KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
TOPIC_PARTITIONS: dict[str, int] = {
    # by logical topic name or its first part; the one place: scripts/deploy_manifests.py
    # writes the KafkaTopics and deploy/compose/topics.txt from these (make manifests)
    "application": 12,
    "judgement": 12,
    "partner": 12,
    "document": 12,
    "ccus": 24,
}


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
    or short secrets are refused at start-up; in development a service refuses to serve with
    them (``make run`` generates real ones); only test runs on placeholders."""
    http_host: str = "127.0.0.1"
    """Address the HTTP server listens on."""
    http_port: int = 8000
    """Port of the HTTP server."""
    process_role: Literal["http", "consume", "all"] = Field(
        default="all", validation_alias=AliasChoices("PROCESS_ROLE")
    )
    """This process's part of the service (``serve --role`` sets it): ``http`` the API,
    ``consume`` the event consumers, background jobs and outbox relay (probes and /metrics
    only over HTTP), ``all`` both (the local stack)."""
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    """Log level (JSON lines on stdout)."""
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    """OpenTelemetry collector (OTLP/HTTP, e.g. ``http://otel-collector:4318``): traces are
    exported there; unset, tracing is off (``shared_kernel.infra.tracing``)."""

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    """Kafka brokers."""
    topic_prefix: str = Field(default="", validation_alias=AliasChoices("TOPIC_PREFIX"))
    """Prepended to every topic and consumer group name (tests use one per run)."""
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT", validation_alias=AliasChoices("KAFKA_SECURITY_PROTOCOL")
    )
    """PLAINTEXT (the local broker), SSL, SASL_PLAINTEXT or SASL_SSL (Strimzi's TLS listener
    with SCRAM); for every producer, consumer and admin client of the service."""
    kafka_sasl_mechanism: KafkaSaslMechanism | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_SASL_MECHANISM")
    )
    """SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN, with a SASL_* protocol (none otherwise)."""
    kafka_sasl_username: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_SASL_USERNAME")
    )
    """The service's Kafka user (a Strimzi KafkaUser, ``kafka-<service>``)."""
    kafka_sasl_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_SASL_PASSWORD")
    )
    """That user's password (the KafkaUser's Secret)."""
    kafka_ssl_cafile: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_SSL_CAFILE")
    )
    """CA certificate (PEM) the brokers' certificates are checked against, with SSL or
    SASL_SSL (the system's CAs when unset)."""
    kafka_create_topics: bool | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_CREATE_TOPICS")
    )
    """Create missing topics at start-up. Unset: only in development and test; in staging
    and production the topics come from Strimzi's KafkaTopic resources (compose: the
    ``kafka-init`` one-shot) and a service only waits for them (and fails if they never
    appear)."""
    topic_partitions: dict[str, int] = Field(
        default_factory=lambda: dict(TOPIC_PARTITIONS),
        validation_alias=AliasChoices("TOPIC_PARTITIONS"),
    )
    """Partitions of a topic the service creates, by its logical name or the name's first
    part (JSON, e.g. ``{"ccus": 24, "judgement": 12}``); the sizing is in deploy/README.md."""
    topic_partitions_default: int = Field(
        default=6, ge=1, validation_alias=AliasChoices("TOPIC_PARTITIONS_DEFAULT")
    )
    """Partitions of a topic not named in ``TOPIC_PARTITIONS``."""
    topic_dlq_partitions: int = Field(
        default=3, ge=1, validation_alias=AliasChoices("TOPIC_DLQ_PARTITIONS")
    )
    """Partitions of every dead-letter topic (``<topic>.dlq``)."""
    topic_replication_factor: int = Field(
        default=-1, ge=-1, validation_alias=AliasChoices("TOPIC_REPLICATION_FACTOR")
    )
    """Replicas of a topic the service creates; -1: the broker's
    ``default.replication.factor`` (1 on the local single broker, 3 on the cluster)."""
    topic_min_isr: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("TOPIC_MIN_ISR", "TOPIC_MIN_INSYNC_REPLICAS"),
    )
    """``min.insync.replicas`` of a topic the service creates; unset: the broker's default."""

    @model_validator(mode="after")
    def _kafka_sasl_complete(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def creates_topics(self) -> bool:
        """Whether this process creates missing topics (``kafka_create_topics``)."""
        if self.kafka_create_topics is not None:
            return self.kafka_create_topics
        return self.environment in ("development", "test")

    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/", validation_alias=AliasChoices("MONGODB_URL")
    )
    """MongoDB (production) or FerretDB (local) connection string."""
    mongodb_max_pool_size: int = Field(
        default=50, ge=1, le=500, validation_alias=AliasChoices("MONGODB_MAX_POOL_SIZE")
    )
    """Database connections of one process; requests beyond wait for one. Bounded so that the
    processes together stay below FerretDB's PostgreSQL pool (the local stack: 400), which,
    exhausted, left FerretDB 1.24 waiting on itself for good (deploy/local/start.sh). Not
    much lower: a process's consumers (``consumer_workers`` × ``consumer_concurrency``), its
    relay (32) and its requests share them (20 held the application to ~200 operations a
    second at 100 ms a round trip)."""
    db_name: str = "noryoku"
    """The service's own database."""
    ferretdb_postgresql_url: str | None = Field(
        default="postgresql://ferretdb:ferretdb@127.0.0.1:5432/ferretdb",
        validation_alias=AliasChoices("FERRETDB_POSTGRESQL_URL"),
    )
    """Only with FerretDB (the local stack): the PostgreSQL database behind it, where the
    lookup indexes are created (``shared_kernel.infra.indexes``). Unused on MongoDB."""

    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    """Handler attempts before an event goes to the dead-letter topic."""
    consumer_backoff_seconds: float = Field(default=0.2, ge=0.0)
    """Pause before the first retry (doubles each time)."""
    consumer_workers: int = Field(default=1, ge=1, le=16)
    """Kafka consumers of the service's group in each consuming process: each is given its
    own partitions and handles their events one at a time, in order, so several handle
    events of different partitions at once (a handler mostly waits for the database). More
    than the topics' partitions in all the processes leaves some idle."""
    consumer_concurrency: int = Field(default=8, ge=1, le=256)
    """Events each Kafka consumer handles at once: events with the same key (the aggregate:
    an application, a judgement …) one after the other, in their order; events of other
    keys side by side. An offset is committed only once every event before it in its
    partition is handled. 1: one event at a time, in partition order (issue 24: a handler
    waits for several database round trips, so one at a time held a service to a few
    events per second under load)."""
    event_max_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest event payload a consumer accepts; a larger one goes to the dead-letter topic
    (``dlq_reason: too_large``) with only its first 64 KiB. Below Kafka's default 1 MiB
    record limit, so that a dead-lettered copy with its extra headers still fits."""
    outbox_poll_seconds: float = Field(default=0.5, gt=0.0)
    """How often the outbox relay sweeps for pending events that their writer did not
    publish (a writer publishes its events itself, at once)."""
    outbox_grace_seconds: float = Field(default=5.0, ge=0.0)
    """How old a pending event must be before the sweep publishes it rather than leaving it
    to the process that wrote it."""
    outbox_lease_seconds: float = Field(default=15.0, ge=1.0)
    """How long the relay lease lasts: one process of the service relays at a time and
    renews it; when it dies, another takes over after at most this long (a clean stop hands
    it over at once)."""
    lag_poll_seconds: float = Field(default=15.0, gt=0.0)
    """How often consumer lag is measured for /metrics."""
    inbox_retention_days: float = Field(default=14.0, gt=0.0)
    """How long a consumed event's id is kept in the inbox (redeliveries are skipped by it).
    Keep it longer than the topics' retention (Kafka's default: 7 days): older events can no
    longer be redelivered."""
    retention_sweep_seconds: float = Field(default=3600.0, gt=0.0)
    """How often documents past their retention (inbox entries, expired sessions …) are
    deleted."""

    auth_issuer_url: str = Field(
        default="http://127.0.0.1:8001", validation_alias=AliasChoices("AUTH_ISSUER_URL")
    )
    """The identity service, which signs the access tokens: its public keys are read from
    ``/.well-known/jwks.json`` and the sessions ended recently from ``/sessions/revocations``
    (``shared_kernel.infra.auth``)."""
    auth_jwks: str | None = Field(default=None, validation_alias=AliasChoices("AUTH_JWKS"))
    """Identity's public keys given as a JWKS document (JSON) instead of being read from
    identity (tests; a deployment that ships them). Public keys only: never a private one."""
    auth_keys_refresh_seconds: float = Field(
        default=300.0, gt=0, validation_alias=AliasChoices("AUTH_KEYS_REFRESH_SECONDS")
    )
    """How often identity's public keys are read again (also at once, at most every 10 s,
    when a token names a key not known yet: a key rollover)."""
    auth_revocation_check: bool = Field(
        default=True, validation_alias=AliasChoices("AUTH_REVOCATION_CHECK")
    )
    """Refuse the tokens of sessions that ended (logout, password change). Only
    ``APP_ENV=test`` may turn it off."""
    auth_revocation_refresh_seconds: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("AUTH_REVOCATION_REFRESH_SECONDS")
    )
    """How often the list of ended sessions is read from identity: after a logout, the
    token is refused by every service within this time (docs/security.md)."""
    auth_revocation_max_stale_seconds: float = Field(
        default=60.0, gt=0, validation_alias=AliasChoices("AUTH_REVOCATION_MAX_STALE_SECONDS")
    )
    """When the list could not be read for this long (identity unreachable), bearer
    requests are answered 503 instead of trusting an old list."""
    auth_timeout_seconds: float = Field(
        default=3.0, gt=0, validation_alias=AliasChoices("AUTH_TIMEOUT_SECONDS")
    )
    """Timeout of one request to identity for its keys or its list of ended sessions."""

    def insecure_secrets(self) -> list[str]:
        """The secret settings that hold a placeholder or are shorter than 32 bytes."""
        found = []
        for name, value in self:
            if not isinstance(value, SecretStr):
                continue
            secret = value.get_secret_value()
            if (
                secret in PLACEHOLDER_SECRETS
                or secret.startswith("changethis")
                or len(secret.encode()) < MIN_SECRET_LENGTH
            ):
                found.append(name)
        return found

    def env_name(self, field_name: str) -> str:
        """The environment variable that sets ``field_name``."""
        field = type(self).model_fields[field_name]
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            return alias.choices[0]
        if isinstance(alias, str):
            return alias
        return f"{self.model_config.get('env_prefix', '')}{field_name}".upper()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment != "test" and not self.auth_revocation_check:
            raise ValueError("AUTH_REVOCATION_CHECK may only be turned off with APP_ENV=test")
        if self.environment in ("development", "test"):
            return self  # development: the services refuse to serve with them (serve_cli)
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
