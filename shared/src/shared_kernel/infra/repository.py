"""The typed repository: aggregates of one pydantic model over a document store.

``Repository(store, Application)`` is the adapter of ``shared_kernel.aggregate.Aggregates``
over a :class:`~shared_kernel.infra.mongo.DocumentStore` (or the unit tests'
``MemoryDocuments``). The bookkeeping fields (outbox, applied event ids) stay in the
document and out of the model; ``save`` checks the version inside the write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from shared_kernel.aggregate import Aggregate
from shared_kernel.documents import Documents
from shared_kernel.errors import StaleVersion
from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import BOOKKEEPING, Document

A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    def __init__(self, store: Documents, model: type[A]) -> None:
        self.store = store
        self.model = model

    def load(self, doc: Mapping[str, Any]) -> A:
        return self.model.model_validate({k: v for k, v in doc.items() if k not in BOOKKEEPING})

    @staticmethod
    def dump(aggregate: Aggregate) -> Document:
        doc = aggregate.to_document()
        doc.pop("version", None)  # the store's to keep
        return doc

    async def get(self, aggregate_id: str) -> A | None:
        doc = await self.store.get(aggregate_id)
        return None if doc is None else self.load(doc)

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
    ) -> list[A]:
        return [self.load(doc) for doc in await self.store.find(flt, sort=sort, limit=limit)]

    async def insert(
        self, aggregate: A, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
    ) -> A:
        stored = await self.store.insert(
            self.dump(aggregate), events, applied_event_id=applied_event_id
        )
        return self.load(stored)

    async def save(
        self, aggregate: A, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
    ) -> A:
        def change(doc: Document | None) -> tuple[Document, Sequence[Envelope]]:
            if doc is None or doc.get("version") != aggregate.version:
                raise StaleVersion(f"{aggregate.id}: no longer at version {aggregate.version}")
            return self.dump(aggregate), events

        stored = await self.store.update(aggregate.id, change, applied_event_id=applied_event_id)
        assert stored is not None
        return self.load(stored)

    async def update(
        self,
        aggregate_id: str,
        change: Callable[[A | None], tuple[A, Sequence[Envelope]] | None],
        *,
        applied_event_id: str | None = None,
    ) -> A | None:
        def on_documents(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
            outcome = change(None if doc is None else self.load(doc))
            if outcome is None:
                return None
            new, events = outcome
            return self.dump(new), events

        stored = await self.store.update(
            aggregate_id, on_documents, applied_event_id=applied_event_id
        )
        return None if stored is None else self.load(stored)
