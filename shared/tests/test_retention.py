"""Retention: what is past its time is deleted, by ``_id``, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared_kernel.infra.mongo import delete_older
from shared_kernel.infra.runtime import build_runtime
from shared_kernel.infra.settings import ServiceSettings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_only_documents_older_than_the_cut_are_deleted(db: Any) -> None:
    coll = db["retained"]
    old = [{"_id": f"old-{n}", "at": NOW - timedelta(days=30, minutes=n)} for n in range(5)]
    kept = [
        {"_id": "fresh", "at": NOW - timedelta(days=1)},
        {"_id": "exactly-at-the-cut", "at": NOW - timedelta(days=14)},
        {"_id": "no-date", "at": None},
        {"_id": "no-field"},
        {"_id": "array-beside", "at": NOW, "lines": [{"at": NOW - timedelta(days=99)}]},
    ]
    await coll.insert_many([*old, *kept])
    cut = NOW - timedelta(days=14)
    assert await delete_older(db, "retained", "at", cut, batch=2) == 5  # several batches
    remaining = [d["_id"] async for d in coll.find({}, {"_id": 1})]
    assert sorted(remaining) == sorted(d["_id"] for d in kept)
    assert await delete_older(db, "retained", "at", cut) == 0


def test_every_service_keeps_its_inbox_for_the_configured_days() -> None:
    settings = ServiceSettings(inbox_retention_days=21)
    runtime = build_runtime(settings)
    assert runtime.retention["inbox"] == ("at", timedelta(days=21))


async def test_a_running_service_sweeps_its_inbox(settings: ServiceSettings, db: Any) -> None:
    """The job is wired: a service started with a short sweep interval deletes old ids."""
    from shared_kernel.infra.runtime import running
    from shared_kernel.infra.testing import eventually

    own = settings.model_copy(update={"retention_sweep_seconds": 0.2, "inbox_retention_days": 1})
    now = datetime.now(UTC)
    await db["inbox"].insert_many(
        [
            {"_id": "g|old", "outcome": "handled", "at": now - timedelta(days=2)},
            {"_id": "g|new", "outcome": "handled", "at": now},
        ]
    )
    async with running(build_runtime(own), relay=False):

        async def swept() -> bool:
            return [d["_id"] async for d in db["inbox"].find({})] == ["g|new"]

        await eventually(swept, 15)
