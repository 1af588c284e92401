"""Composition root of the portal service: the one place that wires adapters to the core.

Tests override it by passing their own settings (service URLs, cookie secret) or by
calling ``wire`` with a runtime of their own, or a transport of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from portal.adapters.outbound.sampler import Sampler
from portal.adapters.outbound.services import Services
from portal.adapters.outbound.transport import H11Transport
from portal.config import Settings
from portal.core.operations import History
from portal.core.session import SessionCodec
from portal.ports.transport import Transport
from shared_kernel.runtime import Runtime
from shared_kernel.service import service_app

TITLE = "事業者ポータル"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings
    services: Services
    codec: SessionCodec
    history: History
    sampler: Sampler


def wire(runtime: Runtime, transport: Transport | None = None) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    services = Services(settings, transport or H11Transport())
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


def create_app(settings: Settings | None = None, transport: Transport | None = None) -> FastAPI:
    """The portal's app; tests may pass a transport of their own (fake services)."""
    from portal.adapters.inbound import web
    from portal.adapters.inbound.http import routers

    app = service_app(
        TITLE,
        settings or Settings(),
        partial(wire, transport=transport),
        routers,
        dead_letters=False,
    )
    web.install(app)
    return app
