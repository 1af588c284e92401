"""The stored CCUS snapshot versions over a document store (``ports.documents.Snapshots``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from judgement.core.judging import StoredSnapshot
from judgement.ports.documents import Documents


class SnapshotStore:
    """``ccus_snapshots``: written once per snapshot, read whole or by projection."""

    def __init__(self, store: Documents) -> None:
        self.store = store

    async def get(self, snapshot_id: str) -> StoredSnapshot | None:
        return cast(StoredSnapshot | None, await self.store.get(snapshot_id))

    async def find(
        self, flt: Mapping[str, Any], *, projection: Mapping[str, Any] | None = None
    ) -> list[StoredSnapshot]:
        return cast(list[StoredSnapshot], await self.store.find(flt, projection=projection))

    async def insert(self, snapshot: StoredSnapshot) -> None:
        await self.store.insert(dict(snapshot))
