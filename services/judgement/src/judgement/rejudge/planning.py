"""A re-judgement run: select the lines, plan them per employer, publish the requests.

Used by the operators' command (``python -m judgement rejudge``) and by the service when
an approver publishes a criteria correction with re-judgement (docs/criteria-admin.md).

:func:`select` reads the completed lines of the given 分野 (all, or the named ones; and,
with ``criteria_versions``, only those whose current judgement used one of these table
versions) and the CCUS snapshot each cited; :func:`execute` records the run in
``rejudge_runs`` and publishes one ``RejudgementPlanned`` per employer, then
``RejudgementRequested`` chunks for the judgement service; :func:`run` does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from judgement.core import judging, rejudging
from judgement.core.errors import UnknownTrade
from judgement.core.master import Master
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    RejudgementLine,
    RejudgementPlanned,
    RejudgementRequested,
)
from shared_kernel.events.envelope import MAX_EVENT_BYTES
from shared_kernel.infra.logging import correlation_scope
from shared_kernel.infra.mongo import Document, DocumentStore

CHUNK_BYTES = MAX_EVENT_BYTES // 2  # well under the broker's and consumers' 1 MB limit
PER_ID_LOOKUPS = 50  # fewer snapshots than this are read one by one, more in one scan
SOURCE = "judgement-rejudge"
PLAN_LINES = 5000  # line ids per RejudgementPlanned (a large employer's plan comes in parts)
IN_FLIGHT = 8
CURRENT = "_current"  # a selected line's latest re-judgement, carried to its request
LATEST_FIELDS = dict.fromkeys(
    (
        "line_id",
        "sequence",
        "run_id",
        "judgement_id",
        "decision",
        "eligible_level",
        "criteria_version",
    ),
    1,
)
OTHER_TABLE = "judged_by_other_table"
"""Skip reason of a run limited to some table versions: the line's current judgement used
another table (another effective date of the 分野)."""

Publish = Callable[[Envelope], Coroutine[Any, Any, None]]


def skip_reason(doc: Mapping[str, Any]) -> str | None:
    """``rejudging.skip_reason`` of a raw judgement projection (``SELECT_FIELDS``)."""
    return rejudging.skip_reason(doc.get("status"), doc.get("snapshot_id"), bool(doc.get("review")))


def latest_by_line(rejudgements: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The newest stored re-judgement of each line (highest sequence), of raw projections
    (``LATEST_FIELDS``): the selection streams them without building models."""
    latest: dict[str, Mapping[str, Any]] = {}
    for doc in rejudgements:
        held = latest.get(doc["line_id"])
        if held is None or int(doc.get("sequence") or 1) > int(held.get("sequence") or 1):
            latest[doc["line_id"]] = doc
    return latest


def request_line(
    doc: Mapping[str, Any],
    ccus_json: str,
    current: Mapping[str, Any] | None = None,
    ccus_compact: str | None = None,
) -> RejudgementLine:
    """The input of one line's re-judgement, from its judgement's raw projection
    (``rejudging.SELECT_FIELDS``) and snapshot.

    ``current`` is the line's latest re-judgement (its summary), if it has one: the new
    judgement supersedes that one, not the original. ``ccus_compact``: the snapshot's
    compact form (``judging.stored_compact_text``), which the consumer then judges from.
    """
    latest = current or doc
    return RejudgementLine(
        line_id=doc["_id"],
        previous_judgement_id=latest["judgement_id"],
        previous_sequence=int(latest.get("sequence", 1)),
        previous_decision=latest.get("decision"),
        previous_eligible_level=latest.get("eligible_level"),
        application_id=doc["application_id"],
        employer_id=doc["employer_id"],
        application_date=doc["application_date"],
        line=ApplicationLine.model_validate(doc["line"]),
        snapshot_id=doc["snapshot_id"],
        ccus_json=ccus_json,
        ccus_compact=ccus_compact,
    )


class LineRefused(Exception):
    """A line named for the run that cannot be judged again (the message says why)."""


@dataclass
class Selection:
    run_id: str
    trades: set[str]
    selected: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    by_snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    planned: dict[str, list[str]] = field(default_factory=dict)


def trade_of(master: Master, name: Any) -> str | None:
    try:
        return master.trade(str(name)).name
    except UnknownTrade:
        return None


