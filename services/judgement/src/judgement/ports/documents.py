"""The judgement core's ports to its collections: raw documents (``shared_kernel.documents``,
for the bulk paths that project) and the stored CCUS snapshot versions (:class:`Snapshots`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from judgement.core.judging import StoredSnapshot
from shared_kernel.documents import Change, Document, Documents


class Snapshots(Protocol):
    """The stored CCUS snapshot versions (immutable records, ``judging.StoredSnapshot``);
    reads may project fields (a bulk reader takes only ``ccus_json``)."""

    async def get(self, snapshot_id: str) -> StoredSnapshot | None: ...

    async def find(
        self, flt: Mapping[str, Any], *, projection: Mapping[str, Any] | None = None
    ) -> list[StoredSnapshot]: ...

    async def insert(self, snapshot: StoredSnapshot) -> None:
        """Store a new version (``AlreadyExists`` when it is there already)."""
        ...

    async def superseded(self, snapshot_id: str, worker_id: str, at: datetime) -> None:
        """Record that ``snapshot_id`` stopped being ``worker_id``'s latest ``at`` (what the
        retention sweep reads: ``judgement.core.retention``)."""
        ...


__all__ = ["Change", "Document", "Documents", "Snapshots"]
