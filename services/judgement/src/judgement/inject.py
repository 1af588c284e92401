"""Composition root of the judgement service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics, extra
criteria files) or by calling ``wire`` with a runtime of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from judgement.config import Settings
from judgement.core import access
from judgement.core.master import Master
from judgement.core.service import JudgementService
from judgement.criteria import default_master, load_master
from shared_kernel import access_log
from shared_kernel.access_log import AccessLog
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    JudgementStarted,
    PartnerJudgementCompleted,
)
from shared_kernel.runtime import Runtime
from shared_kernel.service import service_app

PUBLISHES = (
    JudgementStarted,
    JudgementCompletedV2,
    PartnerJudgementCompleted,
)
"""The events this service publishes (its part of docs/asyncapi.json)."""
TITLE = "レベル判定サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    master: Master
    service: JudgementService
    access_log: AccessLog


def wire(runtime: Runtime) -> Container:
    from judgement.adapters.inbound.events import subscribe, sweep_deadlines
    from judgement.adapters.outbound.metrics import count_judgement
    from judgement.rejudge.service import Rejudger
    from shared_kernel.events.catalogue import RejudgementRequested
    from shared_kernel.mongo import DocumentStore

    # 再判定: not a relay store (its documents carry no outbox; see judgement.rejudge.service)
    runtime.index("rejudgements", "line_id", "employer_id", "application_id", "worker_id")
    rejudgements = DocumentStore(runtime.db, "rejudgements")

    settings = runtime.settings
    assert isinstance(settings, Settings)
    runtime.publishes(*PUBLISHES)
    master = load_master(settings.criteria_extra) if settings.criteria_extra else default_master()
    service = JudgementService(
        runtime.store("ccus_workers"),
        runtime.store("ccus_snapshots"),
        runtime.store("judgements", "employer_id", "application_id", "worker_id", "status"),
        master,
        policy=settings.review_policy,
        wait_days=settings.ccus_wait_days,
        on_completed=count_judgement,
        consents=runtime.store("consents"),
        rejudgements=rejudgements,
    )
    subscribe(runtime.consumer, service)
    rejudger = Rejudger(
        rejudgements,
        master,
        runtime.publish,
        on_completed=count_judgement,
    )
    runtime.consumer.handle(RejudgementRequested, rejudger.on_requested)
    runtime.background(partial(sweep_deadlines, service, settings.expiry_sweep_seconds))
    runtime.index(access_log.COLLECTION, *access_log.INDEXED)
    log = AccessLog(
        DocumentStore(runtime.db, access_log.COLLECTION), access.PURPOSES, linked=access.LINKED
    )
    return Container(
        runtime=runtime, settings=settings, master=master, service=service, access_log=log
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    from judgement.adapters.inbound.http import router

    return service_app(TITLE, settings or Settings(), wire, [router, access_log.router])
