"""Composition root of the identity service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics, cheaper
argon2 parameters, small limits) or by calling ``wire`` with a runtime of their own; the
container exposes the service so a test can replace its clock, mailer or link generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request

from identity import migrations
from identity.adapters.inbound.client import parse_proxies
from identity.adapters.inbound.http import STATUS, Web, get_service, get_web, router
from identity.adapters.inbound.ratelimit import RateLimits
from identity.adapters.outbound.argon2 import Argon2Hasher
from identity.adapters.outbound.smtp import SmtpActivationMailer
from identity.config import Settings
from identity.core.accounts import Employer, Revocation, Role, Session, User
from identity.core.binding import Binding
from identity.core.forms import LABELS
from identity.core.limits import Limit, RegistrationCount
from identity.core.service import IdentityService, RegistrationLimits
from identity.core.throttle import AccountAttempts, SourceAttempts, ThrottlePolicy
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegisteredV2
from shared_kernel.infra.auth import Authenticator, SessionCheck, SigningKey, issue_token, jwks_of
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import container_of, service_app
from shared_kernel.infra.smtp import SmtpSender
from shared_kernel.principal import Principal

log = get_logger(__name__)

PUBLISHES = (
    UserProvisionallyRegisteredV2,
    UserActivated,
)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "利用者管理サービス"


class Keyring:
    """Identity's signing keys: the first signs, every one is published (a rollover has
    two). Mutable in place (``use``), so that a test — or a future reload — can roll over
    without restarting: the token issuer, the JWKS answer and identity's own verifier all
    read it."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = list(keys)

    def use(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key")
        self.keys = list(keys)

    @property
    def signer(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        return jwks_of(self.keys)

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        return next((k.public for k in self.keys if k.kid == kid), None)

    async def run(self) -> None:
        return None


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: IdentityService
    web: Web
    keyring: Keyring


def make_hasher(settings: Settings) -> Argon2Hasher:
    return Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.hash_concurrency,
    )


def signing_keys_of(settings: Settings) -> list[SigningKey]:
    """The configured keys; a development or test identity without any makes its own."""
    keys = settings.configured_keys()
    if keys:
        return keys
    log.warning(
        "identity.ephemeral_signing_key",
        hint="IDENTITY_SIGNING_KEYS is not set: tokens are signed with a key made at start-up "
        "and end with this process (make run generates one under var/secrets)",
    )
    return [SigningKey.generate()]


def wire(runtime: Runtime) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    keyring = Keyring(signing_keys_of(settings))
    access_ttl = timedelta(minutes=settings.access_token_ttl_minutes)

    def issue(
        subject: str,
        role: Role,
        employer_id: str | None,
        session: str,
        binding: Binding,
        session_expires_at: datetime,
    ) -> tuple[str, datetime]:
        principal = Principal(
            subject=subject,
            role=role,
            employer_id=employer_id,
            session=session,
            trades=binding.trades,
            body=binding.body,
        )
        expires_at = min(datetime.now(UTC) + access_ttl, session_expires_at)
        token = issue_token(keyring.signer, principal, access_ttl, not_after=expires_at)
        return token, expires_at

    for collection in ("employers", "login_attempts", "registration_limits", "revocations"):
        runtime.index(collection)
    runtime.index("sessions", "login_id")
    history = timedelta(days=settings.login_history_retention_days)
    runtime.retain("sessions", "expires_at", history)
    runtime.retain("login_attempts", "last_seen_at", history)
    runtime.retain("registration_limits", "window_end", timedelta(0))
    runtime.retain("revocations", "keep_until", timedelta(0))
    runtime.retain("users", "pending_until", timedelta(0))  # never-activated registrations
    mailer = SmtpActivationMailer(SmtpSender(settings), settings.mail_from)
    migrations.declare(runtime)
    attempts = DocumentStore(runtime.db, "login_attempts")
    service = IdentityService(
        # users: the only collection whose documents raise events
        Repository(runtime.store("users"), User),
        Repository(DocumentStore(runtime.db, "employers"), Employer),
        Repository(DocumentStore(runtime.db, "sessions"), Session),
        Repository(attempts, SourceAttempts),
        Repository(attempts, AccountAttempts),
        make_hasher(settings),
        revocations=Repository(DocumentStore(runtime.db, "revocations"), Revocation),
        registration_counts=Repository(
            DocumentStore(runtime.db, "registration_limits"), RegistrationCount
        ),
        mailer=mailer,
        issue_token=issue,
        activation_ttl=timedelta(hours=settings.activation_ttl_hours),
        session_ttl=timedelta(hours=settings.session_ttl_hours),
        access_ttl=access_ttl,
        portal_base_url=settings.portal_base_url,
        throttle_policy=ThrottlePolicy(
            free_failures=settings.login_free_failures,
            base_delay=timedelta(seconds=settings.login_delay_base_seconds),
            max_delay=timedelta(seconds=settings.login_delay_max_seconds),
            forget_after=timedelta(hours=settings.login_failure_memory_hours),
            account_failures_per_hour=settings.login_account_failures_per_hour,
        ),
        registration_limits=RegistrationLimits(
            per_email=Limit(
                "email",
                settings.registrations_per_email,
                timedelta(minutes=settings.registration_email_window_minutes),
            ),
            per_ip=Limit(
                "ip",
                settings.registrations_per_ip,
                timedelta(minutes=settings.registration_ip_window_minutes),
            ),
        ),
        pending_retention=timedelta(hours=settings.pending_retention_hours),
    )
    # identity verifies its own tokens: its own public keys, its own session store
    runtime.auth = Authenticator(
        keyring, SessionCheck(service.session_open, service.revocation_keep.total_seconds())
    )
    limits = RateLimits(
        per_ip=settings.rate_limit_per_ip,
        per_login_id=settings.rate_limit_per_login_id,
        window_seconds=settings.rate_limit_window_seconds,
    )
    return Container(
        runtime=runtime,
        settings=settings,
        service=service,
        web=Web(settings, limits, parse_proxies(settings.trusted_proxies), keyring.jwks),
        keyring=keyring,
    )


def service_of(request: Request) -> IdentityService:
    container: Container = container_of(request)
    return container.service


def web_of(request: Request) -> Web:
    container: Container = container_of(request)
    return container.web


def create_app(settings: Settings | None = None) -> FastAPI:
    app = service_app(TITLE, settings or Settings(), wire, [router], dead_letters=False)
    install_error_translator(app, STATUS, field_labels=LABELS)
    app.dependency_overrides[get_service] = service_of
    app.dependency_overrides[get_web] = web_of
    return app
