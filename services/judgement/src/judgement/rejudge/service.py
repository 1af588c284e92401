"""The judgement service's side of a re-judgement: judge a chunk of lines, store, publish.

Exactly-once effect: each line's new judgement is stored under ``<line>#<sequence>`` (a
unique ``_id``: the place after the line's current judgement), so a redelivered request
stores nothing twice. The events are published before the request's offset is committed;
when a redelivered request finds its judgements stored already, it republishes the events
stored with them (same ``ce_id``: consumers deduplicate). The lines carry their snapshot's
compact form (``judgement.core.compact``), decoded in microseconds; a request without it is
judged from its ``ccus_json``. A place taken by another run (two
runs raced for one line) is left to that run: the line is skipped and logged.

Each request is judged with the master in force **after** checking the published criteria
generation (``MasterInForce.fresh``): a run started by a criteria publication in another
process is never judged with this process's master of before the publication.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from judgement.core import compact, rejudging
from judgement.core.compact import CompactCcus, CompactFormatError
from judgement.core.master import Master
from judgement.ports.bulk import BulkDocuments
from judgement.ports.criteria import FixedMaster, MasterInForce
from judgement.ports.documents import Documents
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    RejudgementLine,
    RejudgementRequested,
)
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
Publish = Callable[[Envelope], Awaitable[None]]
PART = 64
"""Lines judged before their part is handed to the store and the broker."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Rejudger:
    """Judges ``RejudgementRequested`` chunks (see the module).

    A chunk is judged in parts of ``PART`` lines, pipelined: while one part's judgements
    are being stored and its events acknowledged, the next part is judged (the engine is
    CPU, the store and the broker are round trips). The request's offset is committed only
    when every part is stored and published (the handler returns after all of them). With
    ``chunks``, each judged chunk is recorded there (``_id`` = the request's event id:
    ``run_id``, ``line_ids`` as one text, ``lines``, ``at``) for ``rejudge status``.
    """

    def __init__(
        self,
        rejudgements: BulkDocuments,
        master: Master | MasterInForce,
        publish: Publish,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_completed: Callable[[JudgementCompletedV2], None] | None = None,
        chunks: Documents | None = None,
    ) -> None:
        self.rejudgements = rejudgements
        self.masters: MasterInForce = FixedMaster(master) if isinstance(master, Master) else master
        self.publish = publish
        self.clock = clock
        self.on_completed = on_completed
        self.chunks = chunks

    async def on_requested(self, envelope: Envelope) -> None:
        request = envelope.event
        assert isinstance(request, RejudgementRequested)
        master = await self.masters.fresh()
        now = self.clock()
        records: dict[str, CompactCcus] = {}
        storing: list[asyncio.Task[list[str]]] = []
        lines = request.lines
        try:
            for start in range(0, len(lines), PART):
                docs = []
                events = []
                for item in lines[start : start + PART]:
                    record = records.get(item.snapshot_id)
                    if record is None:
                        record = records[item.snapshot_id] = _compact(item)
                    rejudgement, raised = rejudging.rejudge(item, record, request, master, now)
                    docs.append(rejudging.stored_document(rejudgement))
                    events.append(raised)
                storing.append(asyncio.create_task(self._store(envelope, request, docs, events)))
                await asyncio.sleep(0)  # its insert leaves before the next part is judged
            judged = [line_id for part in await asyncio.gather(*storing) for line_id in part]
        except BaseException:
            for task in storing:
                task.cancel()
            raise
        if self.chunks is not None:
            with contextlib.suppress(AlreadyExists):  # a redelivered request
                await self.chunks.insert(
                    {
                        "_id": envelope.id,
                        "run_id": request.run_id,
                        "chunk_id": request.chunk_id,
                        "line_ids": " ".join(judged),
                        "lines": len(judged),
                        "at": now,
                    }
                )

    async def _store(
        self,
        envelope: Envelope,
        request: RejudgementRequested,
        docs: list[dict[str, Any]],
        events: list[list[Envelope]],
    ) -> list[str]:
        """Store one part's judgements and publish their events; the line ids this run
        judged (stored now, or by an earlier delivery of the same request)."""
        existing = set(await self.rejudgements.insert_many(docs, applied_event_id=envelope.id))
        fresh = [
            e
            for d, raised in zip(docs, events, strict=True)
            if d["_id"] not in existing
            for e in raised
        ]
        judged = [d["line_id"] for d in docs if d["_id"] not in existing]
        publishing = fresh
        if existing:  # redelivered: publish what was stored then, with its ce_id
            stored = await self.rejudgements.find(
                {"_id": {"$in": sorted(existing)}},
                projection={"event_json": 1, "run_id": 1, "line_id": 1},
            )
            ours = [d for d in stored if d.get("run_id") == request.run_id]
            judged += [str(d.get("line_id")) for d in ours]
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
        return judged


def _compact(item: RejudgementLine) -> CompactCcus:
    """The cited snapshot as the engine reads it: its compact form, which the run sends
    (decoded in µs; ``ccus_json`` then empty), else built from ``ccus_json`` without
    per-record models (a request of an older command). Both judge exactly as the validated
    record does."""
    if item.ccus_compact is not None:
        try:
            return compact.decode(item.ccus_compact)
        except CompactFormatError:
            if not item.ccus_json:
                raise  # a format this process does not read, and no JSON: retried, then DLQ
    return compact.from_ccus_json(item.ccus_json)
