"""What the judgement routes depend on, as FastAPI dependency placeholders.

``judgement.inject.create_app`` overrides :func:`wiring` with the container it wired
(``app.dependency_overrides``), so no route module imports the composition root; a test
overrides it with its own.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

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


def wiring() -> Wiring:
    """Placeholder: ``judgement.inject.create_app`` gives the wired container."""
    raise NotImplementedError("judgement.inject.create_app overrides this dependency")


Wired = Annotated[Wiring, Depends(wiring)]
