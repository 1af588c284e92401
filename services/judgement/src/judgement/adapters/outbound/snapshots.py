"""The stored CCUS snapshot versions over a document store (``ports.documents.Snapshots``),
and the supersession records the retention sweep reads (``judgement.core.retention``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from judgement.core.judging import StoredSnapshot
from judgement.ports.documents import Document, Documents
from shared_kernel.events import Envelope

SUPERSEDED = "ccus_superseded"
"""``_id`` = a snapshot's id, ``worker_id``, ``superseded_at``: written when the snapshot
stops being its worker's latest; read and deleted by the retention sweep."""


class SnapshotStore:
    """``ccus_snapshots``: written once per snapshot, read whole or by projection."""

    def __init__(self, store: Documents, superseded: Documents | None = None) -> None:
        self.store = store
        self.records = superseded  # ccus_superseded (None: nothing is recorded)

    async def get(self, snapshot_id: str) -> StoredSnapshot | None:
        return cast(StoredSnapshot | None, await self.store.get(snapshot_id))

    async def find(
        self, flt: Mapping[str, Any], *, projection: Mapping[str, Any] | None = None
    ) -> list[StoredSnapshot]:
        return cast(list[StoredSnapshot], await self.store.find(flt, projection=projection))

    async def insert(self, snapshot: StoredSnapshot) -> None:
        await self.store.insert(dict(snapshot))

    async def superseded(self, snapshot_id: str, worker_id: str, at: datetime) -> None:
        """Record (or refresh: the grace period counts from the last time) a supersession."""
        if self.records is None:
            return

        def record(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
            return {"worker_id": worker_id, "superseded_at": at}, []

        await self.records.update(snapshot_id, record)
