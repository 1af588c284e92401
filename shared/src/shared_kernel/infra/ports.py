"""Ports every service shares: a collection of aggregates (``infra.mongo.DocumentStore``).

A service's core depends on this Protocol; tests may pass an in-memory fake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import Change, Document


class Documents(Protocol):
    async def get(self, doc_id: str) -> Document | None: ...

    async def insert(
        self,
        doc: Document,
        events: Sequence[Envelope] = (),
        *,
        applied_event_id: str | None = None,
    ) -> Document: ...

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
    ) -> list[Document]: ...

    async def update(
        self,
        doc_id: str,
        change: Change,
        *,
        applied_event_id: str | None = None,
        attempts: int = 10,
    ) -> Document | None: ...
