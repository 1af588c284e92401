"""The port of a collection of raw documents (pure: no database driver here).

For what is not (yet) a typed aggregate — bulk paths that project, read models of other
services' events — a core may depend on :class:`Documents`. Typed aggregates use
``shared_kernel.aggregate.Aggregates``. ``shared_kernel.infra.mongo.DocumentStore`` is the
adapter, ``shared_kernel.infra.testing.MemoryDocuments`` the unit tests' fake. Every write
addresses one document by ``_id`` and version; the events a change raises are stored with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shared_kernel.events.envelope import Envelope

Document = dict[str, Any]


class Change(Protocol):
    """What a command does to a document: the new state and its events, or ``None``."""

    def __call__(self, doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None: ...


class Documents(Protocol):
    async def get(self, doc_id: str) -> Document | None: ...

    async def insert(
        self, doc: Document, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
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
