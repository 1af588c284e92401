"""Composition root of the judgement service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics, extra
criteria files) or by calling ``wire`` with a runtime of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI

from judgement.config import Settings
from judgement.core import access, outlook
from judgement.core.criteria_admin import table_document
from judgement.core.master import Master, build_master
from judgement.core.service import JudgementService
from judgement.core.workers import ConsentGrant, LatestSnapshot
from judgement.criteria_admin.service import CriteriaAdministration
from judgement.criteria_admin.source import MasterSource
from shared_kernel.events.catalogue import (
    CriteriaPublished,
    JudgementCompletedV2,
    JudgementStarted,
    PartnerJudgementCompleted,
    RejudgementPlanned,
    RejudgementRequested,
)
from shared_kernel.infra import access_log
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import CONSUME_ROLES, Runtime
from shared_kernel.infra.service import service_app

PUBLISHES = (
    JudgementStarted,
    JudgementCompletedV2,
    PartnerJudgementCompleted,
    CriteriaPublished,
    RejudgementPlanned,
    RejudgementRequested,
)
"""The events this service publishes (its part of docs/asyncapi.json): the re-judgement
run's plan and requests when an approver publishes a correction with re-judgement."""
TITLE = "レベル判定サービス"
log = get_logger(__name__)


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    masters: MasterSource
    service: JudgementService
    access_log: AccessLog
    criteria: CriteriaAdministration

    @property
    def master(self) -> Master:
        """The master in force in this process (rebuilt when criteria are published)."""
        return self.masters.master


def wire(runtime: Runtime) -> Container:
    from judgement.adapters.inbound.events import subscribe, sweep_deadlines
    from judgement.adapters.outbound.criteria_store import MongoCriteriaStore
    from judgement.adapters.outbound.judgements import JudgementRepository, RejudgementRepository
    from judgement.adapters.outbound.metrics import count_judgement
    from judgement.adapters.outbound.migrations import declare as declare_migrations
    from judgement.adapters.outbound.retention import SnapshotRetention
    from judgement.adapters.outbound.snapshots import SUPERSEDED, SnapshotStore
    from judgement.criteria import (
        extra_documents,
        packaged_documents,
        without_tables,
    )
    from judgement.rejudge import planning
    from judgement.rejudge.service import Rejudger
    from shared_kernel.infra.mongo import DocumentStore

    # 再判定: not a relay store (its documents carry no outbox; see judgement.rejudge.service)
    runtime.index("rejudgements", "line_id", "employer_id", "application_id", "worker_id")
    rejudgements = DocumentStore(runtime.db, "rejudgements")

    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    declare_migrations(runtime)  # older storage formats rewritten (one reader per format)

    # 基準管理: the master in force comes from criteria_versions (seeded from the packaged
    # tables), every process follows criteria_state.generation (docs/criteria-admin.md)
    base, packaged_tables = without_tables(packaged_documents())
    extras = extra_documents(settings.criteria_extra) if settings.criteria_extra else []
    packaged = {"tables": [table_document(t) for t in packaged_tables]}
    build_master([*base, ("packaged tables", packaged), *extras])  # a bad extra file fails here
    for name, fields in (
        ("criteria_drafts", ("trade", "status")),
        ("criteria_audit", ("trade",)),
        ("criteria_state", ()),
    ):
        runtime.index(name, *fields)
    store = MongoCriteriaStore(
        runtime.store("criteria_versions", "trade", "draft_id"),
        DocumentStore(runtime.db, "criteria_drafts"),
        DocumentStore(runtime.db, "criteria_audit"),
        DocumentStore(runtime.db, "criteria_state"),
    )
    masters = MasterSource(
        store, base, packaged_tables, extras, poll_seconds=settings.criteria_poll_seconds
    )
    runtime.background(masters.poll)

    # snapshot retention: the supersession records, the citations looked up by snapshot
    runtime.index(SUPERSEDED)
    runtime.index("judgements", "snapshot_id")
    runtime.index("rejudgements", "snapshot_id")
    kept = SnapshotRetention(runtime.db, grace=timedelta(days=settings.snapshot_grace_days))
    runtime.background(partial(kept.run, settings.retention_sweep_seconds), roles=CONSUME_ROLES)
    service = JudgementService(
        Repository(runtime.store("ccus_workers"), LatestSnapshot),
        SnapshotStore(runtime.store("ccus_snapshots"), DocumentStore(runtime.db, SUPERSEDED)),
        JudgementRepository(
            runtime.store("judgements", "employer_id", "application_id", "worker_id", "status")
        ),
        masters,
        policy=settings.review_policy,
        wait_days=settings.ccus_wait_days,
        on_completed=count_judgement,
        consents=Repository(runtime.store("consents"), ConsentGrant),
        rejudgements=RejudgementRepository(rejudgements),
    )
    subscribe(runtime.consumer, service, ready=masters.current)
    runtime.index(planning.CHUNKS, "run_id")  # rejudge status: the judged chunks of a run
    rejudger = Rejudger(
        rejudgements,
        masters,
        runtime.publish,
        on_completed=count_judgement,
        chunks=DocumentStore(runtime.db, planning.CHUNKS),
    )
    runtime.consumer.handle(RejudgementRequested, rejudger.on_requested)
    runtime.background(partial(sweep_deadlines, service, settings.expiry_sweep_seconds))

    async def rejudge(master: Master, **run: Any) -> dict[str, Any]:
        return await planning.run(runtime.db, master, runtime.publish, **run)

    criteria = CriteriaAdministration(store, masters, rejudge=rejudge)
    runtime.index(access_log.COLLECTION, *access_log.INDEXED)
    log_store = AccessLog(
        DocumentStore(runtime.db, access_log.COLLECTION),
        {**access.PURPOSES, **outlook.PURPOSES},
        linked=access.LINKED,
    )
    # 影響確認 (criteria impact preview): compact snapshot mirror, jobs (judgement.impact)
    from judgement.impact import attach as attach_impact

    attach_impact(runtime, service, drafts=_DraftedMasters(criteria), audit=criteria.impact_started)
    return Container(
        runtime=runtime,
        settings=settings,
        masters=masters,
        service=service,
        access_log=log_store,
        criteria=criteria,
    )


class _DraftedMasters:
    """Criteria administration as the impact preview's ``DraftMasters`` port."""

    def __init__(self, criteria: CriteriaAdministration) -> None:
        self.criteria = criteria

    async def for_draft(self, draft_id: str) -> tuple[str, Master, Master]:
        return await self.criteria.drafted(draft_id)


def create_app(settings: Settings | None = None) -> FastAPI:
    from judgement.adapters.inbound.criteria_http import router as criteria_router
    from judgement.adapters.inbound.http import FIELD_LABELS, STATUS, router
    from judgement.adapters.inbound.outlook_http import router as outlook_router
    from judgement.impact.http import router as impact_router

    app = service_app(
        TITLE,
        settings or Settings(),
        wire,
        [router, outlook_router, criteria_router, impact_router, access_log.router],
    )
    install_error_translator(app, STATUS, field_labels=FIELD_LABELS)
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with started(application) as state:
            container: Container = application.state.container
            try:
                async with asyncio.timeout(container.settings.criteria_load_timeout_seconds):
                    await container.masters.current()
            except Exception as exc:  # serve anyway: 503 until the poll builds it
                log.error("criteria.first_load_failed", error=repr(exc)[:300])
            yield state

    app.router.lifespan_context = lifespan
    return app
