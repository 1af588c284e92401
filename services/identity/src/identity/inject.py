"""Composition root of the identity service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics, cheaper
argon2 parameters, small limits) or by calling ``wire`` with a runtime of their own; the
container exposes the service so a test can replace its clock or password generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from identity.adapters.inbound.ratelimit import RateLimits
from identity.adapters.outbound.argon2 import Argon2Hasher
from identity.config import Settings
from identity.core.accounts import LockoutPolicy, Role
from identity.core.binding import Binding
from identity.core.service import IdentityService
from shared_kernel.auth import Principal, issue_token
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegistered
from shared_kernel.mongo import DocumentStore
from shared_kernel.runtime import Runtime
from shared_kernel.sealing import seal
from shared_kernel.service import service_app

PUBLISHES = (
    UserProvisionallyRegistered,
    UserActivated,
)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "利用者管理サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: IdentityService
    limits: RateLimits


def make_hasher(settings: Settings) -> Argon2Hasher:
    return Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.hash_concurrency,
    )


def wire(runtime: Runtime) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    jwt_secret = settings.jwt_secret.get_secret_value()
    sealing_key = settings.mail_sealing_key.get_secret_value()
    access_ttl = timedelta(minutes=settings.access_token_ttl_minutes)

    def issue(
        subject: str, role: Role, employer_id: str | None, session: str | None, binding: Binding
    ) -> tuple[str, datetime]:
        principal = Principal(
            subject=subject,
            role=role,
            employer_id=employer_id,
            session=session,
            trades=binding.trades,
            body=binding.body,
        )
        expires_at = datetime.now(UTC) + access_ttl
        return issue_token(jwt_secret, principal, access_ttl), expires_at

    for collection in ("employers", "login_attempts"):
        runtime.index(collection)
    runtime.index("sessions", "login_id")
    history = timedelta(days=settings.login_history_retention_days)
    runtime.retain("sessions", "expires_at", history)
    runtime.retain("login_attempts", "last_failure_at", history)
    service = IdentityService(
        runtime.store("users"),  # the only collection whose documents raise events
        DocumentStore(runtime.db, "employers"),
        DocumentStore(runtime.db, "sessions"),
        DocumentStore(runtime.db, "login_attempts"),
        make_hasher(settings),
        seal=lambda plaintext: seal(sealing_key, plaintext),
        issue_token=issue,
        temporary_password_ttl=timedelta(hours=settings.temporary_password_ttl_hours),
        session_ttl=timedelta(hours=settings.session_ttl_hours),
        lockout=LockoutPolicy(
            max_failures=settings.lockout_max_failures,
            window=timedelta(minutes=settings.lockout_window_minutes),
            lock=timedelta(minutes=settings.lockout_minutes),
        ),
        temporary_password_length=settings.temporary_password_length,
    )
    limits = RateLimits(
        per_ip=settings.rate_limit_per_ip,
        per_login_id=settings.rate_limit_per_login_id,
        window_seconds=settings.rate_limit_window_seconds,
    )
    return Container(runtime=runtime, settings=settings, service=service, limits=limits)


def create_app(settings: Settings | None = None) -> FastAPI:
    from identity.adapters.inbound.http import install_error_handlers, router

    app = service_app(TITLE, settings or Settings(), wire, [router], dead_letters=False)
    install_error_handlers(app)
    return app
