"""The aggregate-collection port (shared by every service) and the CCUS check records."""

from __future__ import annotations

from typing import Protocol, TypeVar

from shared_kernel.aggregate import Aggregate, Aggregates

A = TypeVar("A", bound=Aggregate)


class CheckRecords(Protocol):
    """The one collection of the CCUS check's counts and locks (``core/checks.py``), which
    holds records of three kinds, told apart by their key."""

    def of(self, model: type[A]) -> Aggregates[A]:
        """The records of one kind (``EmployerChecks``, ``WorkerFailures``, ``PairFailures``)."""
        ...


__all__ = ["Aggregates", "CheckRecords"]
