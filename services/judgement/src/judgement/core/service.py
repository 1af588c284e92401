"""The judgement service's use cases: react to events, sweep deadlines, record reviews.

It talks to storage only through the ``Documents`` port; every change goes through
``update`` (read, change, write by ``_id`` + version, retried on concurrent writes), and
the events a change raises are stored with it (outbox) and published by the relay.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

from judgement.core import access, judging, outlook
from judgement.core import current as line_current
from judgement.core.engine import evaluate
from judgement.core.errors import CcusNotFound, NotFound, TradeNotAvailable, UnknownTrade
from judgement.core.judging import Doc, Outcome, ReviewPolicy
from judgement.core.master import Master
from judgement.core.models import (
    CareerCertification,
    CcusRecord,
    EvaluationRequest,
    EvaluationResult,
)
from judgement.core.workers import ConsentGrant, LatestSnapshot
from judgement.ports.criteria import FixedMaster, MasterInForce
from judgement.ports.documents import Documents
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


SUMMARY_FIELDS = {
    "request": 0,
    "line": 0,
    "_outbox": 0,
    "_applied": 0,
    "_outbox_pending": 0,
    "_outbox_due": 0,
}
"""What a list of judgements reads of each line (not the request nor the line itself)."""


class JudgementService:
    def __init__(
        self,
        workers: Aggregates[LatestSnapshot],
        snapshots: Documents,
        judgements: Documents,
        master: Master | MasterInForce,
        *,
        policy: ReviewPolicy,
        wait_days: int,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = 2048,
        on_completed: Callable[[JudgementCompletedV2], None] | None = None,
        consents: Aggregates[ConsentGrant] | None = None,
        rejudgements: Documents | None = None,
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
        judged = await self.judgements.find(
            {"employer_id": employer_id, "worker_id": worker_id}, projection={"_id": 1}
        )
        return bool(judged)

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
        lines = await self.judgements.find(flt, projection={"trade": 1})
        return list(dict.fromkeys(str(d["trade"]) for d in lines if d.get("trade")))

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
    ) -> list[Doc]:
        """The current judgement of each line ``principal`` may list (summary fields)."""
        flt: dict[str, Any] = access.judgement_filter(principal)
        if application_id:
            flt["application_id"] = application_id
        if status:
            flt["status"] = status
        return await self.current_of(flt, projection=SUMMARY_FIELDS)

    async def line_for(self, principal: Principal, line_id: str) -> tuple[Doc, list[Doc]]:
        """A line's current judgement and its history, if ``principal`` may see it."""
        found = await self.current(line_id)
        if found is None or not access.sees_judgement(principal, found[0]):
            raise NotFound(line_id)
        return found

    async def reviews_for(self, evaluator: Principal) -> list[Doc]:
        """The lines waiting for an evaluator's review (of his 分野), by line id."""
        docs = await self.judgements.find(
            {"status": judging.IN_REVIEW, **access.judgement_filter(evaluator)},
            projection=SUMMARY_FIELDS,
        )
        return sorted(docs, key=lambda d: d["_id"])

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
        summary = await self.ccus_summary(worker_id)
        ccus = await self.ccus(worker_id)
        if summary is None or ccus is None:
            return None
        master = self.master
        source = "requested"
        trades = [trade] if trade else []
        if not trades:
            codes = [str(o.get("code") or "") for o in summary.get("occupations") or []]
            trades, source = outlook.trades_of(ccus.record, master, on, codes), "occupation"
        if not trades:  # no 職種 code maps to a 分野: those of the worker's judgement lines
            trades = await self.trades_of_lines(worker_id, principal)
            source = "judgements" if trades else "none"
        if principal.role == "evaluator":
            trades = [t for t in trades if principal.handles(t)]
        found = [outlook.outlook(ccus.record, master, t, on, certification) for t in trades]
        return outlook.worker_view(worker_id, summary, on, source, found)

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

    async def record(self, snapshot_id: str) -> CcusRecord:
        cached = self._records.get(snapshot_id)
        if cached is not None:
            self._records.move_to_end(snapshot_id)
            return cached
        stored = await self.snapshots.get(snapshot_id)
        if stored is None:
            raise NotFound(snapshot_id)
        record = judging.stored_record(stored)
        self._records[snapshot_id] = record
        if len(self._records) > self._cache_size:
            self._records.popitem(last=False)
        return record

    async def reproduce(self, line_id: str) -> tuple[Doc, EvaluationResult]:
        """Judge a completed line again from its stored input and the snapshot it cited."""
        doc = await self.judgements.get(line_id)
        if doc is None or "snapshot_id" not in doc:
            raise NotFound(line_id)
        record = await self.record(doc["snapshot_id"])
        return doc, judging.reproduce(doc, record, self.master)

    async def current(self, line_id: str) -> tuple[Doc, list[Doc]] | None:
        """A line's current judgement (highest sequence) and its history, oldest first."""
        line = await self.judgements.get(line_id)
        if line is None:
            return None
        later = await self._rejudgements({"line_id": line_id}, None)
        latest = line_current.latest_by_line(later).get(line_id)
        return line_current.merged(line, latest), line_current.history(line, later)

    async def current_of(
        self, flt: dict[str, Any], projection: dict[str, Any] | None = None
    ) -> list[Doc]:
        """The current judgement of every line that ``flt`` selects (line fields only:
        ``employer_id``, ``application_id``, ``worker_id``, ``status``), by line id."""
        lines = await self.judgements.find(flt, projection=projection)
        if not lines:
            return []
        # re-judgements carry the line's employer and application: the same selection
        same = {k: v for k, v in flt.items() if k in ("employer_id", "application_id", "worker_id")}
        if len(lines) <= 20 and not same:
            same = {"line_id": {"$in": [d["_id"] for d in lines]}}
        later = await self._rejudgements(same, line_current.REJUDGEMENT_SUMMARY)
        latest = line_current.latest_by_line(later)
        merged = [line_current.merged(d, latest.get(d["_id"])) for d in lines]
        return sorted(merged, key=lambda d: d["_id"])

    async def _rejudgements(
        self, flt: dict[str, Any], projection: dict[str, Any] | None
    ) -> list[Doc]:
        if self.rejudgements is None:
            return []
        return await self.rejudgements.find(flt, projection=projection)

    async def on_application_submitted(self, envelope: Envelope) -> None:
        """Each line becomes a judgement, judged now if the worker's CCUS data is here."""
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)
        for line in event.lines:
            ccus = await self.ccus(line.worker_id)
            start = partial(self._start, event, line, ccus, self.clock())
            await self._update(line.line_id, start, applied_event_id=envelope.id)

    def _start(
        self,
        event: ApplicationSubmitted,
        line: ApplicationLine,
        ccus: judging.Ccus | None,
        now: datetime,
        doc: Doc | None,
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

        def keep_newest(
            held: LatestSnapshot | None,
        ) -> tuple[LatestSnapshot, list[Envelope]] | None:
            if held is not None and not held.replaced_by(snapshot):
                return None
            return judging.latest_snapshot(snapshot), []

        await self.workers.update(snapshot.worker_id, keep_newest, applied_event_id=envelope.id)
        latest = await self.ccus(snapshot.worker_id)
        assert latest is not None
        waiting = await self.judgements.find(
            {"worker_id": snapshot.worker_id, "status": judging.WAITING}
        )
        for doc in waiting:
            judge = partial(self._judge_waiting, latest, self.clock())
            await self._update(doc["_id"], judge)

    def _judge_waiting(self, ccus: judging.Ccus, now: datetime, doc: Doc | None) -> Outcome | None:
        if doc is None or doc["status"] != judging.WAITING:
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
            await self._update(doc["_id"], partial(_expire, now))
        if due:
            log.info("judgement.expired", count=len(due))
        return len(due)

    async def _update(
        self,
        line_id: str,
        change: Callable[[Doc | None], Outcome | None],
        *,
        applied_event_id: str | None = None,
    ) -> Doc | None:
        """``judgements.update``, telling ``on_completed`` about each judgement it completed."""
        raised: list[Envelope] = []

        def tracked(doc: Doc | None) -> Outcome | None:
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
    ) -> Doc:
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
    ) -> Doc:
        now = self.clock()

        def decide(doc: Doc | None) -> Outcome:
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


def _withdraw(now: datetime, doc: Doc | None) -> Outcome | None:
    return None if doc is None else judging.withdraw(doc, now)


def _expire(now: datetime, doc: Doc | None) -> Outcome | None:
    return None if doc is None else judging.expire(doc, now)
