"""Composition root of the application service: the one place that wires adapters to the core.

``wire`` builds the service over its typed repositories (``Repository``: applications and
the consent read model), the judgement client, the event consumers and the background
jobs, and declares the data migrations; ``create_app`` makes the app, whose lifespan puts
the wired container on ``app.state.container`` (where the routes' ``http.get_service`` and
``http.get_access_log`` find its parts), and installs the one error translator
(``http.STATUS``). The routes never import this module.

Tests override it by passing their own settings (isolated database and topics) or by
calling ``wire`` with a runtime of their own and, if they like, their own judgement client
(e.g. the judgement app in-process behind ``httpx.ASGITransport``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from application import data
from application.adapters.inbound import http
from application.adapters.inbound.events import remind_drafts, subscribe
from application.adapters.outbound import migrations
from application.adapters.outbound.judgement_http import HttpJudgement
from application.config import Settings
from application.core import access
from application.core.applications import Application
from application.core.consents import Consent
from application.core.service import ApplicationService, Policy
from application.core.summaries import ApplicationSummary
from application.ports import JudgementPort
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationSubmitted,
    ApplicationWithdrawn,
)
from shared_kernel.infra import access_log
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app

PUBLISHES = (
    ApplicationSubmitted,
    ApplicationDraftReminder,
    ApplicationWithdrawn,
)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "レベル判定代行申請サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    service: ApplicationService
    access_log: AccessLog


def wire(runtime: Runtime, judgement: JudgementPort | None = None) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    if judgement is None:
        # one pooled client, made here (in the app's lifespan), closed when the service stops
        client = HttpJudgement(
            settings.judgement_url,
            trades_ttl=settings.trades_cache_seconds,
            pool=settings.judgement_pool(),
        )
        runtime.background(client.close_on_stop)
        judgement = client
    policy = Policy(
        schedule=data.fee_schedule(settings.fee_schedule_file),
        prefectures=data.prefectures(),
        reminder_after=timedelta(hours=settings.draft_reminder_after_hours),
        max_lines=settings.max_lines,
    )
    # a read model without events: not one of the relay's stores
    summaries = DocumentStore(runtime.db, migrations.SUMMARIES)
    service = ApplicationService(
        Repository(
            runtime.store(migrations.APPLICATIONS, "employer_id", "status", "submission_key"),
            Application,
        ),
        Repository(runtime.store("consents", "employer_id", "status"), Consent),
        judgement,
        policy,
        Repository(summaries, ApplicationSummary),
        summary_rows=summaries,
    )
    runtime.index(migrations.SUMMARIES, "employer_id")
    runtime.migration(migrations.NAME, migrations.upgrade_applications)
    runtime.migration(migrations.KEY_NAME, migrations.lift_submission_keys)
    runtime.migration(migrations.SUMMARIES_NAME, migrations.build_summaries)
    subscribe(runtime.consumer, service)
    runtime.background(partial(remind_drafts, service, settings.draft_reminder_sweep_seconds))
    runtime.index(access_log.COLLECTION, *access_log.INDEXED)
    log = AccessLog(
        DocumentStore(runtime.db, access_log.COLLECTION), access.PURPOSES, linked=access.LINKED
    )
    return Container(runtime=runtime, settings=settings, service=service, access_log=log)


def create_app(settings: Settings | None = None, judgement: JudgementPort | None = None) -> FastAPI:
    app = service_app(
        TITLE,
        settings or Settings(),
        partial(wire, judgement=judgement),
        [http.router, access_log.router],
    )
    install_error_translator(app, http.STATUS, field_labels=http.FIELD_LABELS)
    return app
