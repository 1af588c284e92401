"""The judgement service's use cases: react to events, sweep deadlines, record reviews.

It talks to storage only through ports: a line's judgements are typed aggregates
(``JudgementLine`` through ``ports.judgements.JudgementLines``, a ``Repository``), every
change goes through ``update`` (read, change, write by ``_id`` + version, retried on
concurrent writes), and the events a change raises are stored with it (outbox) and
published by the relay.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

from judgement.core import access, judging, outlook, retention
from judgement.core import current as line_current
from judgement.core.engine import evaluate
from judgement.core.errors import CcusNotFound, NotFound, TradeNotAvailable, UnknownTrade
from judgement.core.judging import Outcome, ReviewPolicy
from judgement.core.lines import HistoryEntry, JudgementLine, JudgementSummary
from judgement.core.master import Master
from judgement.core.models import (
    CareerCertification,
    CcusRecord,
    EvaluationRequest,
    EvaluationResult,
)
from judgement.core.workers import ConsentGrant, LatestSnapshot
from judgement.ports.criteria import FixedMaster, MasterInForce
from judgement.ports.documents import Snapshots
from judgement.ports.judgements import JudgementLines, Rejudgements
from shared_kernel.aggregate import Aggregates
from shared_kernel.context import get_logger
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusWorkerSnapshot,
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
)
from shared_kernel.principal import Principal

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class JudgementService:
    def __init__(
        self,
        workers: Aggregates[LatestSnapshot],
        snapshots: Snapshots,
        judgements: JudgementLines,
        master: Master | MasterInForce,
        *,
        policy: ReviewPolicy,
        wait_days: int,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = 2048,
        on_completed: Callable[[JudgementCompletedV2], None] | None = None,
        consents: Aggregates[ConsentGrant] | None = None,
        rejudgements: Rejudgements | None = None,
    ) -> None:
        self.rejudgements = rejudgements  # 再判定: each later judgement of a line, immutable
        self.consents = consents  # employer × worker grants: who may read a worker's CCUS data
        self.on_completed = on_completed  # e.g. count judgements by trade, level, decision
        self.workers = workers  # the newest snapshot per worker (pointer + summary)
        self.snapshots = snapshots  # every snapshot received, immutable (judgements cite them)
        self.judgements = judgements
        self._records: OrderedDict[str, CcusRecord] = OrderedDict()
        self._cache_size = cache_size
        # the master in force, rebuilt when criteria are published (docs/criteria-admin.md)
        self.masters: MasterInForce = FixedMaster(master) if isinstance(master, Master) else master
        self.policy = policy
        self.wait_days = wait_days
        self.clock = clock

    @property
    def master(self) -> Master:
        return self.masters.master

    async def ccus_summary(self, worker_id: str) -> dict[str, Any] | None:
        """The newest CCUS data of a worker, without the work history (for other services)."""
        latest = await self.workers.get(worker_id)
        return None if latest is None else dict(latest.summary)

    async def may_read_worker(self, employer_id: str | None, worker_id: str) -> bool:
        """An employer reads a worker's CCUS data only with his consent (APPI).

        Allowed when the employer was granted the worker's consent (ConsentGranted, not
        returned since) or already has a judgement of the worker (the consent ends when the
        judgement completes; the result screen still shows the CCUS qualifications).
        """
        if not employer_id:
            return False
        if self.consents is not None:
            grant = await self.consents.get(ConsentGrant.key(employer_id, worker_id))
            if grant is not None and not grant.withdrawn:
                return True
        return await self.judgements.exists({"employer_id": employer_id, "worker_id": worker_id})

    # --- reads for a caller (access checked here: routes only translate HTTP) -----------

    async def require_worker(
        self, principal: Principal, worker_id: str, trade: str | None = None
    ) -> None:
        """``CcusNotFound`` unless ``principal`` may read the worker's CCUS data (for
        ``trade``): an employer only a worker who consented; an evaluator a worker with a
        line of one of his 分野 (any worker when unbound). As if the worker were unknown: a
        guessed 技能者ID tells nothing."""
        if principal.role == "evaluator":
            if not access.scoped(principal):
                return
            trades = await self.trades_of_lines(worker_id)
            if (trade is None or principal.handles(trade)) and access.evaluator_sees_worker(
                principal, trades
            ):
                return
        elif await self.may_read_worker(principal.employer_id, worker_id):
            return
        raise CcusNotFound()

    async def trades_of_lines(
        self, worker_id: str, principal: Principal | None = None
    ) -> list[str]:
        """The 分野 of the worker's judgement lines (those ``principal`` may list), in order."""
        flt: dict[str, Any] = {"worker_id": worker_id}
        if principal is not None:
            flt.update(access.judgement_filter(principal))
        return list(dict.fromkeys(await self.judgements.trades(flt)))

    async def worker_summary(self, principal: Principal, worker_id: str) -> dict[str, Any]:
        """The worker's newest CCUS data (summary) for ``principal``."""
        await self.require_worker(principal, worker_id)
        summary = await self.ccus_summary(worker_id)
        if summary is None:
            raise CcusNotFound()
        return summary

    def preview(self, request: EvaluationRequest) -> EvaluationResult:
        """The judgement ``request`` would get now (nothing stored)."""
        try:
            return evaluate(request, self.master)
        except UnknownTrade as exc:
            raise TradeNotAvailable(exc.message) from None

    async def preview_worker(
        self,
        principal: Principal,
        worker_id: str,
        trade: str,
        requested_level: int,
        application_date: date,
        career_certification: CareerCertification | None,
    ) -> EvaluationResult:
        """The preview with the CCUS part from the worker's newest snapshot."""
        await self.require_worker(principal, worker_id, trade)
        ccus = await self.ccus(worker_id)
        if ccus is None:
            raise CcusNotFound()
        request = EvaluationRequest(
            trade=trade,
            requested_level=requested_level,
            application_date=application_date,
            ccus=ccus.record,
            career_certification=career_certification,
        )
        return self.preview(request)

    async def lines_for(
        self, principal: Principal, application_id: str | None, status: str | None
    ) -> list[JudgementSummary]:
        """The current judgement of each line ``principal`` may list (summary fields)."""
        flt: dict[str, Any] = access.judgement_filter(principal)
        if application_id:
            flt["application_id"] = application_id
        if status:
            flt["status"] = status
        return await self.current_of(flt)

    async def line_for(
        self, principal: Principal, line_id: str
    ) -> tuple[JudgementLine, list[HistoryEntry]]:
        """A line's current judgement and its history, if ``principal`` may see it."""
        found = await self.current(line_id)
        if found is None or not access.sees_judgement(principal, found[0]):
            raise NotFound(line_id)
        return found

    async def reviews_for(self, evaluator: Principal) -> list[JudgementSummary]:
        """The lines waiting for an evaluator's review (of his 分野), by line id."""
        docs = await self.judgements.summaries(
            {"status": judging.IN_REVIEW, **access.judgement_filter(evaluator)}
        )
        return sorted(docs, key=lambda d: d.id)

    async def consented_workers(self, employer_id: str | None) -> list[str]:
        """The workers whose consent ``employer_id`` holds (not withdrawn), by id."""
        if self.consents is None or not employer_id:
            return []
        grants = await self.consents.find({"employer_id": employer_id})
        return sorted({g.worker_id for g in grants if not g.withdrawn})

    async def outlook_of(
        self,
        principal: Principal,
        worker_id: str,
        trade: str | None,
        on: date,
        certification: CareerCertification | None,
    ) -> dict[str, Any] | None:
        """レベル診断 of one worker (``None`` without CCUS data): for ``trade``, else for the
        分野 his CCUS 職種 point to, else for those of his judgement lines ``principal`` may
        list (an evaluator: his 分野 only)."""
        found = await self.outlooks_of(principal, [worker_id], trade, on, certification)
        return found[0] if found else None

    async def outlooks_of(
        self,
        principal: Principal,
        worker_ids: Sequence[str],
        trade: str | None,
        on: date,
        certification: CareerCertification | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`outlook_of` of many workers (the employer's list), in ``worker_ids`` order,
        leaving out those without CCUS data. A few reads whatever their number: the newest
        snapshots in one, the records not in memory in one more, the 分野 of the judgement
        lines of the workers whose 職種 point to none in one more."""
        if not worker_ids:
            return []
        latest = {w.id: w for w in await self.workers.find({"_id": {"$in": list(worker_ids)}})}
        records = await self.records([w.snapshot_id for w in latest.values()])
        master = self.master
        planned: list[tuple[str, dict[str, Any], CcusRecord, list[str], str]] = []
        for worker_id in worker_ids:
            held = latest.get(worker_id)
            if held is None:
                continue
            record = records[held.snapshot_id]
            source = "requested"
            trades = [trade] if trade else []
            if not trades:
                codes = [str(o.get("code") or "") for o in held.summary.get("occupations") or []]
                trades, source = outlook.trades_of(record, master, on, codes), "occupation"
            planned.append((worker_id, held.summary, record, trades, source))
        # no 職種 code maps to a 分野: those of the worker's judgement lines
        unmapped = [worker_id for worker_id, _, _, trades, _ in planned if not trades]
        of_lines = await self.trades_of_workers(unmapped, principal) if unmapped else {}
        views = []
        for worker_id, summary, record, trades, source in planned:
            if not trades:
                trades = of_lines.get(worker_id, [])
                source = "judgements" if trades else "none"
            if principal.role == "evaluator":
                trades = [t for t in trades if principal.handles(t)]
            found = [outlook.outlook(record, master, t, on, certification) for t in trades]
            views.append(outlook.worker_view(worker_id, dict(summary), on, source, found))
        return views

    async def trades_of_workers(
        self, worker_ids: Sequence[str], principal: Principal
    ) -> dict[str, list[str]]:
        """:meth:`trades_of_lines` of many workers in one read."""
        flt: dict[str, Any] = {"worker_id": {"$in": list(worker_ids)}}
        flt.update(access.judgement_filter(principal))
        found: dict[str, dict[str, None]] = {}
        for worker_id, trade in await self.judgements.worker_trades(flt):
            found.setdefault(worker_id, {})[trade] = None
        return {worker_id: list(trades) for worker_id, trades in found.items()}

    async def on_consent_granted(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentGranted)

        def keep_newest(held: ConsentGrant | None) -> tuple[ConsentGrant, list[Envelope]] | None:
            if held is not None and not held.superseded_by(event):
                return None
            return ConsentGrant.granted(event), []

        await self._consent(event.employer_id, event.worker_id, keep_newest, envelope.id)

    async def on_consent_rejected(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentRejected)

        def withdraw(held: ConsentGrant | None) -> tuple[ConsentGrant, list[Envelope]] | None:
            withdrawn = None if held is None else held.rejected(event)
            return None if withdrawn is None else (withdrawn, [])

        await self._consent(event.employer_id, event.worker_id, withdraw, envelope.id)

    async def _consent(
        self,
        employer_id: str,
        worker_id: str,
        change: Callable[[ConsentGrant | None], tuple[ConsentGrant, list[Envelope]] | None],
        event_id: str,
    ) -> None:
        if self.consents is not None:
            key = ConsentGrant.key(employer_id, worker_id)
            await self.consents.update(key, change, applied_event_id=event_id)

    async def ccus(self, worker_id: str) -> judging.Ccus | None:
        """The worker's newest CCUS record, parsed once per snapshot and kept in memory."""
        latest = await self.workers.get(worker_id)
        if latest is None:
            return None
        record = await self.record(latest.snapshot_id)
        return judging.Ccus(latest.snapshot_id, record)

    async def records(self, snapshot_ids: Iterable[str]) -> dict[str, CcusRecord]:
        """The records of many snapshots: those in memory, the others in one read (kept)."""
        found: dict[str, CcusRecord] = {}
        missing = []
        for snapshot_id in dict.fromkeys(snapshot_ids):
            cached = self._records.get(snapshot_id)
            if cached is None:
                missing.append(snapshot_id)
            else:
                self._records.move_to_end(snapshot_id)
                found[snapshot_id] = cached
        if missing:
            stored = await self.snapshots.find(
                {"_id": {"$in": missing}}, projection={"ccus_json": 1}
            )
            for doc in stored:
                found[doc["_id"]] = self._keep(doc["_id"], judging.stored_record(doc))
            absent = [s for s in missing if s not in found]
            if absent:
                raise NotFound(absent[0])
        return found

    def _keep(self, snapshot_id: str, record: CcusRecord) -> CcusRecord:
        self._records[snapshot_id] = record
        if len(self._records) > self._cache_size:
            self._records.popitem(last=False)
        return record

    async def record(self, snapshot_id: str) -> CcusRecord:
        cached = self._records.get(snapshot_id)
        if cached is not None:
            self._records.move_to_end(snapshot_id)
            return cached
        stored = await self.snapshots.get(snapshot_id)
        if stored is None:
            raise NotFound(snapshot_id)
        return self._keep(snapshot_id, judging.stored_record(stored))

    async def reproduce(self, line_id: str) -> tuple[JudgementLine, EvaluationResult]:
        """Judge a completed line again from its stored input and the snapshot it cited."""
        doc = await self.judgements.get(line_id)
        if doc is None or doc.snapshot_id is None:
            raise NotFound(line_id)
        record = await self.record(doc.snapshot_id)
        return doc, judging.reproduce(doc, record, self.master)

    async def current(self, line_id: str) -> tuple[JudgementLine, list[HistoryEntry]] | None:
        """A line's current judgement (highest sequence) and its history, oldest first."""
        line = await self.judgements.get(line_id)
        if line is None:
            return None
        later = (
            [] if self.rejudgements is None else await self.rejudgements.find({"line_id": line_id})
        )
        latest = line_current.latest_by_line(later).get(line_id)
        return line_current.merged(line, latest), line_current.history(line, later)

    async def current_of(self, flt: dict[str, Any]) -> list[JudgementSummary]:
        """The current judgement of every line that ``flt`` selects (line fields only:
        ``employer_id``, ``application_id``, ``worker_id``, ``status``), by line id."""
        lines = await self.judgements.summaries(flt)
        if not lines:
            return []
        # re-judgements carry the line's employer and application: the same selection
        same = {k: v for k, v in flt.items() if k in ("employer_id", "application_id", "worker_id")}
        if len(lines) <= 20 and not same:
            same = {"line_id": {"$in": [d.id for d in lines]}}
        later = [] if self.rejudgements is None else await self.rejudgements.summaries(same)
        latest = line_current.latest_by_line(later)
        merged = [line_current.merged(d, latest.get(d.id)) for d in lines]
        return sorted(merged, key=lambda d: d.id)

    async def on_application_submitted(self, envelope: Envelope) -> None:
        """Each line becomes a judgement, judged now if the worker's CCUS data is here."""
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)

        async def one(line: ApplicationLine) -> None:
            ccus = await self.ccus(line.worker_id)
            start = partial(self._start, event, line, ccus, self.clock())
            await self._update(line.line_id, start, applied_event_id=envelope.id)

        # the lines at once (each its own document; the handler mostly waits for the
        # database): a failed line fails the event after the others are stored, and the
        # redelivery skips the lines already judged (issue 24)
        done = await asyncio.gather(*(one(line) for line in event.lines), return_exceptions=True)
        failed = next((d for d in done if isinstance(d, BaseException)), None)
        if failed is not None:
            raise failed

    def _start(
        self,
        event: ApplicationSubmitted,
        line: ApplicationLine,
        ccus: judging.Ccus | None,
        now: datetime,
        doc: JudgementLine | None,
    ) -> Outcome | None:
        if doc is not None:
            return None  # this line is judged already
        new = judging.received(event, line, now, self.wait_days, self.master)
        if ccus is None:
            return new, []
        return judging.judge(new, ccus, self.master, self.policy, now)

    async def on_snapshot(self, envelope: Envelope) -> None:
        """Keep the newest snapshot per worker; judge the lines that were waiting for it."""
        snapshot = envelope.event
        assert isinstance(snapshot, CcusWorkerSnapshot)

        with suppress(AlreadyExists):  # the same snapshot again (redelivered or re-sent)
            await self.snapshots.insert(judging.snapshot_version_doc(snapshot))

        new_id = judging.snapshot_id(snapshot)
        superseded: list[str | None] = [None]  # what stops being the latest (retention)

        def keep_newest(
            held: LatestSnapshot | None,
        ) -> tuple[LatestSnapshot, list[Envelope]] | None:
            replaces = held is None or held.replaced_by(snapshot)
            held_id = None if held is None else held.snapshot_id
            superseded[0] = retention.superseded_by(held_id, new_id, replaces=replaces)
            if not replaces:
                return None
            return judging.latest_snapshot(snapshot), []

        await self.workers.update(snapshot.worker_id, keep_newest, applied_event_id=envelope.id)
        if superseded[0] is not None:
            await self.snapshots.superseded(superseded[0], snapshot.worker_id, self.clock())
        latest = await self.ccus(snapshot.worker_id)
        assert latest is not None
        waiting = await self.judgements.find(
            {"worker_id": snapshot.worker_id, "status": judging.WAITING}
        )
        for doc in waiting:
            judge = partial(self._judge_waiting, latest, self.clock())
            await self._update(doc.id, judge)

    def _judge_waiting(
        self, ccus: judging.Ccus, now: datetime, doc: JudgementLine | None
    ) -> Outcome | None:
        if doc is None or doc.status != judging.WAITING:
            return None
        return judging.judge(doc, ccus, self.master, self.policy, now)

    async def on_withdrawn(self, envelope: Envelope) -> None:
        """Lines of a withdrawn application that are still waiting are not judged."""
        event = envelope.event
        assert isinstance(event, ApplicationWithdrawn)
        for line_id in event.line_ids:
            withdraw = partial(_withdraw, self.clock())
            await self.judgements.update(line_id, withdraw, applied_event_id=envelope.id)

    async def expire_waiting(self) -> int:
        """Reject the lines whose CCUS data did not arrive in time; returns how many."""
        now = self.clock()
        due = await self.judgements.find({"status": judging.WAITING, "deadline": {"$lte": now}})
        for doc in due:
            await self._update(doc.id, partial(_expire, now))
        if due:
            log.info("judgement.expired", count=len(due))
        return len(due)

    async def _update(
        self,
        line_id: str,
        change: Callable[[JudgementLine | None], Outcome | None],
        *,
        applied_event_id: str | None = None,
    ) -> JudgementLine | None:
        """``judgements.update``, telling ``on_completed`` about each judgement it completed."""
        raised: list[Envelope] = []

        def tracked(doc: JudgementLine | None) -> Outcome | None:
            outcome = change(doc)
            raised[:] = outcome[1] if outcome is not None else []
            return outcome

        saved = await self.judgements.update(line_id, tracked, applied_event_id=applied_event_id)
        if self.on_completed is not None:
            for envelope in raised:
                if isinstance(envelope.event, JudgementCompletedV2):
                    self.on_completed(envelope.event)
        return saved

    async def review_by(
        self,
        evaluator: Principal,
        line_id: str,
        *,
        action: Literal["confirm", "override"],
        reason: str | None,
        eligible_level: int | None,
    ) -> JudgementLine:
        """An evaluator's review of a line of his 分野 (another 分野's line: ``NotFound``)."""
        if access.scoped(evaluator):
            line = await self.judgements.get(line_id)
            if line is None or not access.sees_judgement(evaluator, line):
                raise NotFound(line_id)
        return await self.review(
            line_id,
            reviewer=evaluator.subject,
            action=action,
            reason=reason,
            eligible_level=eligible_level,
        )

    async def review(
        self,
        line_id: str,
        *,
        reviewer: str,
        action: Literal["confirm", "override"],
        reason: str | None,
        eligible_level: int | None,
    ) -> JudgementLine:
        now = self.clock()

        def decide(doc: JudgementLine | None) -> Outcome:
            if doc is None:
                raise NotFound(line_id)
            return judging.review(
                doc,
                reviewer=reviewer,
                action=action,
                reason=reason,
                eligible_level=eligible_level,
                now=now,
            )

        saved = await self._update(line_id, decide)
        assert saved is not None
        return saved


def _withdraw(now: datetime, doc: JudgementLine | None) -> Outcome | None:
    return None if doc is None else judging.withdraw(doc, now)


def _expire(now: datetime, doc: JudgementLine | None) -> Outcome | None:
    return None if doc is None else judging.expire(doc, now)
