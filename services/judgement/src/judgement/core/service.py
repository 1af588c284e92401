"""The judgement service's use cases: react to events, sweep deadlines, record reviews.

It talks to storage only through the ``Documents`` port; every change goes through
``update`` (read, change, write by ``_id`` + version, retried on concurrent writes), and
the events a change raises are stored with it (outbox) and published by the relay.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from judgement.core import current as line_current
from judgement.core import judging
from judgement.core.judging import Doc, Outcome, ReviewPolicy
from judgement.core.master import Master
from judgement.core.models import CcusRecord, EvaluationResult
from judgement.ports import Documents
from judgement.ports.criteria import FixedMaster, MasterInForce
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
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.mongo import Change

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """The database gives naive UTC datetimes back."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class NotFound(LookupError):
    pass


class JudgementService:
    def __init__(
        self,
        workers: Documents,
        snapshots: Documents,
        judgements: Documents,
        master: Master | MasterInForce,
        *,
        policy: ReviewPolicy,
        wait_days: int,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = 2048,
        on_completed: Callable[[JudgementCompletedV2], None] | None = None,
        consents: Documents | None = None,
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
        return None if latest is None else dict(latest["summary"])

    async def may_read_worker(self, employer_id: str | None, worker_id: str) -> bool:
        """An employer reads a worker's CCUS data only with his consent (APPI).

        Allowed when the employer was granted the worker's consent (ConsentGranted, not
        returned since) or already has a judgement of the worker (the consent ends when the
        judgement completes; the result screen still shows the CCUS qualifications).
        """
        if not employer_id:
            return False
        if self.consents is not None:
            grant = await self.consents.get(f"{employer_id}-{worker_id}")
            if grant is not None and not grant.get("withdrawn"):
                return True
        judged = await self.judgements.find(
            {"employer_id": employer_id, "worker_id": worker_id}, projection={"_id": 1}
        )
        return bool(judged)

    async def on_consent_granted(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentGranted)
        granted = {
            "employer_id": event.employer_id,
            "worker_id": event.worker_id,
            "consent_id": event.consent_id,
            "granted_at": event.granted_at,
            "withdrawn": False,
        }

        def keep_newest(doc: Doc | None) -> Outcome | None:
            if doc is not None and _aware(doc["granted_at"]) >= event.granted_at:
                return None
            return granted, []

        await self._consent(event.employer_id, event.worker_id, keep_newest, envelope.id)

    async def on_consent_rejected(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentRejected)

        def withdraw(doc: Doc | None) -> Outcome | None:
            if doc is None or _aware(doc["granted_at"]) > event.rejected_at:
                return None
            return {**doc, "withdrawn": True}, []

        await self._consent(event.employer_id, event.worker_id, withdraw, envelope.id)

    async def _consent(
        self,
        employer_id: str,
        worker_id: str,
        change: Change,
        event_id: str,
    ) -> None:
        if self.consents is not None:
            await self.consents.update(
                f"{employer_id}-{worker_id}", change, applied_event_id=event_id
            )

    async def ccus(self, worker_id: str) -> judging.Ccus | None:
        """The worker's newest CCUS record, parsed once per snapshot and kept in memory."""
        latest = await self.workers.get(worker_id)
        if latest is None:
            return None
        record = await self.record(latest["snapshot_id"])
        return judging.Ccus(latest["snapshot_id"], record)

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

        def keep_newest(doc: Doc | None) -> Outcome | None:
            if not judging.newer(snapshot, doc):
                return None
            return judging.latest_doc(snapshot), []

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
