"""What the pages need from the running portal, and the placeholder they ask it through.

Routes declare ``portal: PortalDep``; ``inject.py`` (the composition root) puts the parts it
wired at start-up on ``app.state.container``, where :func:`get_portal` finds them (the
session middleware and the error pages, which FastAPI's dependencies do not reach, read the
same, ``portal_of_app``). A test may still override :func:`get_portal`. Not
``app.dependency_overrides`` in the running app: with any override set, FastAPI analyses
every route's dependencies again on each request (≈ 0.3 ms of CPU a request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from portal.adapters.outbound.sampler import Sampler
from portal.adapters.outbound.services import Services
from portal.config import Settings
from portal.core.operations import History
from portal.ports.session import SessionSealer
from shared_kernel.infra.auth import Authenticator


@dataclass
class Portal:
    """The running portal's parts (made in ``inject.py`` when the app starts)."""

    settings: Settings
    services: Services
    codec: SessionSealer
    history: History
    sampler: Sampler
    auth: Authenticator
    """Verifies the sessions that ended (``shared_kernel.infra.auth``)."""


def get_portal(request: Request) -> Portal:
    """The running portal's parts (wired by ``inject.py`` when the app starts)."""
    portal = getattr(request.app.state, "container", None)
    if not isinstance(portal, Portal):
        raise NotImplementedError("the portal is not wired (inject.create_app)")
    return portal


PortalDep = Annotated[Portal, Depends(get_portal)]


def portal_of_app(app: FastAPI) -> Portal:
    """The parts for the middleware and the error pages (outside FastAPI's dependencies)."""
    portal = app.state.container
    assert isinstance(portal, Portal)
    return portal
