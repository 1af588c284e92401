"""Aggregates as typed models, and the port of a collection of them (pure).

An aggregate is one pydantic model, stored as one document with a natural ``_id`` and a
``version`` (optimistic concurrency). A core changes it with a pure function
``(current) -> (new, events)``; the repository (``shared_kernel.infra.mongo.Repository``)
stores state and events in the same single-document write (outbox) and retries when
another writer came first. Every stored format is this model's: an older one is rewritten
by a migration (``python -m <service> migrate``), never read by a second reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from shared_kernel.events.envelope import Envelope


def _parse_date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


StoredDate = Annotated[
    date, BeforeValidator(_parse_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)
]
"""A calendar date, stored as ``YYYY-MM-DD`` (BSON has no date without a time)."""


class Aggregate(BaseModel):
    """Base of every stored aggregate and read model: ``_id`` (``id`` in code) and ``version``
    (set by the repository; 0 for one not stored yet). Unknown fields are refused, so a
    document a migration missed fails loudly instead of losing data on the next write."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=False)

    id: str = Field(alias="_id")
    version: int = 0

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="python")


A = TypeVar("A", bound=Aggregate)
Outcome = tuple[A, Sequence[Envelope]]
Change = Callable[[A | None], "tuple[A, Sequence[Envelope]] | None"]
"""A pure change: the current aggregate (``None`` if absent) → the new one and its events,
or ``None`` to leave it as it is."""


class Aggregates(Protocol[A]):
    """A collection of aggregates of one type (the port; ``infra.mongo.Repository`` is the
    adapter, ``infra.testing.InMemoryAggregates`` the unit-test fake)."""

    async def get(self, aggregate_id: str) -> A | None: ...

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
    ) -> list[A]: ...

    async def insert(
        self, aggregate: A, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
    ) -> A: ...

    async def save(
        self, aggregate: A, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
    ) -> A:
        """Write ``aggregate`` if the stored one is still at ``aggregate.version`` (else
        ``StaleVersion``); returns it at its new version."""
        ...

    async def update(
        self,
        aggregate_id: str,
        change: Callable[[A | None], tuple[A, Sequence[Envelope]] | None],
        *,
        applied_event_id: str | None = None,
    ) -> A | None:
        """Read, change and write, retrying on concurrent writes; an event already applied
        (``applied_event_id``) changes nothing."""
        ...
