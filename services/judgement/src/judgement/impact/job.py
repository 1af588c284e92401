"""The impact preview job (影響確認): runs in the judgement service process, in chunks.

``POST /criteria/drafts/{id}/impact`` records the job in ``criteria_impacts`` (``_id`` = the
draft id; every write by ``_id`` + version through ``DocumentStore.update``) and queues it;
the service's background task (:meth:`ImpactJobs.serve`, one job at a time per process)
runs it:

1. **migrate** — mirror the latest snapshot of workers stored before the compact mirror
   existed (``judgement.impact.snapshots.backfill``; only when the mirror holds fewer
   workers than ``ccus_workers``);
2. **workers** — one pass over ``ccus_compact`` (the latest snapshot of every worker,
   compact): each worker of the 分野 is judged at level 4 under both masters; the next
   chunk is read while this one is judged (in a worker thread, so that the service keeps
   answering). Meanwhile a second task reads the completed judgements once, keeping the
   lines of the 分野 that a re-judgement would judge (``rejudging.skip_reason``) with their
   own request; a line found before its worker's snapshot passes is judged with it;
3. **late** — the lines found after their worker's snapshot passed (and workers who turn
   out to have applied), judged from the mirror read again by ``_id``;
4. **cited** — the lines that cited an older snapshot, read from ``ccus_snapshots``.

After each chunk (at most every :data:`PROGRESS_SECONDS`) the document gets ``done``,
``total``, the counts, the sample and a heartbeat, and the chunk's CSV rows are stored in
``criteria_impact_rows`` (one document per chunk, ``_id`` = ``<draft>|<attempt>|<n>``).
**Restartable**: a job whose heartbeat is older than :data:`STALE_SECONDS` (its process
died) is taken over by the first judgement process that sees it (``serve`` looks every
:data:`RESUME_SECONDS`; a claim is a versioned write, so one process wins) and run again
from the start as the next ``attempt`` (rows of older attempts are never read, and go with
the retention of ``criteria_impact_rows``). A new ``POST`` on a finished job runs it again;
on a job still running it returns that job.

The masters come from the :class:`DraftMasters` port: ``for_draft(draft_id)`` gives the 分野,
the master in force and the drafted master (the master in force with the draft's table
applied). Criteria administration provides it (docs/criteria-admin.md); until it is wired,
:class:`NoDraftMasters` answers that the preview is not available.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from judgement.core import compact, impact, judging, rejudging
from judgement.core.compact import CompactCcus, CompactFormatError
from judgement.core.errors import UnknownTrade
from judgement.core.master import Master
from judgement.core.models import CareerCertification
from judgement.impact.snapshots import (
    MIRROR,
    SNAPSHOTS,
    STORED_FORMS,
    WORKERS,
    backfill,
    collection_count,
)
from judgement.ports import Documents
from judgement.ports.bulk import BulkDocuments
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ApplicationLine
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.mongo import Document, public
from shared_kernel.time import as_utc

log = get_logger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")

JOBS = "criteria_impacts"
ROWS = "criteria_impact_rows"
CHUNK = 2000  # workers judged per chunk (≈ 0.2–0.4 s of CPU)
PROGRESS_SECONDS = 2.0
STALE_SECONDS = 120.0
RESUME_SECONDS = 30.0
PER_ID_LOOKUPS = 50  # fewer cited snapshots than this are read one by one, more in one pass
LATE_LOOKUPS = 5000  # fewer late workers than this are read by _id (8 at a time), more in a pass
ROWS_RETENTION = timedelta(days=90)
RESUME_FIELDS = {"heartbeat_at": 1, "requested_by": 1}

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_JA = {QUEUED: "待機中", RUNNING: "実行中", DONE: "完了", FAILED: "失敗"}
PHASE_JA = {
    "queued": "開始待ち",
    "migrate": "CCUSデータの準備",
    "workers": "技能者・判定済み明細の判定",
    "late": "判定済み明細の判定（後から読んだ分）",
    "cited": "判定済み明細の判定（過去のCCUSデータ）",
    "done": "完了",
}


class UnknownDraft(LookupError):
    """No draft with that id (404)."""


class DraftNotUsable(ValueError):
    """The draft cannot be previewed (e.g. it does not build a master); ``message_ja`` says
    why (422)."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


