"""What criteria administration needs from storage, and how readers get the master in force."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from judgement.core.criteria_admin import AuditEntry, CriteriaDraft, CriteriaVersion
from judgement.core.master import Master
from shared_kernel.events import Envelope


class MasterInForce(Protocol):
    """The master every reader judges with (one per process, rebuilt on publication)."""

    @property
    def master(self) -> Master:
        """The master as last built (raises when none could be built yet)."""
        ...

    async def fresh(self) -> Master:
        """The master after checking the published generation (rebuilt if it moved)."""
        ...


class FixedMaster:
    """A master that never changes (tests, the operators' commands)."""

    def __init__(self, master: Master) -> None:
        self._master = master

    @property
    def master(self) -> Master:
        return self._master

    async def fresh(self) -> Master:
        return self._master


class VersionExists(Exception):
    """A version with that id is published already (versions are never replaced)."""


class CriteriaStore(Protocol):
    """``criteria_versions``, ``criteria_drafts``, ``criteria_audit`` and ``criteria_state``."""

    async def versions(self, trade: str | None = None) -> list[CriteriaVersion]: ...

    async def version(self, version_id: str) -> CriteriaVersion | None: ...

    async def version_of_draft(self, draft_id: str) -> CriteriaVersion | None: ...

    async def insert_version(
        self, version: CriteriaVersion, events: Sequence[Envelope] = ()
    ) -> None:
        """Store a new version with the events it raises; ``VersionExists`` if taken."""
        ...

    async def draft(self, draft_id: str) -> CriteriaDraft | None: ...

    async def drafts(
        self, trade: str | None = None, status: str | None = None
    ) -> list[CriteriaDraft]: ...

    async def insert_draft(self, draft: CriteriaDraft) -> CriteriaDraft: ...

    async def update_draft(
        self, draft_id: str, change: Callable[[CriteriaDraft], CriteriaDraft]
    ) -> CriteriaDraft:
        """Apply ``change`` to the stored draft (re-read and retried on concurrent writes);
        exceptions of ``change`` propagate and nothing is stored."""
        ...

    async def record(self, entry: AuditEntry) -> None: ...

    async def audit_trail(self, trade: str | None = None) -> list[AuditEntry]: ...

    async def generation(self) -> int:
        """How many publications the master has seen (``criteria_state.generation``)."""
        ...

    def publishing(self, holder: str) -> AbstractAsyncContextManager[None]:
        """Hold the one right to publish (one publication at a time, across processes)."""
        ...

    async def bump_generation(self, version_id: str | None) -> int: ...


__all__ = [
    "CriteriaStore",
    "FixedMaster",
    "MasterInForce",
    "VersionExists",
]
