"""Snapshot retention against the real database (``judgement.adapters.outbound.retention``).

Snapshots arrive through the service's own handler (newer ones, one late and older, one
cited by a judgement); the sweep keeps each worker's latest and every cited snapshot,
waits out the grace period and a running impact preview, re-reads the citations (a
re-judgement written after the records were read), deletes by ``_id`` only, and the
reconcile writes the records a database lacks (snapshots stored before the sweep existed).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from judgement.adapters.inbound import retention_cli
from judgement.adapters.outbound.retention import SnapshotRetention
from judgement.adapters.outbound.snapshots import SUPERSEDED
from judgement.config import Settings
from judgement.core import judging
from judgement.feed.synthetic import Generated, generate
from judgement.inject import create_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    CcusWorkerSnapshot,
)
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated

EMPLOYER = "12345678901234"
GRACE = timedelta(days=7)


def workers() -> list[Generated]:
    return list(generate(2, seed="retention-it", as_of=date(2026, 11, 1)))


def later(snapshot: CcusWorkerSnapshot, days: int) -> CcusWorkerSnapshot:
    return snapshot.model_copy(update={"taken_at": snapshot.taken_at + timedelta(days=days)})


def submitted(worker: Generated) -> Envelope:
    line = ApplicationLine(
        line_id="RT-1-1",
        worker_id=worker.snapshot.worker_id,
        worker_name=worker.snapshot.name,
        worker_name_kana=worker.snapshot.name_kana,
        birth_date=worker.snapshot.birth_date,
        trade=worker.trade,
        requested_level=2,
        fee_yen=0,
    )
    return Envelope(
        ApplicationSubmitted(
            application_id="RT-1",
            employer_id=EMPLOYER,
            application_date=date(2026, 11, 20),
            submitted_at=datetime(2026, 11, 20, tzinfo=UTC),
            fee_total_yen=0,
            lines=[line],
        ),
        source="application",
    )


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def stored_ids(db: Any) -> set[str]:
    return {d["_id"] async for d in db["ccus_snapshots"].find({}, {"_id": 1})}


async def test_the_sweep_keeps_the_latest_and_the_cited_and_deletes_the_rest(
    settings: ServiceSettings, db: object
) -> None:
    own = isolated(
        Settings, topic_prefix=settings.topic_prefix, db_name=settings.db_name, review_policy="auto"
    )
    app = create_app(own)
    a, b = workers()
    a1 = a.snapshot
    a0, a2, a3 = later(a1, -5), later(a1, 1), later(a1, 2)
    b1 = b.snapshot
    b2 = later(b1, 1)
    sid = judging.snapshot_id
    async with app.router.lifespan_context(app):
        container = app.state.container
        service, db = container.service, container.runtime.db
        now = datetime.now(UTC)
        for snapshot in (a1, a2, a3, a0, b1):  # a0 arrives late: superseded on arrival
            await service.on_snapshot(Envelope(snapshot, source="ccus"))
        await service.on_application_submitted(submitted(b))  # judged from b1: cites it
        [line] = await service.judgements.find({"worker_id": b1.worker_id})
        assert line.status == "completed" and line.snapshot_id == sid(b1)
        await service.on_snapshot(Envelope(b2, source="ccus"))
        await service.on_snapshot(Envelope(a2, source="ccus"))  # redelivered: nothing new

        records = {d["_id"]: d async for d in db[SUPERSEDED].find({})}
        assert set(records) == {sid(a0), sid(a1), sid(a2), sid(b1)}
        everything = {sid(s) for s in (a0, a1, a2, a3, b1, b2)}
        assert await stored_ids(db) == everything

        # within the grace period nothing goes
        result = await SnapshotRetention(db, grace=GRACE, clock=at(now)).sweep()
        assert result.deleted == 0 and await stored_ids(db) == everything

        # past it, an impact preview that started before the supersessions holds them back
        await db["criteria_impacts"].insert_one(
            {"_id": "CD-1", "status": "running", "started_at": now - timedelta(hours=1)}
        )
        sweep = SnapshotRetention(db, grace=GRACE, clock=at(now + GRACE + timedelta(days=1)))
        assert (await sweep.sweep()).deleted == 0
        await db["criteria_impacts"].delete_one({"_id": "CD-1"})

        # a dry run counts and deletes nothing
        dry = await sweep.sweep(dry_run=True)
        assert (dry.deleted, dry.cited) == (3, 1)
        assert await stored_ids(db) == everything

        # a re-judgement cites a2 after the records were read: the check right before the
        # delete sees it
        await db["rejudgements"].insert_one({"_id": "RT-1-1#2", "snapshot_id": sid(a2)})
        result = await sweep.sweep()
        assert sorted(result.snapshot_ids) == sorted([sid(a0), sid(a1)])
        assert (result.deleted, result.cited, result.latest) == (2, 2, 0)
        assert await stored_ids(db) == {sid(a2), sid(a3), sid(b1), sid(b2)}
        assert [d async for d in db[SUPERSEDED].find({})] == []  # every record decided
        # the judgement still reads its snapshot; the pointers are untouched
        assert await service.snapshots.get(sid(b1)) is not None
        pointer = await service.workers.get(a.snapshot.worker_id)
        assert pointer is not None and pointer.snapshot_id == sid(a3)
        assert (await sweep.sweep()).deleted == 0  # nothing left to do

        # a snapshot stored before the sweep existed (no record): reconcile records it
        old = judging.snapshot_version_doc(later(a1, -30))
        await db["ccus_snapshots"].insert_one(dict(old))
        assert await sweep.reconcile() == 1
        assert await sweep.reconcile() == 0  # idempotent
        assert (await sweep.sweep()).deleted == 0  # its grace period starts now
        sweep.clock = at(now + 2 * GRACE + timedelta(days=2))
        assert (await sweep.sweep()).snapshot_ids == [old["_id"]]

        # the operators' command: one sweep now, with the service's settings
        args = argparse.Namespace(dry_run=True, reconcile=True, grace_days=1.0)
        summary = await retention_cli.run_async(args, own)
        assert summary == {
            "dry_run": True,
            "grace_days": 1.0,
            "reconciled": 0,
            "deleted": 0,
            "kept_cited": 0,
            "kept_latest": 0,
            "waiting": 0,
        }
    assert retention_cli.run(["--grace-days", "-1"]) == retention_cli.EXIT_INVALID
