"""The judgement service's use cases: react to events, sweep deadlines, record reviews.

It talks to storage only through the ``Documents`` port; every change goes through
``update`` (read, change, write by ``_id`` + version, retried on concurrent writes), and
the events a change raises are stored with it (outbox) and published by the relay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Literal

from judgement.core import judging
from judgement.core.judging import Doc, Outcome, ReviewPolicy
from judgement.core.master import Master
from judgement.ports import Documents
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusWorkerSnapshot,
)
from shared_kernel.logging import get_logger

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class NotFound(LookupError):
    pass


class JudgementService:
    def __init__(
        self,
        snapshots: Documents,
        judgements: Documents,
        master: Master,
        *,
        policy: ReviewPolicy,
        wait_days: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.snapshots = snapshots
        self.judgements = judgements
        self.master = master
        self.policy = policy
        self.wait_days = wait_days
        self.clock = clock

    async def latest_snapshot(self, worker_id: str) -> CcusWorkerSnapshot | None:
        stored = await self.snapshots.get(worker_id)
        return None if stored is None else CcusWorkerSnapshot.model_validate(stored["snapshot"])

    async def on_application_submitted(self, envelope: Envelope) -> None:
        """Each line becomes a judgement, judged now if the worker's CCUS data is here."""
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)
        for line in event.lines:
            snapshot = await self.latest_snapshot(line.worker_id)
            start = partial(self._start, event, line, snapshot, self.clock())
            await self.judgements.update(line.line_id, start, applied_event_id=envelope.id)

    def _start(
        self,
        event: ApplicationSubmitted,
        line: ApplicationLine,
        snapshot: CcusWorkerSnapshot | None,
        now: datetime,
        doc: Doc | None,
    ) -> Outcome | None:
        if doc is not None:
            return None  # this line is judged already
        new = judging.received(event, line, now, self.wait_days, self.master)
        if snapshot is None:
            return new, []
        return judging.judge(new, snapshot, self.master, self.policy, now)

    async def on_snapshot(self, envelope: Envelope) -> None:
        """Keep the newest snapshot per worker; judge the lines that were waiting for it."""
        snapshot = envelope.event
        assert isinstance(snapshot, CcusWorkerSnapshot)

        def keep_newest(doc: Doc | None) -> Outcome | None:
            if not judging.newer(snapshot, doc):
                return None
            return judging.snapshot_doc(snapshot), []

        await self.snapshots.update(snapshot.worker_id, keep_newest, applied_event_id=envelope.id)
        latest = await self.latest_snapshot(snapshot.worker_id)
        assert latest is not None
        waiting = await self.judgements.find(
            {"worker_id": snapshot.worker_id, "status": judging.WAITING}
        )
        for doc in waiting:
            judge = partial(self._judge_waiting, latest, self.clock())
            await self.judgements.update(doc["_id"], judge)

    def _judge_waiting(
        self, snapshot: CcusWorkerSnapshot, now: datetime, doc: Doc | None
    ) -> Outcome | None:
        if doc is None or doc["status"] != judging.WAITING:
            return None
        return judging.judge(doc, snapshot, self.master, self.policy, now)

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
            await self.judgements.update(doc["_id"], partial(_expire, now))
        if due:
            log.info("judgement.expired", count=len(due))
        return len(due)

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

        saved = await self.judgements.update(line_id, decide)
        assert saved is not None
        return saved


def _withdraw(now: datetime, doc: Doc | None) -> Outcome | None:
    return None if doc is None else judging.withdraw(doc, now)


def _expire(now: datetime, doc: Doc | None) -> Outcome | None:
    return None if doc is None else judging.expire(doc, now)