def refuse_named(master: Master, trades: set[str], doc: Mapping[str, Any]) -> None:
    """A line the operator named that cannot be judged again: refused, with the reason."""
    line_id = doc["_id"]
    if trade_of(master, doc.get("trade")) not in trades:
        raise LineRefused(f"line {line_id} is of {doc.get('trade')}, not of the given --trade")
    reason = skip_reason(doc)
    if reason == "not_completed":
        status = judging.STATUS_JA.get(str(doc.get("status")), str(doc.get("status")))
        raise LineRefused(
            f"line {line_id} has no completed judgement ({status}): "
            "判定が完了していない明細は再判定できません"
        )
    if reason is not None:
        raise LineRefused(f"line {line_id}: {rejudging.SKIP_REASONS_JA[reason]}は再判定できません")


async def select(
    db: AsyncDatabase[Document],
    master: Master,
    trades: set[str],
    *,
    run_id: str,
    line_ids: Sequence[str] | None = None,
    criteria_versions: Collection[str] | None = None,
) -> Selection:
    """The lines of the run, grouped by the snapshot they cite, and the plan per employer.

    Named lines that do not exist or cannot be judged again raise :class:`LineRefused`.
    """
    judgements = db["judgements"]
    fields = dict.fromkeys((*rejudging.SELECT_FIELDS, "criteria_version"), 1)
    later = db["rejudgements"]
    if line_ids:
        found = [await judgements.find_one({"_id": i}, fields) for i in line_ids]
        missing = [i for i, d in zip(line_ids, found, strict=True) if d is None]
        if missing:
            raise LineRefused(f"no judgement for line {missing[0]} (該当する明細がありません)")
        candidates = [d for d in found if d is not None]
        for doc in candidates:
            refuse_named(master, trades, doc)
        chosen: dict[str, Any] = {"line_id": {"$in": list(line_ids)}}
    else:  # one scan (lookups by id scan the collection on FerretDB 1.24)
        candidates = [d async for d in judgements.find({}, fields, batch_size=2000)]
        chosen = {}
    latest = latest_by_line([d async for d in later.find(chosen, LATEST_FIELDS, batch_size=5000)])
    selection = Selection(run_id=run_id, trades=trades)
    for doc in candidates:
        if trade_of(master, doc.get("trade")) not in trades:
            continue
        reason = skip_reason(doc)
        held = latest.get(doc["_id"])
        if reason is None and criteria_versions is not None:
            used = (held or doc).get("criteria_version")
            if used not in criteria_versions:
                reason = OTHER_TABLE
        if reason is None and held is not None and held.get("run_id") == run_id:
            reason = "already_rejudged_in_run"  # a resumed run: judged once is enough
            selection.planned.setdefault(doc["employer_id"], []).append(doc["_id"])
        if reason is not None:
            selection.skipped[reason] += 1
            continue
        selection.by_snapshot.setdefault(doc["snapshot_id"], []).append({**doc, CURRENT: held})
        selection.planned.setdefault(doc["employer_id"], []).append(doc["_id"])
        selection.selected += 1
    return selection


