"""A re-judgement run: select the lines, plan them per employer, publish the requests.

Used by the operators' command (``python -m judgement rejudge``) and by the service when
an approver publishes a criteria correction with re-judgement (docs/criteria-admin.md).

:func:`run` records the run in ``rejudge_runs`` and streams it: one pass over the
completed lines of the given 分野 (all, or the named ones; and, with ``criteria_versions``,
only those whose current judgement used one of these table versions) feeds the
``RejudgementRequested`` chunks while it still reads, so the judgement service judges the
first lines while the command reads the last ones. Each line carries its snapshot's compact
form only (``ccus_compact``: what the engine reads, ≈ 1 kB; ``ccus_json`` is left empty):
taken from the mirror of the newest snapshots (``ccus_compact``, small documents read
≈ 10× faster than ``ccus_snapshots``, which FerretDB 1.24 reads whole with the §5 JSON),
read beside the pass and joined with it as both arrive, and from ``ccus_snapshots`` for
the few lines that cite an older snapshot. The plans (one
``RejudgementPlanned`` per employer) follow the last chunk: the notification service's
digest takes lines before or after their plan. The run document says where the run is
(``state``, ``selected``, ``published``); :func:`status` adds what the service judged
(``rejudge_chunks``, one record per judged chunk).
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
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from judgement.core import compact, judging, rejudging
from judgement.core.errors import UnknownTrade
from judgement.core.master import Master
from judgement.impact.snapshots import MIRROR
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
RUNS = "rejudge_runs"
CHUNKS = "rejudge_chunks"
"""One record per judged chunk (``_id`` = chunk id; ``run_id``, ``line_ids`` as one text,
``at``): written by the service after the chunk's judgements are stored."""
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
SNAPSHOT_FIELDS = {judging.CCUS_COMPACT: 1, "ccus_json": 1, "ccus": 1}
OTHER_TABLE = "judged_by_other_table"
"""Skip reason of a run limited to some table versions: the line's current judgement used
another table (another effective date of the 分野)."""
SELECTING, PUBLISHING, PUBLISHED = "selecting", "publishing", "published"
RECORD_EVERY = 10.0  # seconds between the run document's progress updates

Publish = Callable[[Envelope], Coroutine[Any, Any, None]]
Report = Callable[["Selection"], None]


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
    compact form (``judging.stored_compact_text``), which the consumer then judges from
    (the run sends it with an empty ``ccus_json``).
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
    """What a run selected (and, once published, sent): counted as the pass goes."""

    run_id: str
    trades: set[str]
    selected: int = 0
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    planned: dict[str, list[str]] = field(default_factory=dict)
    published: int = 0
    chunks: int = 0
    scanned: bool = False

    @property
    def covered(self) -> int:
        """The lines of the run: selected now, or judged by an earlier pass of it."""
        return sum(len(ids) for ids in self.planned.values())


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


class Selector:
    """Decides line by line (one raw judgement projection at a time) whether the run takes
    it, counting what it skips and planning what it takes per employer."""

    def __init__(
        self,
        master: Master,
        selection: Selection,
        latest: Mapping[str, Mapping[str, Any]],
        criteria_versions: Collection[str] | None,
    ) -> None:
        self.master = master
        self.selection = selection
        self.latest = latest
        self.criteria_versions = criteria_versions
        self.trades: dict[Any, str | None] = {}

    def take(self, doc: Mapping[str, Any]) -> dict[str, Any] | None:
        selection = self.selection
        selection.read += 1
        name = doc.get("trade")
        if name not in self.trades:
            self.trades[name] = trade_of(self.master, name)
        if self.trades[name] not in selection.trades:
            return None
        reason = skip_reason(doc)
        held = self.latest.get(doc["_id"])
        if reason is None and self.criteria_versions is not None:
            used = (held or doc).get("criteria_version")
            if used not in self.criteria_versions:
                reason = OTHER_TABLE
        if reason is None and held is not None and held.get("run_id") == selection.run_id:
            reason = "already_rejudged_in_run"  # a resumed run: judged once is enough
            selection.planned.setdefault(doc["employer_id"], []).append(doc["_id"])
        if reason is not None:
            selection.skipped[reason] += 1
            return None
        selection.planned.setdefault(doc["employer_id"], []).append(doc["_id"])
        selection.selected += 1
        return {**doc, CURRENT: held}


