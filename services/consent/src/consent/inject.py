"""Composition root of the consent service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics,
auto-approval, a clock) or by calling ``wire`` with a runtime of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI, Request

from consent.adapters.inbound.events import subscribe
from consent.adapters.inbound.http import FIELD_LABELS, STATUS, get_service, router
from consent.adapters.outbound.checks import CheckStore
from consent.adapters.outbound.disarm import disarm
from consent.adapters.outbound.gridfs import GridFsFiles
from consent.adapters.outbound.migrations import submitted_at_everywhere
from consent.config import Settings
from consent.core import access, ccus, checks, consents
from consent.core.consents import Policy
from consent.core.service import ConsentService, UploadLimits, utcnow
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected
from shared_kernel.infra import access_log
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app

PUBLISHES = (
    ConsentGranted,
    ConsentRejected,
)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "個人情報利用申請サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: ConsentService
    access_log: AccessLog  # the service's own (GET /access-log)


def wire(runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    runtime.index(ccus.COLLECTION)
    runtime.index(access.TRADES_COLLECTION)
    runtime.index(checks.COLLECTION)
    limits = checks.CheckLimits(
        per_employer=settings.ccus_checks_per_employer,
        window=timedelta(minutes=settings.ccus_check_window_minutes),
        failures_per_worker=settings.ccus_failures_per_worker,
        failure_window=timedelta(hours=settings.ccus_failure_window_hours),
        lock_after=settings.ccus_lock_after_failures,
        lock_for=timedelta(hours=settings.ccus_lock_hours),
    )
    runtime.retain(checks.COLLECTION, "at", limits.keep)
    runtime.index(access_log.COLLECTION, *access_log.INDEXED)
    runtime.index("signed_forms.files")
    runtime.index("signed_forms.chunks", "files_id")
    entries = AccessLog(
        DocumentStore(runtime.db, access_log.COLLECTION),
        access.PURPOSES,
        linked=access.LINKED,
        clock=clock,
    )
    # the aggregates: their outbox is relayed
    consent_store = runtime.store(consents.COLLECTION, "employer_id", "status", "worker_id")

    async def backfill_submitted_at(_: Runtime) -> None:
        await submitted_at_everywhere(consent_store)

    runtime.migration("0002-consent-submitted-at", backfill_submitted_at)
    service = ConsentService(
        Repository(consent_store, consents.Consent),
        # no events in these (nor in worker_trades), so they stay off the relay's sweep
        Repository(DocumentStore(runtime.db, ccus.COLLECTION), ccus.CcusWorker),
        entries,
        GridFsFiles(runtime.db),
        disarmer=disarm,
        policy=Policy(
            auto_approve=settings.auto_approve,
            valid_days=settings.valid_days,
            ends_on_judgement=settings.end_on_judgement,
        ),
        max_upload_bytes=settings.max_upload_bytes,
        max_workers=settings.max_workers_per_application,
        clock=clock,
        worker_trades=Repository(
            DocumentStore(runtime.db, access.TRADES_COLLECTION), access.WorkerTrades
        ),
        # counts and locks of the CCUS check: no events, off the relay's sweep too
        ccus_checks=CheckStore(runtime.db, checks.COLLECTION),
        check_limits=limits,
        uploads=UploadLimits(
            timeout_seconds=settings.disarm_timeout_seconds,
            concurrency=settings.disarm_concurrency,
            max_pixels=settings.max_image_pixels,
            max_pdf_pages=settings.max_pdf_pages,
        ),
    )
    subscribe(runtime.consumer, service, end_on_judgement=settings.end_on_judgement)
    return Container(runtime=runtime, settings=settings, service=service, access_log=entries)


def create_app(settings: Settings | None = None) -> FastAPI:
    app = service_app(TITLE, settings or Settings(), wire, [router, access_log.router])
    install_error_translator(app, STATUS, field_labels=FIELD_LABELS)

    def service(request: Request) -> ConsentService:
        container: Container = request.app.state.container
        return container.service

    app.dependency_overrides[get_service] = service
    return app
