"""What the judgement routes depend on, as FastAPI dependency placeholders.

:func:`wiring` is the container ``judgement.inject`` wired, which the app's lifespan puts
on ``app.state.container``, so no route module imports the composition root; a test
overrides it with its own. Not ``app.dependency_overrides`` in the running app: with any
override set, FastAPI analyses every route's dependencies again on each request (≈ 0.5 ms
of CPU a request).
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from judgement.config import Settings
from judgement.core.master import Master
from judgement.core.service import JudgementService
from judgement.criteria_admin.service import CriteriaAdministration
from judgement.criteria_admin.source import MasterSource
from shared_kernel.infra.access_log import AccessLog


class Wiring(Protocol):
    """The wired service as the routes see it (``judgement.inject.Container``)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def service(self) -> JudgementService: ...

    @property
    def access_log(self) -> AccessLog: ...

    @property
    def criteria(self) -> CriteriaAdministration: ...

    @property
    def masters(self) -> MasterSource: ...

    @property
    def master(self) -> Master: ...


def wiring(request: Request) -> Wiring:
    """The wired container (``judgement.inject``; the lifespan sets ``app.state.container``)."""
    container: Wiring = request.app.state.container
    return container


Wired = Annotated[Wiring, Depends(wiring)]