async def _candidates(
    db: AsyncDatabase[Document],
    master: Master,
    trades: set[str],
    line_ids: Sequence[str] | None,
) -> tuple[AsyncIterator[Mapping[str, Any]], dict[str, Any]]:
    """The judgements to decide on (named lines are checked, and refused, first) and the
    filter of their re-judgements."""
    judgements = db["judgements"]
    fields = dict.fromkeys((*rejudging.SELECT_FIELDS, "criteria_version"), 1)
    if not line_ids:
        # one scan (FerretDB 1.24 reads every document whole: projected fields only)
        return aiter(judgements.find({}, fields, batch_size=2000)), {}
    found = [await judgements.find_one({"_id": i}, fields) for i in line_ids]
    missing = [i for i, d in zip(line_ids, found, strict=True) if d is None]
    if missing:
        raise LineRefused(f"no judgement for line {missing[0]} (該当する明細がありません)")
    named = [d for d in found if d is not None]
    for doc in named:
        refuse_named(master, trades, doc)

    async def listed() -> AsyncIterator[Mapping[str, Any]]:
        for doc in named:
            yield doc

    return listed(), {"line_id": {"$in": list(line_ids)}}


async def select(
    db: AsyncDatabase[Document],
    master: Master,
    trades: set[str],
    *,
    run_id: str,
    line_ids: Sequence[str] | None = None,
    criteria_versions: Collection[str] | None = None,
) -> Selection:
    """Count the run's lines without publishing (``--dry-run``). Named lines that do not
    exist or cannot be judged again raise :class:`LineRefused`."""
    selection = Selection(run_id=run_id, trades=trades)
    docs, chosen = await _candidates(db, master, trades, line_ids)
    latest = await _latest(db, chosen)
    selector = Selector(master, selection, latest, criteria_versions)
    async for doc in docs:
        selector.take(doc)
    selection.scanned = True
    return selection


async def _latest(db: AsyncDatabase[Document], chosen: Mapping[str, Any]) -> dict[str, Any]:
    rejudged = db["rejudgements"].find(dict(chosen), LATEST_FIELDS, batch_size=5000)
    return latest_by_line([d async for d in rejudged])


Feed = asyncio.Queue[tuple[str, Any]]
"""What :func:`_lines` joins: ``("line", doc)`` from the pass over ``judgements``,
``("form", (snapshot_id, text))`` from the mirror, ``("end", source)`` when one is done."""
LINE, FORM, END = "line", "form", "end"


