"""A collection that also stores many new documents in one round trip (re-judgement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shared_kernel.mongo import Document
from shared_kernel.ports import Documents


class BulkDocuments(Documents, Protocol):
    async def insert_many(
        self, docs: Sequence[Document], *, applied_event_id: str | None = None
    ) -> list[Any]: ...
