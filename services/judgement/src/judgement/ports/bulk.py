"""A collection that also stores many new documents in one round trip (re-judgement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from judgement.ports.documents import Document, Documents


class BulkDocuments(Documents, Protocol):
    async def insert_many(
        self, docs: Sequence[Document], *, applied_event_id: str | None = None
    ) -> list[Any]: ...