async def _mirror_forms(db: AsyncDatabase[Document], feed: Feed) -> None:
    """The compact form of every worker's newest snapshot (the mirror:
    ``judgement.impact.snapshots``), by snapshot id, onto ``feed``; forms of another format
    version are left out (their lines read ``ccus_snapshots``)."""
    prefix = f'{{"v":{compact.FORMAT_VERSION},'
    fields = {"snapshot_id": 1, judging.CCUS_COMPACT: 1}
    try:
        async for doc in db[MIRROR].find({}, fields, batch_size=2000):
            text = doc.get(judging.CCUS_COMPACT)
            if isinstance(text, str) and text.startswith(prefix) and doc.get("snapshot_id"):
                feed.put_nowait((FORM, (str(doc["snapshot_id"]), text)))
    finally:
        feed.put_nowait((END, FORM))


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
    line_ids: Sequence[str] | None = None,
    before_publishing: Callable[[], Awaitable[None]] | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """Select and publish a run, streaming (see the module); returns its summary.

    Named lines (``line_ids``) are all checked before anything is recorded or published
    (:class:`LineRefused`). ``before_publishing`` is awaited once, before the first event
    (the command connects to Kafka then: a run that selects nothing needs no broker);
    ``report`` is called with the selection as it progresses (the command's progress
    line)."""
    started = time.perf_counter()
    selection = Selection(run_id=run_id, trades=trades)
    docs, chosen = await _candidates(db, master, trades, line_ids)
    runs = DocumentStore(db, RUNS)
    with contextlib.suppress(AlreadyExists):  # resuming: the run is recorded already
        await runs.insert(
            {
                "_id": run_id,
                "trades": sorted(trades),
                "reason": reason,
                "requested_by": requested_by,
                "requested_at": now,
                "state": SELECTING,
                "selected": 0,
                "published": 0,
                "skipped": {},
                "master_version": master.version,
                **(record or {}),
            }
        )
    latest = await _latest(db, chosen)
    selector = Selector(master, selection, latest, criteria_versions)
    feed: Feed = asyncio.Queue()
    select_seconds = 0.0

    async def scan() -> None:
        nonlocal select_seconds
        try:
            async for doc in docs:
                taken = selector.take(doc)
                if taken is not None:
                    feed.put_nowait((LINE, taken))
            selection.scanned = True
            select_seconds = time.perf_counter() - started
        finally:
            feed.put_nowait((END, LINE))

    missing = Counter[str]()
    lines = _lines(db["ccus_snapshots"], feed, missing)
    make = _maker(run_id, reason, requested_by, now)
    connecting: asyncio.Future[None] | None = None

    async def publish_first(envelope: Envelope) -> None:
        nonlocal connecting
        if before_publishing is not None:
            if connecting is None:  # the first event connects; the others wait for it
                connecting = asyncio.ensure_future(before_publishing())
            await connecting
        await publish(envelope)

    last_recorded = time.monotonic()

    async def progressed() -> None:
        nonlocal last_recorded
        if report is not None:
            report(selection)
        if time.monotonic() - last_recorded >= RECORD_EVERY:
            last_recorded = time.monotonic()
            await _record(runs, selection, PUBLISHING)

    # the pass and the mirror are read side by side; a line goes out as soon as its form
    # is known (both in the order they were stored: usually at once)
    mirror = None if line_ids else asyncio.create_task(_mirror_forms(db, feed))
    if mirror is None:
        feed.put_nowait((END, FORM))
    scanning = asyncio.create_task(scan())
    try:
        with correlation_scope(run_id):
            await send(publish_first, lines, make, selection, progressed)
            await scanning
            if mirror is not None:
                await mirror
            if selection.selected:
                plans = _plans(selection, reason=reason, now=now)
                await asyncio.gather(*(publish_first(plan) for plan in plans))
    finally:
        for task in (scanning, mirror):
            if task is not None and not task.done():
                task.cancel()
    if missing:
        selection.skipped["snapshot_missing"] += sum(missing.values())
    await _record(runs, selection, PUBLISHED, finished=True)
    if report is not None:
        report(selection)
    summary = new_summary(selection, master, dry_run=False, started=started)
    summary.update(
        select_seconds=round(select_seconds, 2),
        employers=len(selection.planned) if selection.selected else 0,
        lines_published=selection.published,
        chunks=selection.chunks,
        seconds=round(time.perf_counter() - started, 2),
    )
    return summary


async def _record(
    runs: DocumentStore, selection: Selection, state: str, *, finished: bool = False
) -> None:
    """The run document's progress (``selected`` and ``published`` count the lines of the
    run: a resumed pass adds the ones judged before it)."""
    done_before = selection.skipped.get("already_rejudged_in_run", 0)
    fields: dict[str, Any] = {
        "state": state,
        "selected": selection.covered,
        "published": selection.published + done_before,
        "skipped": {k: v for k, v in selection.skipped.items() if k != "already_rejudged_in_run"},
        "progress_at": datetime.now(UTC),
    }
    if finished:
        fields["published_at"] = fields["progress_at"]

    def change(doc: Document | None) -> tuple[Document, list[Envelope]] | None:
        if doc is None:
            return None
        return {**doc, **fields}, []

    await runs.update(selection.run_id, change)


def _maker(
    run_id: str, reason: str, requested_by: str, now: datetime
) -> Callable[[list[RejudgementLine]], Envelope]:
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

    return make


