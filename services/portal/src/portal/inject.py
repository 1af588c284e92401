"""Composition root of the portal service: the one place that wires adapters to the pages.

The portal owns no data: it starts without the database and without Kafka. Its lifespan
makes one pooled HTTP client per service (``PooledTransport``), the session cookie's sealer,
the token verifier (identity's keys and ended sessions) and the operations screen's sampler,
runs the background jobs (the sampler, the verifier's refresh) and closes the clients when
the portal stops. The routes get these parts through ``deps.get_portal``, which reads them
from ``app.state.container`` (set here).

Tests override the parts by passing their own settings (service URLs, cookie secret), an
``httpx`` transport for the pooled clients (``httpx.MockTransport``: scripted services), or a
``Transport`` of their own; ``app.state.auth_transport`` (set before the app starts) is how
the verifier reaches identity.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from fastapi import FastAPI

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import Portal, portal_of_app
from portal.adapters.inbound.http import routers
from portal.adapters.outbound.http_pool import PooledTransport
from portal.adapters.outbound.metrics_text import parse_metrics
from portal.adapters.outbound.sampler import Sampler
from portal.adapters.outbound.services import Services, ServiceUnavailable
from portal.adapters.outbound.session_cookie import SessionCodec
from portal.config import Settings
from portal.core.operations import History
from portal.ports.transport import Transport
from shared_kernel.infra.auth import build_authenticator
from shared_kernel.infra.http import create_app as http_app
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)

TITLE = "事業者ポータル"
READY_TIMEOUT_SECONDS = 2.0
Job = Callable[[], Coroutine[Any, Any, None]]


def wire(
    settings: Settings,
    transport: Transport,
    auth_transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Portal, list[Job]]:
    """The portal's parts and the jobs to run while it serves."""
    services = Services(settings, transport)
    codec = SessionCodec(
        settings.cookie_secret.get_secret_value(), settings.session_max_hours * 3600
    )
    points = math.ceil(settings.ops_window_minutes * 60 / settings.ops_sample_seconds) + 1
    history = History(points)
    names = [
        n.strip()
        for n in settings.ops_services.split(",")
        if n.strip() == "portal" or n.strip() in services.urls
    ]
    sampler = Sampler(services, history, names, settings.ops_sample_seconds, parse_metrics)
    auth = build_authenticator(settings, auth_transport)
    portal = Portal(settings, services, codec, history, sampler, auth)
    return portal, [sampler.run, auth.run]


async def readiness(portal: Portal) -> dict[str, str]:
    """``/readyz``: nobody can log in without identity (the other services' outages are told
    on the screens that need them, as a 503 page)."""
    try:
        reply = await portal.services.send(
            "identity", "GET", "/healthz", timeout=READY_TIMEOUT_SECONDS, quiet=True
        )
    except ServiceUnavailable:
        return {"identity": "unavailable"}
    return {"identity": "ok" if reply.status == 200 else f"unavailable: HTTP {reply.status}"}


def create_app(
    settings: Settings | None = None,
    transport: Transport | None = None,
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The portal's app; tests may pass the pooled clients' ``http_transport``
    (``httpx.MockTransport``, ``httpx.ASGITransport``) or a ``transport`` of their own."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pooled: PooledTransport | None = None
        calls: Transport
        if transport is None:
            calls = pooled = PooledTransport(
                settings.service_urls(), settings.service_pool(), transport=http_transport
            )
        else:
            calls = transport
        portal, jobs = wire(settings, calls, getattr(app.state, "auth_transport", None))
        app.state.container = portal
        tasks = [asyncio.create_task(job(), name=f"portal-job-{n}") for n, job in enumerate(jobs)]
        log.info("portal.started")
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            if pooled is not None:
                await pooled.aclose()
            log.info("portal.stopped")

    app = http_app(
        TITLE, lifespan=lifespan, readiness=lambda a: lambda: readiness(portal_of_app(a))
    )
    if settings.process_role != "consume":  # the consumers' process: probes only
        for router in routers:
            app.include_router(router)
    web.install(app, settings)
    return app
