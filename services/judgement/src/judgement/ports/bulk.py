"""A collection that also stores many new documents in one round trip (re-judgement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shared_kernel.infra.mongo import Document
from shared_kernel.infra.ports import Documents


class BulkDocuments(Documents, Protocol):
    async def insert_many(
        self, docs: Sequence[Document], *, applied_event_id: str | None = None
    ) -> list[Any]: ...
