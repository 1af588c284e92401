"""The typed repository over the in-memory store (the same code runs over MongoDB in the
services' integration tests)."""

from __future__ import annotations

from datetime import date

import pytest

from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.errors import StaleVersion
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments

pytestmark = pytest.mark.unit


class Counter(Aggregate):
    count: int = 0
    since: StoredDate = date(2026, 1, 1)


async def test_insert_get_update_and_save_check_the_version() -> None:
    repo = Repository(MemoryDocuments(), Counter)
    stored = await repo.insert(Counter(_id="c1"))
    assert stored.version == 1 and stored.since == date(2026, 1, 1)
    raw = await repo.store.get("c1")
    assert raw is not None and raw["since"] == "2026-01-01"
    bumped = await repo.update(
        "c1", lambda c: (c.model_copy(update={"count": 1}), []) if c else None
    )
    assert bumped is not None and bumped.count == 1 and bumped.version == 2
    with pytest.raises(StaleVersion):
        await repo.save(stored.model_copy(update={"count": 5}))  # read at version 1
    saved = await repo.save(bumped.model_copy(update={"count": 2}))
    assert saved.version == 3 and (await repo.get("c1")) == saved


async def test_an_unknown_field_is_refused_not_dropped() -> None:
    store = MemoryDocuments()
    await store.insert({"_id": "c2", "count": 1, "legacy": True})
    with pytest.raises(ValueError):
        await Repository(store, Counter).get("c2")
