"""The latest CCUS snapshot of every worker in compact form, for bulk readers.

The compact form of each snapshot is kept beside its §5 JSON in ``ccus_snapshots``
(``judging.snapshot_version_doc``). A reader of *every* worker's latest snapshot (the
criteria impact preview) cannot read it from there fast: FerretDB 1.24 reads a whole
document whatever the projection, so each read drags the §5 JSON along (≈ 1,200–1,700
snapshots/s on the development VM), and ``ccus_snapshots`` holds every version. The
collection ``ccus_compact`` (``_id`` = 技能者ID: ``snapshot_id``, ``taken_at``,
``ccus_compact``) mirrors the newest snapshot of each worker in small documents (≈ 9,000–
15,000 read per second): one per worker, whatever the number of versions.

* :class:`MirroredSnapshots` wraps the service's ``ccus_snapshots`` store: every snapshot it
  stores (``JudgementService.on_snapshot``) is mirrored right after, newest ``taken_at``
  first — also when the snapshot was stored already (a redelivered event finishes what a
  crash interrupted). Writes go through ``DocumentStore.update`` (``_id`` + version).
* :func:`backfill` is the migration: the workers whose latest snapshot was stored before
  the mirror existed (``ccus_workers`` has a worker the mirror lacks) get their newest
  snapshot mirrored, converted from its §5 JSON (``judging.stored_compact``). The impact
  job runs it whenever the mirror holds fewer workers than ``ccus_workers`` (each run
  finishes what an interrupted one left), so an existing database migrates itself at its
  first preview; snapshots themselves are immutable and are never rewritten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from judgement.core import judging
from judgement.core.judging import StoredSnapshot
from judgement.ports import Documents
from judgement.ports.documents import Snapshots
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.mongo import Change, Document
from shared_kernel.time import as_utc

log = get_logger(__name__)

MIRROR = "ccus_compact"
SNAPSHOTS = "ccus_snapshots"
WORKERS = "ccus_workers"
STORED_FORMS = {"ccus_compact": 1, "ccus_json": 1, "ccus": 1, "worker_id": 1, "taken_at": 1}


def keep_newest(snapshot: Mapping[str, Any]) -> Change:
    """The mirror's change for a stored snapshot document: replace an older one only."""

    def change(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
        taken_at = as_utc(snapshot["taken_at"])
        if doc is not None and as_utc(doc["taken_at"]) >= taken_at:
            return None
        return {
            "snapshot_id": snapshot["_id"],
            "taken_at": taken_at,
            "ccus_compact": judging.stored_compact_text(cast(judging.StoredSnapshot, snapshot)),
        }, []

    return change


async def mirror(store: Documents, snapshot: Mapping[str, Any]) -> None:
    """Mirror one stored snapshot document (if it is the worker's newest)."""
    await store.update(str(snapshot["worker_id"]), keep_newest(snapshot))


class MirroredSnapshots:
    """The stored snapshot versions (``ports.documents.Snapshots``) whose inserts are
    mirrored in ``ccus_compact``."""

    def __init__(self, snapshots: Snapshots, compact: Documents) -> None:
        self.snapshots = snapshots
        self.compact = compact

    async def get(self, snapshot_id: str) -> StoredSnapshot | None:
        return await self.snapshots.get(snapshot_id)

    async def find(
        self, flt: Mapping[str, Any], *, projection: Mapping[str, Any] | None = None
    ) -> list[StoredSnapshot]:
        return await self.snapshots.find(flt, projection=projection)

    async def insert(self, snapshot: StoredSnapshot) -> None:
        try:
            await self.snapshots.insert(snapshot)
        except AlreadyExists:
            await mirror(self.compact, snapshot)  # stored before a crash: mirror it now
            raise
        await mirror(self.compact, snapshot)

    async def superseded(self, snapshot_id: str, worker_id: str, at: datetime) -> None:
        await self.snapshots.superseded(snapshot_id, worker_id, at)


async def collection_count(db: AsyncDatabase[Document], name: str) -> int:
    """The number of documents of a collection, without reading them (``collStats``: on
    FerretDB 1.24 ``count_documents`` reads every document, ≈ 10 s per 100,000)."""
    try:
        stats = await db.command({"collStats": name})
        return int(stats.get("count", 0))
    except Exception:  # e.g. a server without collStats
        return int(await db[name].count_documents({}))


async def backfill(
    db: AsyncDatabase[Document],
    store: Documents,
    *,
    progress: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Mirror the newest snapshot of every worker the mirror lacks (or holds an older one
    of); returns how many were mirrored. Idempotent: a second run finds nothing to do.
    ``progress`` is awaited now and then (the job's heartbeat)."""
    mirrored = {
        d["_id"]: as_utc(d["taken_at"])
        async for d in db[MIRROR].find({}, {"taken_at": 1}, batch_size=5000)
    }
    wanted = [
        d["snapshot_id"]
        async for d in db[WORKERS].find({}, {"snapshot_id": 1, "taken_at": 1}, batch_size=2000)
        if d["_id"] not in mirrored or mirrored[d["_id"]] < as_utc(d["taken_at"])
    ]
    done = 0
    if len(wanted) <= 50:
        for snapshot_id in wanted:
            found = await db[SNAPSHOTS].find_one({"_id": snapshot_id}, STORED_FORMS)
            if found is not None:
                await mirror(store, found)
                done += 1
                if progress is not None:
                    await progress()
    else:  # one pass (a lookup by _id costs a few ms each even with the indexes)
        remaining = set(wanted)
        async for found in db[SNAPSHOTS].find({}, STORED_FORMS, batch_size=500):
            if found["_id"] in remaining:
                remaining.discard(found["_id"])
                await mirror(store, found)
                done += 1
            if progress is not None:
                await progress()
    if done:
        log.info("impact.mirror_backfilled", workers=done)
    return done
