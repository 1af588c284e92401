"""Composition root of the notification service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics, their own
SMTP port) or by calling ``wire`` with a runtime of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI, Request

from notification.adapters.inbound.http import STATUS, get_service, router
from notification.config import Settings
from notification.core.applications import ApplicationMails
from notification.core.links import Links
from notification.core.mails import Mail
from notification.core.rejudgements import Digest
from notification.core.service import NotificationService, SenderPolicy
from notification.core.users import User
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app
from shared_kernel.infra.smtp import SmtpSender

TITLE = "通知サービス"
REJUDGEMENT_DIGESTS = "rejudgement_digests"  # one document per 再判定 run and employer


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: NotificationService


def wire(runtime: Runtime) -> Container:
    from notification.adapters.inbound.events import subscribe
    from notification.adapters.inbound.jobs import RejudgementSweep, Sender
    from notification.adapters.outbound.smtp import SmtpMailer
    from notification.adapters.outbound.templates import JinjaRenderer
    from notification.metrics import PrometheusMetrics

    settings = runtime.settings
    assert isinstance(settings, Settings)
    mailer = SmtpMailer(SmtpSender(settings))
    service = NotificationService(
        Repository(runtime.store("users", "employer_id"), User),
        Repository(runtime.store("applications"), ApplicationMails),
        Repository(runtime.store("mails", "status"), Mail),
        JinjaRenderer(),
        mailer,
        rejudgements_store=Repository(runtime.store(REJUDGEMENT_DIGESTS, "status"), Digest),
        links=Links(settings.portal_base_url),
        from_address=settings.mail_from,
        policy=SenderPolicy(
            lease=timedelta(seconds=settings.sender_lease_seconds),
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            batch=settings.sender_batch,
        ),
        rejudgement_wait=timedelta(seconds=settings.rejudgement_wait_seconds),
        metrics=PrometheusMetrics(),
    )
    sender = Sender(service, settings.sender_poll_seconds)
    service.on_recorded = sender.kick
    subscribe(runtime.consumer, service)
    runtime.background(sender.run)
    runtime.background(RejudgementSweep(service, settings.rejudgement_sweep_seconds).run)
    return Container(runtime=runtime, settings=settings, service=service)


def service_of(request: Request) -> NotificationService:
    """The wired service (the lifespan put the container on the app)."""
    container: Container = request.app.state.container
    return container.service


def create_app(settings: Settings | None = None) -> FastAPI:
    app = service_app(TITLE, settings or Settings(), wire, [router])
    install_error_translator(app, STATUS)
    app.dependency_overrides[get_service] = service_of
    return app
