"""The judgement service's side of a re-judgement: judge a chunk of lines, store, publish.

Exactly-once effect: each line's new judgement is stored under ``<line>#<sequence>`` (a
unique ``_id``: the place after the line's current judgement), so a redelivered request
stores nothing twice. The events are published before the request's offset is committed;
when a redelivered request finds its judgements stored already, it republishes the events
stored with them (same ``ce_id``: consumers deduplicate). A place taken by another run (two
runs raced for one line) is left to that run: the line is skipped and logged.

Each request is judged with the master in force **after** checking the published criteria
generation (``MasterInForce.fresh``): a run started by a criteria publication in another
process is never judged with this process's master of before the publication.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from judgement.core import compact, rejudging
from judgement.core.compact import CompactCcus, CompactFormatError
from judgement.core.master import Master
from judgement.ports.bulk import BulkDocuments
from judgement.ports.criteria import FixedMaster, MasterInForce
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    RejudgementLine,
    RejudgementRequested,
)
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
Publish = Callable[[Envelope], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Rejudger:
    def __init__(
        self,
        rejudgements: BulkDocuments,
        master: Master | MasterInForce,
        publish: Publish,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_completed: Callable[[JudgementCompletedV2], None] | None = None,
    ) -> None:
        self.rejudgements = rejudgements
        self.masters: MasterInForce = FixedMaster(master) if isinstance(master, Master) else master
        self.publish = publish
        self.clock = clock
        self.on_completed = on_completed

    async def on_requested(self, envelope: Envelope) -> None:
        request = envelope.event
        assert isinstance(request, RejudgementRequested)
        master = await self.masters.fresh()
        now = self.clock()
        records: dict[str, CompactCcus] = {}
        docs = []
        events = []
        for item in request.lines:
            record = records.get(item.snapshot_id)
            if record is None:
                record = records[item.snapshot_id] = _compact(item)
            rejudgement, raised = rejudging.rejudge(item, record, request, master, now)
            docs.append(rejudging.stored_document(rejudgement))
            events.append(raised)
        existing = set(await self.rejudgements.insert_many(docs, applied_event_id=envelope.id))
        fresh = [
            e
            for d, raised in zip(docs, events, strict=True)
            if d["_id"] not in existing
            for e in raised
        ]
        publishing = fresh
        if existing:  # redelivered: publish what was stored then, with its ce_id
            stored = await self.rejudgements.find(
                {"_id": {"$in": sorted(existing)}}, projection={"event_json": 1, "run_id": 1}
            )
            ours = [d for d in stored if d.get("run_id") == request.run_id]
            publishing = [
                *fresh,
                *(e for d in ours for e in rejudging.stored_events(d["event_json"])),
            ]
            log.info("rejudge.redelivered", run_id=request.run_id, stored=len(ours))
            taken = sorted(d["_id"] for d in stored if d.get("run_id") != request.run_id)
            if taken:
                log.warning(
                    "rejudge.place_taken",
                    run_id=request.run_id,
                    count=len(taken),
                    first=taken[0],
                )
        await asyncio.gather(*(self.publish(e) for e in publishing))
        if self.on_completed is not None:
            for event in fresh:
                if isinstance(event.event, JudgementCompletedV2):
                    self.on_completed(event.event)


def _compact(item: RejudgementLine) -> CompactCcus:
    """The cited snapshot as the engine reads it: its compact form when the request carries
    it (decoded in µs), else built from ``ccus_json`` without per-record models (cheaper
    than the pydantic parse). Both judge exactly as the validated record does."""
    if item.ccus_compact is not None:
        try:
            return compact.decode(item.ccus_compact)
        except CompactFormatError:
            pass  # a format this process does not read: the JSON is always there
    return compact.from_ccus_json(item.ccus_json)