def _plans(selection: Selection, *, reason: str, now: datetime) -> list[Envelope]:
    return [
        Envelope(
            RejudgementPlanned(
                run_id=selection.run_id,
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


async def _lines(
    snapshots: Any, feed: Feed, missing: Counter[str]
) -> AsyncIterator[RejudgementLine]:
    """Each chosen line with its snapshot's compact form, joining the pass and the mirror
    as they arrive (a line waits for its form, or goes at once when it is there); lines
    whose snapshot the mirror does not hold are read, after both, from ``ccus_snapshots``:
    one by one, or in one scan when many."""
    forms: dict[str, str] = {}
    waiting: dict[str, list[dict[str, Any]]] = {}
    open_sources = 2
    while open_sources:
        kind, value = await feed.get()
        if kind == END:
            open_sources -= 1
        elif kind == FORM:
            snapshot_id, text = value
            forms[snapshot_id] = text
            for doc in waiting.pop(snapshot_id, ()):
                yield request_line(doc, "", doc[CURRENT], text)
        else:
            text = forms.get(value["snapshot_id"])
            if text is None:
                waiting.setdefault(value["snapshot_id"], []).append(value)
            else:
                yield request_line(value, "", value[CURRENT], text)
    forms.clear()
    if not waiting:
        return
    wanted = set(waiting)
    if len(wanted) <= PER_ID_LOOKUPS:
        for snapshot_id in sorted(wanted):
            stored = await snapshots.find_one({"_id": snapshot_id}, SNAPSHOT_FIELDS)
            if stored is None:
                missing[snapshot_id] += len(waiting[snapshot_id])
                continue
            text = judging.stored_compact_text(stored)
            for doc in waiting[snapshot_id]:
                yield request_line(doc, "", doc[CURRENT], text)
        return
    async for stored in snapshots.find({}, SNAPSHOT_FIELDS, batch_size=500):
        docs = waiting.get(stored["_id"])
        if docs is None:
            continue
        wanted.discard(stored["_id"])
        text = judging.stored_compact_text(stored)
        for doc in docs:
            yield request_line(doc, "", doc[CURRENT], text)
    for snapshot_id in wanted:
        missing[snapshot_id] += len(waiting[snapshot_id])


async def send(
    publish: Publish,
    lines: AsyncIterator[RejudgementLine],
    make: Callable[[list[RejudgementLine]], Envelope],
    selection: Selection,
    progressed: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Publish the lines in chunks of up to ``CHUNK_BYTES`` (up to ``IN_FLIGHT`` chunks
    awaiting their acknowledgement), counting the confirmed ones in ``selection``."""
    pending: set[asyncio.Task[None]] = set()
    batch: list[RejudgementLine] = []
    size = 0

    async def confirmed(envelope: Envelope, count: int) -> None:
        await publish(envelope)
        selection.published += count
        selection.chunks += 1

    async def submit() -> None:
        nonlocal pending
        while len(pending) >= IN_FLIGHT:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        pending.add(asyncio.create_task(confirmed(make(batch), len(batch))))
        if progressed is not None:
            await progressed()

    try:
        async for line in lines:
            line_size = len(line.model_dump_json())
            if batch and size + line_size > CHUNK_BYTES:
                await submit()
                batch, size = [], 0
            batch.append(line)
            size += line_size
        if batch:
            await submit()
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result
        pending.clear()
    finally:
        for task in pending:
            task.cancel()


async def status(db: AsyncDatabase[Document], run_id: str) -> dict[str, Any] | None:
    """Where a run is: its document in ``rejudge_runs`` and the lines the service judged
    (the chunk records); ``None`` for an unknown run."""
    run_doc = await db[RUNS].find_one({"_id": run_id})
    if run_doc is None:
        return None
    judged: set[str] = set()
    last: datetime | None = None
    async for chunk in db[CHUNKS].find({"run_id": run_id}, {"line_ids": 1, "at": 1}):
        judged.update(str(chunk.get("line_ids") or "").split())
        at = chunk.get("at")
        if isinstance(at, datetime) and (last is None or at > last):
            last = at
    selected = int(run_doc.get("selected") or 0)
    state = str(run_doc.get("state") or PUBLISHED)  # runs recorded before states: published
    done = state == PUBLISHED and len(judged) >= selected
    return {
        "run_id": run_id,
        "state": "done" if done else state,
        "trades": run_doc.get("trades"),
        "reason": run_doc.get("reason"),
        "requested_by": run_doc.get("requested_by"),
        "selected": selected,
        "published": int(run_doc.get("published") or 0),
        "judged": len(judged),
        "remaining": max(selected - len(judged), 0),
        "skipped": run_doc.get("skipped") or {},
        "started": _iso(run_doc.get("requested_at")),
        "published_at": _iso(run_doc.get("published_at")),
        "finished": _iso(last) if done else None,
    }


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
