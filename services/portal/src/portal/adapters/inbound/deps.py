"""What the pages need from the running portal, and the placeholder they ask it through.

Routes declare ``portal: PortalDep``; ``inject.py`` (the composition root) wires the
placeholder at start-up with ``app.dependency_overrides[get_portal]``. The session middleware
and the error pages, which FastAPI's dependencies do not reach, are given the same parts by
``web.install`` (``portal_of_app``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

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


def get_portal() -> Portal:
    """Placeholder: ``inject.py`` overrides it with the running portal's parts."""
    raise NotImplementedError("the portal is not wired (inject.create_app)")


PortalDep = Annotated[Portal, Depends(get_portal)]


def portal_of_app(app: FastAPI) -> Portal:
    """The parts for the middleware and the error pages (outside FastAPI's dependencies)."""
    portal = app.state.container
    assert isinstance(portal, Portal)
    return portal