class DraftMastersUnavailable(RuntimeError):
    """Criteria administration does not provide drafted masters in this process (503)."""


class DraftMasters(Protocol):
    """The port criteria administration implements for the impact preview."""

    async def for_draft(self, draft_id: str) -> tuple[str, Master, Master]:
        """``(分野, master in force, drafted master)`` of a stored draft: the drafted master is
        the master in force with the draft's table (and new qualifications) applied, built
        with the same rules. Raises :class:`UnknownDraft` or :class:`DraftNotUsable`."""
        ...


class NoDraftMasters:
    """Until criteria administration wires its builder: a draft that exists cannot be
    previewed yet (503); an unknown draft id is 404 as always."""

    def __init__(self, drafts: Documents | None = None) -> None:
        self.drafts = drafts  # ``criteria_drafts`` (docs/criteria-admin.md "Storage")

    async def for_draft(self, draft_id: str) -> tuple[str, Master, Master]:
        if self.drafts is not None and await self.drafts.get(draft_id) is None:
            raise UnknownDraft(draft_id)
        raise DraftMastersUnavailable(draft_id)


ImpactAudit = Callable[[str, str, str, str], Awaitable[None]]
"""Optional hook ``(draft_id, trade, actor login id, actor role)`` called when a preview is
started (criteria administration records ``impact_started`` in ``criteria_audit``)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def view(doc: Document) -> dict[str, Any]:
    """The job as the API shows it (no bookkeeping fields)."""
    shown = public(doc) or {}
    hidden = ("runner", "version", "heartbeat_at")
    out = {k: v for k, v in shown.items() if k not in hidden}
    out["draft_id"] = out.pop("_id", None)
    out["status_ja"] = STATUS_JA.get(str(out.get("status")), out.get("status"))
    out["phase_ja"] = PHASE_JA.get(str(out.get("phase")), out.get("phase"))
    return out


@dataclass(frozen=True, slots=True)
class _Line:
    line_id: str
    worker_id: str
    on: date
    requested_level: int
    certification: CareerCertification | None


def _line(doc: Document) -> _Line:
    line = ApplicationLine.model_validate(doc["line"])
    return _Line(
        line_id=str(doc["_id"]),
        worker_id=line.worker_id,
        on=date.fromisoformat(doc["application_date"]),
        requested_level=line.requested_level,
        certification=judging.certification(line),
    )


@dataclass
class _Run:
    """One attempt of one job, in this process."""

    draft_id: str
    attempt: int
    trade: str
    in_force: Master
    drafted: Master
    on: date
    tally: impact.Tally = field(default_factory=impact.Tally)
    done: int = 0
    total: int = 0
    workers: int = 0  # of the 分野, judged
    rows: int = 0
    chunks: int = 0
    phase: str = "queued"
    started: float = field(default_factory=time.monotonic)
    last_write: float = 0.0


class Superseded(Exception):
    """Another process took the job over (this attempt stops)."""


class ImpactJobs:
    """Starts, runs, resumes and reads impact previews (one at a time per process)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        jobs: Documents,
        rows: BulkDocuments,
        mirror: Documents,
        drafts: DraftMasters | None = None,
        *,
        audit: ImpactAudit | None = None,
        clock: Callable[[], datetime] = utcnow,
        chunk: int = CHUNK,
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.rows = rows
        self.mirror = mirror
        self.drafts: DraftMasters = drafts or NoDraftMasters()
        self.audit = audit
        self.clock = clock
        self.chunk = chunk
        self.runner = f"{secrets.token_hex(6)}"  # this process
        self._queue: asyncio.Queue[tuple[str, int, str, Master, Master]] = asyncio.Queue()

    # ------------------------------------------------------------------ the API's side

    async def masters(self, draft_id: str) -> tuple[str, Master, Master]:
        return await self.drafts.for_draft(draft_id)

    async def get(self, draft_id: str) -> Document | None:
        return await self.jobs.get(draft_id)

    def _fresh(self, doc: Document, now: datetime) -> bool:
        beat = doc.get("heartbeat_at")
        return beat is not None and (now - as_utc(beat)).total_seconds() < STALE_SECONDS

    async def start(
        self,
        draft_id: str,
        trade: str,
        in_force: Master,
        drafted: Master,
        *,
        requested_by: str,
        role: str = "",
        resumed: bool = False,
    ) -> Document:
        """Record and queue a job (or return the one still running for the draft);
        ``resumed``: taken over from a process that died (no new audit entry)."""
        now = self.clock()
        today = now.astimezone(TOKYO).date()
        on = impact.preview_date(trade, in_force, drafted, today)
        claimed: list[int] = []

        def begin(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
            claimed.clear()
            running = doc is not None and doc.get("status") in (QUEUED, RUNNING)
            if running and doc is not None and self._fresh(doc, now):
                return None  # still running somewhere: that one answers
            attempt = int(doc.get("attempt", 0)) + 1 if doc else 1
            claimed.append(attempt)
            return _initial(
                trade, attempt, self.runner, now, on, in_force, drafted, requested_by
            ), []

        doc = await self.jobs.update(draft_id, begin)
        assert doc is not None
        if claimed:
            await self._queue.put((draft_id, claimed[0], trade, in_force, drafted))
            log.info("impact.queued", draft_id=draft_id, trade=trade, attempt=claimed[0])
            if self.audit is not None and not resumed:
                await self.audit(draft_id, trade, requested_by, role)
        return doc

    async def csv_parts(self, doc: Document) -> AsyncIterator[str]:
        """The CSV rows of a finished job, chunk by chunk, in the order they were found."""
        stored = await self.rows.find(
            {"impact_id": doc["_id"], "attempt": doc["attempt"]}, projection={"seq": 1, "csv": 1}
        )
        for part in sorted(stored, key=lambda d: d["seq"]):
            yield str(part["csv"])

    # ------------------------------------------------------------------ the background task

    async def serve(self) -> None:
        """Run queued jobs one after the other; take over stale ones (a died process's)."""
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), RESUME_SECONDS)
            except TimeoutError:
                await self._resume_stale()
                continue
            await self._run_one(*item)

    async def _resume_stale(self) -> None:
        try:
            waiting = [
                *await self.jobs.find({"status": QUEUED}, projection=RESUME_FIELDS),
                *await self.jobs.find({"status": RUNNING}, projection=RESUME_FIELDS),
            ]
        except Exception:
            log.exception("impact.resume_check_failed")
            return
        now = self.clock()
        for doc in waiting:
            if self._fresh(doc, now):
                continue
            try:
                trade, in_force, drafted = await self.drafts.for_draft(str(doc["_id"]))
            except DraftMastersUnavailable:
                continue  # this process cannot build it: another one may
            except (UnknownDraft, DraftNotUsable) as exc:
                await self._give_up(str(doc["_id"]), exc)
                continue
            try:
                await self.start(
                    str(doc["_id"]),
                    trade,
                    in_force,
                    drafted,
                    requested_by=str(doc.get("requested_by") or ""),
                    resumed=True,
                )
                log.info("impact.resumed", draft_id=doc["_id"])
            except Exception:
                log.exception("impact.resume_failed", draft_id=doc["_id"])

    async def _give_up(self, draft_id: str, exc: Exception) -> None:
        """A stale job that cannot be run again (its draft is gone or unusable): failed."""
        now = self.clock()
        why = getattr(exc, "message_ja", None) or "下書きが見つかりません"

        def fail(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
            if doc is None or doc.get("status") not in (QUEUED, RUNNING) or self._fresh(doc, now):
                return None
            return {**doc, "status": FAILED, "error": why, "finished_at": now}, []

        with contextlib.suppress(Exception):
            await self.jobs.update(draft_id, fail)
        log.warning("impact.given_up", draft_id=draft_id, reason=type(exc).__name__)

    async def _run_one(
        self, draft_id: str, attempt: int, trade: str, in_force: Master, drafted: Master
    ) -> None:
        current = await self.jobs.get(draft_id)
        if current is None or current.get("attempt") != attempt:
            return
        run = _Run(
            draft_id, attempt, trade, in_force, drafted, date.fromisoformat(current["as_of"])
        )
        try:
            await self._run(run)
        except Superseded:
            log.info("impact.superseded", draft_id=draft_id, attempt=attempt)
        except asyncio.CancelledError:
            raise  # the service stops: the heartbeat goes stale, another process resumes
        except Exception as exc:
            log.exception("impact.failed", draft_id=draft_id, attempt=attempt)
            with contextlib.suppress(Exception):
                await self._write(
                    run,
                    status=FAILED,
                    error=f"{type(exc).__name__}: {str(exc)[:300]}",
                    finished_at=self.clock(),
                )

    # ------------------------------------------------------------------ one run

    async def _run(self, run: _Run) -> None:
        # exact counts (collStats: ≈ 1 s per 100,000 documents on FerretDB, so once each)
        mirrored, workers = await asyncio.gather(
            collection_count(self.db, MIRROR), collection_count(self.db, WORKERS)
        )
        if mirrored < workers:
            run.phase = "migrate"
            await self._write(run, status=RUNNING, force=True)
            mirrored += await backfill(self.db, self.mirror, progress=lambda: self._write(run))
        run.phase = "workers"
        run.total = mirrored
        await self._write(run, status=RUNNING, force=True)
        # the lines are read while the workers are judged (two passes, one per collection):
        # a line found before its worker's snapshot passes is judged with it, one found after
        # is judged from the mirror read by _id at the end ("late")
        waiting: dict[str, list[_Line]] = {}  # by cited snapshot id
        applied: set[str] = set()  # workers with a completed line of the 分野
        reading = asyncio.create_task(self._select_lines(run, waiting, applied))
        membership = impact.Membership(run.trade, run.in_force, run.drafted, run.on, applied)
        passed: dict[str, str] = {}  # snapshot id → worker id, for every mirror document read
        judged: set[str] = set()  # workers judged as workers of the 分野
        try:
            async for batch in self._mirror_batches():
                passed.update((d["snapshot_id"], str(d["_id"])) for d in batch)
                await self._judge_batch(run, membership, batch, waiting, judged)
            await reading
        finally:
            reading.cancel()
        late_lines = {sid: waiting.pop(sid) for sid in list(waiting) if sid in passed}
        seen = set(passed.values())
        late_workers = (applied & seen) - judged
        wanted = sorted(late_workers | {passed[sid] for sid in late_lines})
        if wanted:
            run.phase = "late"
            await self._write(run, force=True)
            waiting.update(late_lines)
            async for batch in self._mirror_batches(wanted):
                await self._judge_batch(run, membership, batch, waiting, judged, late=True)
        if waiting:  # lines whose snapshot is not the worker's latest any more
            run.phase = "cited"
            await self._write(run, force=True)
            async for found, items in self._cited(waiting):
                tally = await asyncio.to_thread(_judge_lines, run, found, items)
                run.done += len(items)
                await self._chunk(run, tally, write=False)
                await self._write(run)
            missing = sum(map(len, waiting.values()))  # cited snapshots that are gone
            run.done += missing
        else:
            missing = 0
        run.phase = "done"
        run.total = run.done  # all examined (workers may have been stored during the run)
        await self._write(
            run,
            status=DONE,
            force=True,
            finished_at=self.clock(),
            seconds=round(time.monotonic() - run.started, 1),
            lines_without_snapshot=missing,
        )
        log.info(
            "impact.done",
            draft_id=run.draft_id,
            workers=run.workers,
            lines=sum(run.tally.lines.values()),
            late=len(wanted),
            seconds=round(time.monotonic() - run.started, 1),
        )

    async def _judge_batch(
        self,
        run: _Run,
        membership: impact.Membership,
        batch: list[Document],
        waiting: dict[str, list[_Line]],
        judged: set[str],
        *,
        late: bool = False,
    ) -> None:
        """Judge a batch of mirror documents (workers, and the waiting lines citing them)."""
        cited = {
            d["snapshot_id"]: waiting.pop(d["snapshot_id"])
            for d in batch
            if d.get("snapshot_id") in waiting
        }
        already = frozenset(judged) if late else frozenset()  # a first pass meets each once
        tally, workers, unread = await asyncio.to_thread(
            _judge_workers, run, membership, batch, cited, already
        )
        for snapshot_id in unread:  # a form this process cannot read: from the JSON
            waiting[snapshot_id] = cited.pop(snapshot_id)
        judged.update(workers)
        run.workers += len(workers)
        run.done += (0 if late else len(batch)) + sum(map(len, cited.values()))
        await self._chunk(run, tally)

    async def _mirror_batches(self, ids: list[str] | None = None) -> AsyncIterator[list[Document]]:
        """The mirror in chunks (all of it, or these workers): the next chunk is read while
        the caller judges this one."""
        fields = {"snapshot_id": 1, "ccus_compact": 1}
        if ids is not None and len(ids) <= LATE_LOOKUPS:
            limit = asyncio.Semaphore(8)

            async def one(worker_id: str) -> Document | None:
                async with limit:
                    return await self.db[MIRROR].find_one({"_id": worker_id}, fields)

            for start in range(0, len(ids), self.chunk):
                found = await asyncio.gather(*map(one, ids[start : start + self.chunk]))
                yield [d for d in found if d is not None]
            return
        wanted = set(ids) if ids is not None else None
        cursor = self.db[MIRROR].find({}, fields, batch_size=1000)
        fetching = asyncio.ensure_future(cursor.to_list(self.chunk))
        try:
            while True:
                batch = await fetching
                if not batch:
                    return
                fetching = asyncio.ensure_future(cursor.to_list(self.chunk))
                if wanted is not None:
                    batch = [d for d in batch if d["_id"] in wanted]
                yield batch
        finally:
            fetching.cancel()
            with contextlib.suppress(Exception):
                await cursor.close()

    async def _select_lines(
        self, run: _Run, waiting: dict[str, list[_Line]], applied: set[str]
    ) -> None:
        """Completed lines of the 分野 a re-judgement would judge, by cited snapshot, into
        ``waiting`` (and their workers into ``applied``) as they are read."""
        fields = dict.fromkeys(rejudging.SELECT_FIELDS, 1)
        names: dict[str, str | None] = {}
        async for doc in self.db["judgements"].find(
            {"status": judging.COMPLETED}, fields, batch_size=2000
        ):
            name = str(doc.get("trade"))
            if name not in names:
                try:
                    names[name] = run.in_force.trade(name).name
                except UnknownTrade:
                    names[name] = None
            skip = rejudging.skip_reason(
                doc.get("status"), doc.get("snapshot_id"), bool(doc.get("review"))
            )
            if names[name] != run.trade or skip is not None:
                continue
            try:
                line = _line(doc)
            except (ValidationError, KeyError, ValueError):
                log.warning("impact.line_unreadable", line_id=doc.get("_id"))
                continue
            waiting.setdefault(doc["snapshot_id"], []).append(line)
            applied.add(line.worker_id)
            run.total += 1
            await self._write(run)  # the heartbeat, if the workers are judged already

    async def _cited(
        self, waiting: dict[str, list[_Line]]
    ) -> AsyncIterator[tuple[Document, list[_Line]]]:
        snapshots = self.db[SNAPSHOTS]
        if len(waiting) <= PER_ID_LOOKUPS:
            for snapshot_id in sorted(waiting):
                stored = await snapshots.find_one({"_id": snapshot_id}, STORED_FORMS)
                if stored is not None:
                    yield stored, waiting.pop(snapshot_id)
        else:
            async for stored in snapshots.find({}, STORED_FORMS, batch_size=500):
                items = waiting.pop(stored["_id"], None)
                if items is not None:
                    yield stored, items
        if waiting:  # a cited snapshot that is gone: counted as examined, not judged
            log.warning("impact.snapshot_missing", count=sum(map(len, waiting.values())))
            # (left in ``waiting`` for the caller to count)

    async def _chunk(self, run: _Run, tally: impact.Tally, *, write: bool = True) -> None:
        run.tally.merge(tally)
        if tally.changes:
            run.chunks += 1
            await self.rows.insert_many(
                [
                    {
                        "_id": f"{run.draft_id}|{run.attempt}|{run.chunks:06d}",
                        "impact_id": run.draft_id,
                        "attempt": run.attempt,
                        "seq": run.chunks,
                        "at": self.clock(),
                        "rows": len(tally.changes),
                        "csv": impact.csv_rows(tally.changes),
                    }
                ]
            )
            run.rows += len(tally.changes)
        if write:
            await self._write(run)

    async def _write(self, run: _Run, *, force: bool = False, **fields: Any) -> None:
        """Progress (at most every PROGRESS_SECONDS unless forced), as this attempt's."""
        now_m = time.monotonic()
        if not force and not fields and now_m - run.last_write < PROGRESS_SECONDS:
            return
        run.last_write = now_m
        now = self.clock()
        lost: list[bool] = []

        def progress(doc: Document | None) -> tuple[Document, Sequence[Envelope]] | None:
            lost.clear()
            if doc is None or doc.get("attempt") != run.attempt or doc.get("runner") != self.runner:
                lost.append(True)
                return None
            return {
                **doc,
                "phase": run.phase,
                "done": run.done,
                "total": run.total,
                "workers": run.workers,
                "counts": dict(run.tally.workers),
                "lines": dict(run.tally.lines),
                "sample": run.tally.sample(),
                "rows": run.rows,
                "heartbeat_at": now,
                **fields,
            }, []

        await self.jobs.update(run.draft_id, progress)
        if lost:
            raise Superseded(run.draft_id)


def _initial(
    trade: str,
    attempt: int,
    runner: str,
    now: datetime,
    on: date,
    in_force: Master,
    drafted: Master,
    requested_by: str,
) -> Document:
    def version(master: Master) -> str | None:
        table = master.trade(trade).table_on(on)
        return table.version if table is not None else None

    return {
        "trade": trade,
        "status": QUEUED,
        "phase": "queued",
        "attempt": attempt,
        "runner": runner,
        "requested_by": requested_by,
        "started_at": now,
        "heartbeat_at": now,
        "finished_at": None,
        "as_of": on.isoformat(),
        "version_in_force": version(in_force),
        "version_drafted": version(drafted),
        "master_version": in_force.version,
        "done": 0,
        "total": None,
        "workers": 0,
        "counts": {"up": 0, "down": 0, "unchanged": 0},
        "lines": {"up": 0, "down": 0, "unchanged": 0},
        "sample": [],
        "rows": 0,
        "error": None,
    }


# --------------------------------------------------------------------------- in a thread


def _decoded(text: Any) -> CompactCcus | None:
    try:
        return compact.decode(text)
    except CompactFormatError:
        return None


def _judge_lines_of(
    run: _Run, ccus: CompactCcus, items: Iterable[_Line], tally: impact.Tally
) -> None:
    for item in items:
        outcome = impact.judge_both(
            ccus, run.trade, run.in_force, run.drafted, item.on, item.certification
        )
        if outcome is not None:
            tally.add(
                "line",
                outcome,
                worker_id=item.worker_id,
                on=item.on,
                line_id=item.line_id,
                requested_level=item.requested_level,
            )


def _judge_workers(
    run: _Run,
    membership: impact.Membership,
    batch: Sequence[Document],
    cited: dict[str, list[_Line]],
    already: AbstractSet[str] = frozenset(),
) -> tuple[impact.Tally, list[str], list[str]]:
    """Judge one chunk of mirrored workers (and the lines citing these snapshots); returns
    the tally, the workers of the 分野 judged (not those ``already`` judged) and the
    snapshots whose form was unreadable."""
    tally = impact.Tally()
    judged: list[str] = []
    unread: list[str] = []
    for doc in batch:
        ccus = _decoded(doc.get("ccus_compact"))
        if ccus is None:
            log.warning("impact.mirror_unreadable", worker_id=doc.get("_id"))
            if doc.get("snapshot_id") in cited:
                unread.append(doc["snapshot_id"])
            continue
        items = cited.get(doc.get("snapshot_id", ""))
        if items:
            _judge_lines_of(run, ccus, items, tally)
        worker_id = str(doc["_id"])
        if worker_id in already or not membership(ccus, worker_id):
            continue
        outcome = impact.judge_both(ccus, run.trade, run.in_force, run.drafted, run.on)
        if outcome is not None:
            judged.append(worker_id)
            tally.add("worker", outcome, worker_id=worker_id, on=run.on)
    return tally, judged, unread


def _judge_lines(run: _Run, stored: Document, items: list[_Line]) -> impact.Tally:
    tally = impact.Tally()
    _judge_lines_of(run, judging.stored_compact(cast(judging.StoredSnapshot, stored)), items, tally)
    return tally
