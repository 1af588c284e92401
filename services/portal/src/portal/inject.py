"""Composition root of the portal service: the one place that wires adapters to the core.

The services are called through one pooled HTTP client each (``PooledTransport``), made
here, in the app's lifespan, and closed when the portal stops. Tests override it by
passing their own settings (service URLs, cookie secret), an ``httpx`` transport for those
clients (``httpx.MockTransport``: scripted services), or a ``Transport`` of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import httpx
from fastapi import FastAPI

from portal.adapters.outbound.http_pool import PooledTransport
from portal.adapters.outbound.sampler import Sampler
from portal.adapters.outbound.services import Services
from portal.config import Settings
from portal.core.operations import History
from portal.core.session import SessionCodec
from portal.ports.transport import Transport
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app

TITLE = "事業者ポータル"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    services: Services
    codec: SessionCodec
    history: History
    sampler: Sampler


def wire(
    runtime: Runtime,
    transport: Transport | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    if transport is None:
        pooled = PooledTransport(
            settings.service_urls(), settings.service_pool(), transport=http_transport
        )
        runtime.background(pooled.close_on_stop)
        transport = pooled
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
    sampler = Sampler(services, history, names, settings.ops_sample_seconds)
    runtime.background(sampler.run)
    return Container(runtime, settings, services, codec, history, sampler)


def create_app(
    settings: Settings | None = None,
    transport: Transport | None = None,
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The portal's app; tests may pass the pooled clients' ``http_transport``
    (``httpx.MockTransport``, ``httpx.ASGITransport``) or a ``transport`` of their own."""
    from portal.adapters.inbound import web
    from portal.adapters.inbound.http import routers

    app = service_app(
        TITLE,
        settings or Settings(),
        partial(wire, transport=transport, http_transport=http_transport),
        routers,
        dead_letters=False,
    )
    web.install(app)
    return app