async def execute(
    db: AsyncDatabase[Document],
    master: Master,
    selection: Selection,
    publish: Publish,
    *,
    reason: str,
    requested_by: str,
    now: datetime,
    summary: dict[str, Any],
    record: Mapping[str, Any] | None = None,
    before_publishing: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Record the run (``rejudge_runs``, plus ``record``'s fields) and publish it; adds
    ``employers``, ``lines_published`` and ``chunks`` to ``summary``."""
    run_id = selection.run_id
    runs = DocumentStore(db, "rejudge_runs")
    with contextlib.suppress(AlreadyExists):  # resuming: the run is recorded already
        await runs.insert(
            {
                "_id": run_id,
                "trades": sorted(selection.trades),
                "reason": reason,
                "requested_by": requested_by,
                "requested_at": now,
                "selected": selection.selected,
                "skipped": dict(selection.skipped),
                "master_version": master.version,
                **(record or {}),
            }
        )

    def make(batch: list[RejudgementLine]) -> Envelope:
        return Envelope(
            RejudgementRequested(
                run_id=run_id,
                chunk_id=f"{run_id}/{batch[0].line_id}",
                reason=reason,
                requested_by=requested_by,
                requested_at=now,
                lines=batch,
            ),
            source=SOURCE,
        )

    plans = [
        Envelope(
            RejudgementPlanned(
                run_id=run_id,
                employer_id=employer_id,
                line_ids=line_ids[start : start + PLAN_LINES],
                reason=reason,
                requested_at=now,
            ),
            source=SOURCE,
        )
        for employer_id, line_ids in sorted(selection.planned.items())
        for start in range(0, len(line_ids), PLAN_LINES)
    ]
    summary["employers"] = len(selection.planned)
    missing_snapshots = Counter[str]()
    lines = _lines(db["ccus_snapshots"], selection.by_snapshot, missing_snapshots)
    if before_publishing is not None:
        await before_publishing()
    published = await send(publish, plans, lines, make, run_id)
    if missing_snapshots:
        summary["skipped"]["snapshot_missing"] = sum(missing_snapshots.values())
    summary.update(lines_published=published[0], chunks=published[1])
    return summary


def new_summary(
    selection: Selection, master: Master, *, dry_run: bool, started: float
) -> dict[str, Any]:
    return {
        "run_id": selection.run_id,
        "trades": sorted(selection.trades),
        "selected": selection.selected,
        "skipped": dict(selection.skipped),
        "master_version": master.version,
        "dry_run": dry_run,
        "select_seconds": round(time.perf_counter() - started, 2),
    }


async def run(
    db: AsyncDatabase[Document],
    master: Master,
    publish: Publish,
    *,
    trades: set[str],
    run_id: str,
    reason: str,
    requested_by: str,
    now: datetime,
    criteria_versions: Collection[str] | None = None,
    record: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Select and publish a run (the service's entry: its publisher is running already)."""
    started = time.perf_counter()
    selection = await select(db, master, trades, run_id=run_id, criteria_versions=criteria_versions)
    summary = new_summary(selection, master, dry_run=False, started=started)
    if selection.selected:
        await execute(
            db,
            master,
            selection,
            publish,
            reason=reason,
            requested_by=requested_by,
            now=now,
            summary=summary,
            record=record,
        )
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


async def _lines(
    snapshots: Any, by_snapshot: dict[str, list[dict[str, Any]]], missing: Counter[str]
) -> AsyncIterator[RejudgementLine]:
    """Each selected line with its snapshot: read one by one, or in one scan when many."""
    wanted = set(by_snapshot)
    if len(wanted) <= PER_ID_LOOKUPS:
        for snapshot_id in sorted(wanted):
            stored = await snapshots.find_one({"_id": snapshot_id}, {"ccus": 1, "ccus_json": 1})
            if stored is None:
                missing[snapshot_id] += len(by_snapshot[snapshot_id])
                continue
            for doc in by_snapshot[snapshot_id]:
                yield request_line(doc, judging.stored_ccus_json(stored), doc[CURRENT])
        return
    async for stored in snapshots.find({}, {"ccus": 1, "ccus_json": 1}, batch_size=500):
        docs = by_snapshot.get(stored["_id"])
        if docs is None:
            continue
        wanted.discard(stored["_id"])
        for doc in docs:
            yield request_line(doc, judging.stored_ccus_json(stored), doc[CURRENT])
    for snapshot_id in wanted:
        missing[snapshot_id] += len(by_snapshot[snapshot_id])


async def send(
    publish: Publish,
    plans: Sequence[Envelope],
    lines: AsyncIterator[RejudgementLine],
    make: Callable[[list[RejudgementLine]], Envelope],
    run_id: str,
) -> tuple[int, int]:
    """Publish the plans, then the chunks (up to 8 in flight); (lines, chunks) confirmed."""
    sent_lines = sent_chunks = 0
    pending: set[asyncio.Task[None]] = set()
    batch: list[RejudgementLine] = []
    size = 0
    try:
        with correlation_scope(run_id):
            # the plans first: the update mail waits for every planned line
            await asyncio.gather(*(publish(plan) for plan in plans))

            async def submit(envelope: Envelope) -> None:
                nonlocal pending
                while len(pending) >= IN_FLIGHT:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
                pending.add(asyncio.create_task(publish(envelope)))

            async for line in lines:
                line_size = len(line.model_dump_json())
                if batch and size + line_size > CHUNK_BYTES:
                    await submit(make(batch))
                    sent_lines += len(batch)
                    sent_chunks += 1
                    batch, size = [], 0
                batch.append(line)
                size += line_size
            if batch:
                await submit(make(batch))
                sent_lines += len(batch)
                sent_chunks += 1
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
            pending.clear()
    finally:
        for task in pending:
            task.cancel()
    return sent_lines, sent_chunks
