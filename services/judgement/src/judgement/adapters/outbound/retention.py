"""The retention sweep of stored CCUS snapshot versions (the rules: ``judgement.core.retention``).

Runs in the consume role beside the other retention sweeps (every
``retention_sweep_seconds``; the first one a minute after start-up) and on demand as
``python -m judgement retention [--dry-run] [--reconcile]``.

One sweep reads the supersession records (``ccus_superseded``) older than the cutoff (the
grace period ``JUDGEMENT_SNAPSHOT_GRACE_DAYS``, or the start of the oldest impact preview
still running), and for each one, in this order and right before acting on it:

1. reads the worker's pointers by ``_id`` (``ccus_workers`` and the compact mirror
   ``ccus_compact``): the latest is kept;
2. looks for a judgement (``judgements``) or re-judgement (``rejudgements``) that cites the
   snapshot (``snapshot_id``, indexed): a cited one is kept for good;
3. deletes the snapshot by ``_id``, then its record by ``_id``.

FerretDB has no transactions: a judgement written between step 2 and step 3 would cite a
deleted snapshot. It cannot happen in practice because every judgement judges from the
snapshot its worker's pointer names when it is judged (or, for a re-judgement, from the
one its line already cites), and a snapshot is only deleted once it stopped being the
latest longer than the grace period ago (days; a judgement reads and writes within
seconds). A record that names a snapshot which is the latest again (a race between two
snapshots of one worker) or that is cited is dropped; a new supersession writes a new one.

``reconcile`` writes the records a database lacks: snapshots stored before this sweep
existed, or whose record was lost (a process that died between moving the pointer and
writing the record). It reads every stored snapshot once (FerretDB reads whole documents:
≈ 1,500 snapshots/s), so it is a migration (``judgement-0003-snapshot-supersessions``) and
an operator's command, not part of the periodic sweep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from judgement.adapters.outbound.snapshots import SUPERSEDED, SnapshotStore
from judgement.core import retention
from judgement.core.retention import Decision, Superseded
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.metrics import RETENTION_DELETED
from shared_kernel.infra.mongo import Document, DocumentStore, delete_by_id
from shared_kernel.infra.runtime import RETENTION_FIRST_SWEEP_SECONDS
from shared_kernel.time import as_utc

log = get_logger(__name__)

SNAPSHOTS = "ccus_snapshots"
POINTERS = ("ccus_workers", "ccus_compact")
CITING = ("judgements", "rejudgements")
IMPACTS = "criteria_impacts"
ACTIVE_IMPACTS = ("queued", "running")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SweepResult:
    deleted: int = 0
    cited: int = 0
    latest: int = 0
    waiting: int = 0
    snapshot_ids: list[str] = field(default_factory=list)
    """The snapshots deleted (or, in a dry run, that would be)."""

    def summary(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "kept_cited": self.cited,
            "kept_latest": self.latest,
            "waiting": self.waiting,
        }


class SnapshotRetention:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        grace: timedelta,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self.grace = grace
        self.clock = clock

    async def running_since(self) -> datetime | None:
        """The start of the oldest impact preview still queued or running."""
        starts = [
            as_utc(d["started_at"])
            async for d in self.db[IMPACTS].find(
                {"status": {"$in": list(ACTIVE_IMPACTS)}}, {"started_at": 1}
            )
            if d.get("started_at") is not None
        ]
        return min(starts, default=None)

    async def latest_of(self, worker_id: str) -> set[str]:
        found = set()
        for name in POINTERS:
            pointer = await self.db[name].find_one({"_id": worker_id}, {"snapshot_id": 1})
            if pointer is not None and pointer.get("snapshot_id"):
                found.add(str(pointer["snapshot_id"]))
        return found

    async def cited(self, snapshot_id: str) -> bool:
        for name in CITING:
            if await self.db[name].find_one({"snapshot_id": snapshot_id}, {"_id": 1}):
                return True
        return False

    async def sweep(self, *, dry_run: bool = False) -> SweepResult:
        """One pass over the supersession records due now."""
        before = retention.cutoff(self.clock(), self.grace, await self.running_since())
        result = SweepResult()
        due = [
            Superseded(str(d["_id"]), str(d["worker_id"]), as_utc(d["superseded_at"]))
            async for d in self.db[SUPERSEDED].find(
                {"superseded_at": {"$lt": before}}, batch_size=1000
            )
        ]
        for record in due:
            decision = retention.decide(
                record,
                latest=await self.latest_of(record.worker_id),
                cited=await self.cited(record.snapshot_id),
                before=before,
            )
            if decision is Decision.WAIT:
                result.waiting += 1
                continue
            if decision is Decision.DELETE:
                result.deleted += 1
                result.snapshot_ids.append(record.snapshot_id)
            elif decision is Decision.CITED:
                result.cited += 1
            else:
                result.latest += 1
            if dry_run:
                continue
            if decision is Decision.DELETE:
                await delete_by_id(self.db, SNAPSHOTS, record.snapshot_id)
            await delete_by_id(self.db, SUPERSEDED, record.snapshot_id)
        if result.deleted and not dry_run:
            RETENTION_DELETED.labels(SNAPSHOTS).inc(result.deleted)
        if any((result.deleted, result.cited, result.latest)):
            log.info("retention.snapshots", dry_run=dry_run, **result.summary())
        return result

    async def run(self, every: float) -> None:
        """Background job: a sweep every ``every`` seconds (the first after a minute)."""
        await asyncio.sleep(min(RETENTION_FIRST_SWEEP_SECONDS, every))
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention.sweep_failed", collection=SNAPSHOTS)
            await asyncio.sleep(every)

    async def reconcile(self) -> int:
        """Write the supersession record of every stored snapshot that is neither its
        worker's latest nor cited and has none (superseded now: the grace period starts
        today); how many."""
        now = self.clock()
        records = SnapshotStore(
            DocumentStore(self.db, SNAPSHOTS), DocumentStore(self.db, SUPERSEDED)
        )
        recorded = {d["_id"] async for d in self.db[SUPERSEDED].find({}, {"_id": 1})}
        latest: dict[str, set[str]] = {}
        for name in POINTERS:
            async for d in self.db[name].find({}, {"snapshot_id": 1}, batch_size=5000):
                latest.setdefault(str(d["_id"]), set()).add(str(d.get("snapshot_id")))
        written = 0
        async for d in self.db[SNAPSHOTS].find({}, {"worker_id": 1}, batch_size=500):
            snapshot_id, worker_id = str(d["_id"]), str(d.get("worker_id"))
            if snapshot_id in recorded or snapshot_id in latest.get(worker_id, set()):
                continue
            if worker_id not in latest:
                continue  # no pointer yet (the snapshot's event is being applied): leave it
            if await self.cited(snapshot_id):
                continue  # kept for good: no record needed
            await records.superseded(snapshot_id, worker_id, now)
            written += 1
        if written:
            log.info("retention.reconciled", records=written)
        return written
