"""The CCUS check's counts and locks (collection ``ccus_checks``): one document store, off
the relay's sweep (no events), holding records of three kinds (``core/checks.py``)."""

from __future__ import annotations

from typing import TypeVar

from shared_kernel.aggregate import Aggregate
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository

A = TypeVar("A", bound=Aggregate)


class CheckStore(DocumentStore):
    def of(self, model: type[A]) -> Repository[A]:
        return Repository(self, model)
