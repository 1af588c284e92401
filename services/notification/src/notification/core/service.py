"""The notification service's use cases: record mails for events, send what is pending.

Handlers only *record* mails (one ``mails`` document per trigger, template and recipient,
with a natural ``_id``, written together with the consumed event's id); the sender, a
background job, sends pending mails and marks them. It talks to storage through the
``Aggregates`` port (one typed model per collection), to SMTP through ``Mailer``, to the
templates through ``Renderer`` and counts through ``Metrics``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from notification.core import applications, compose, mails, rejudgements, users
from notification.core.applications import ApplicationMails
from notification.core.compose import Draft
from notification.core.errors import MailNotFound, MailNotRequeueable
from notification.core.links import Links
from notification.core.mails import Mail, Rendered
from notification.core.message import build_message
from notification.core.rejudgements import Digest
from notification.core.users import User
from notification.ports import (
    Mailer,
    Metrics,
    NoMetrics,
    PermanentFailure,
    Renderer,
    TransientFailure,
)
from shared_kernel.aggregate import Aggregates
from shared_kernel.context import correlation_scope, get_logger
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    JudgementCompletedV2,
    RejudgementPlanned,
    ResultNoticeGenerated,
    UserActivated,
    UserProvisionallyRegisteredV2,
)

log = get_logger(__name__)


EXPIRED = "仮パスワードの有効期限を過ぎたため送信しませんでした（再度、利用者仮申請が必要です）"
RETIRED = (
    "仮パスワードのメールは廃止されました（本申請用のリンクは利用者管理サービスが直接送信します）。"
    "再度、利用者仮申請が必要です"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SenderPolicy:
    lease: timedelta = timedelta(seconds=120)
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    batch: int = 50


class NotificationService:
    def __init__(
        self,
        users_store: Aggregates[User],
        applications_store: Aggregates[ApplicationMails],
        mails_store: Aggregates[Mail],
        renderer: Renderer,
        mailer: Mailer,
        *,
        rejudgements_store: Aggregates[Digest],
        links: Links,
        from_address: str,
        policy: SenderPolicy = SenderPolicy(),
        rejudgement_wait: timedelta = timedelta(minutes=30),
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or NoMetrics()
        self.users = users_store
        self.applications = applications_store
        self.mails = mails_store
        self.rejudgements = rejudgements_store
        self.rejudgement_wait = rejudgement_wait
        self.renderer = renderer
        self.mailer = mailer
        self.links = links
        self.from_address = from_address
        self.policy = policy
        self.clock = clock
        self.on_recorded: Callable[[], None] = lambda: None  # wakes the sender
        self.paused_until: datetime | None = None  # mail server unreachable: wait till then
        self._outages = 0

    # --- event handlers ----------------------------------------------------------------

    async def on_provisionally_registered(self, envelope: Envelope) -> None:
        """The recipients' read model only: the activation link is mailed by identity
        itself (v2 carries no secret; v1, retired in issue 22, is no longer consumed)."""
        event = envelope.event
        assert isinstance(event, UserProvisionallyRegisteredV2)
        change = partial(users.provisionally_registered, event, self.clock())
        await self.users.update(event.login_id, change, applied_event_id=envelope.id)

    async def on_activated(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, UserActivated)
        change = partial(users.activated, event, self.clock())
        await self.users.update(event.login_id, change, applied_event_id=envelope.id)
        await self.record(compose.account_activated(envelope, self.links), envelope.id)

    async def on_consent_granted(self, envelope: Envelope) -> None:
        await self.record(compose.consent_granted(envelope, self.links), envelope.id)

    async def on_consent_rejected(self, envelope: Envelope) -> None:
        await self.record(compose.consent_rejected(envelope, self.links), envelope.id)

    async def on_draft_reminder(self, envelope: Envelope) -> None:
        await self.record(compose.draft_reminder(envelope, self.links), envelope.id)

    async def on_application_submitted(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)
        await self.record(compose.application_received(envelope, self.links), envelope.id)
        await self._application(event.application_id, applications.submitted, envelope)

    async def on_withdrawn(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ApplicationWithdrawn)
        await self._application(event.application_id, applications.withdrawn, envelope)

    async def on_judgement_completed(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, JudgementCompletedV2)
        if event.sequence > 1:  # 再判定: the run's update mail, never the per-application ones
            await self._rejudged(event, envelope)
            return
        await self._application(event.application_id, applications.judged, envelope)

    async def on_notice_generated(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ResultNoticeGenerated)
        if event.sequence > 1:
            # a re-judgement's notice: the update mail links the result screen, which has it
            log.info("notice.rejudgement_skipped", notice_id=event.notice_id, line_id=event.line_id)
            return
        await self._application(event.application_id, applications.notice_generated, envelope)

    async def on_rejudgement_planned(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, RejudgementPlanned)
        doc_id = rejudgements.digest_id(event.run_id, event.employer_id)
        change = partial(rejudgements.planned, event, self._arrival(envelope))
        doc = await self.rejudgements.update(doc_id, change, applied_event_id=envelope.id)
        if doc is None:
            return
        decision = doc.decision
        if decision is not None and decision.event_id != envelope.id:
            log.info("rejudgement.plan_after_decision", digest_id=doc_id, decided_at=decision.at)
        await self._mail_digest(doc)

    async def _rejudged(self, event: JudgementCompletedV2, envelope: Envelope) -> None:
        doc_id = rejudgements.digest_id(rejudgements.run_of(event), event.employer_id)
        change = partial(rejudgements.rejudged, event, self._arrival(envelope))
        doc = await self.rejudgements.update(doc_id, change, applied_event_id=envelope.id)
        if doc is None:
            return
        if rejudgements.is_late(doc, event.line_id):
            self.metrics.rejudgement_late_line()
            log.warning(
                "rejudgement.late_line",
                digest_id=doc_id,
                line_id=event.line_id,
                judgement_id=event.judgement_id,
                decided_at=doc.decision.at if doc.decision else None,
            )
            return  # the update mail was decided without it: no second mail
        await self._mail_digest(doc)

    def _arrival(self, envelope: Envelope) -> rejudgements.Arrival:
        return rejudgements.Arrival(
            event_id=envelope.id,
            event_type=envelope.type,
            correlation_id=envelope.correlation_id,
            at=self.clock(),
        )

    async def _mail_digest(self, doc: Digest) -> None:
        """Record the update mail a digest has decided on, then mark the digest mailed.

        Runs again after a crash (a redelivered event, the sweep): the mails' natural ids
        make recording them again a no-op.
        """
        decision = doc.decision
        if doc.status != rejudgements.DECIDED or decision is None:
            return
        digest_id = doc.id
        draft = compose.rejudgement_results(doc, self.links)
        if draft is not None:
            await self.record(draft, decision.event_id)
        marked: list[Digest] = []

        def mark(doc: Digest | None) -> rejudgements.Outcome | None:
            marked.clear()
            outcome = rejudgements.mailed(doc, now=self.clock())
            if outcome is not None:
                marked.append(outcome[0])
            return outcome

        await self.rejudgements.update(digest_id, mark)
        if marked:
            self.metrics.rejudgement_mailed(decision.cause)
            log.info(
                "rejudgement.mailed",
                digest_id=digest_id,
                cause=decision.cause,
                lines=len(decision.line_ids),
                planned=len(doc.planned),
            )

    async def close_waited_digests(self, listening_since: datetime) -> int:
        """The fallback (a periodic job): decide the update mail of every digest to which
        nothing new came for the wait; record the mails of digests decided but not yet
        mailed (a crash in between). Returns how many decided digests it handled."""
        now = self.clock()
        handled = 0
        for found in await self.rejudgements.find({"status": rejudgements.OPEN}):
            if not rejudgements.is_due(found, now, self.rejudgement_wait, listening_since):
                continue
            change = partial(
                rejudgements.waited,
                now=now,
                wait=self.rejudgement_wait,
                listening_since=listening_since,
            )
            doc = await self.rejudgements.update(found.id, change)
            if doc is not None and doc.status == rejudgements.DECIDED:
                await self._mail_digest(doc)
                handled += 1
        for decided in await self.rejudgements.find({"status": rejudgements.DECIDED}):
            await self._mail_digest(decided)
            handled += 1
        return handled

    async def _application(self, application_id: str, step: Any, envelope: Envelope) -> None:
        """Apply the event to the application's read model, then record what it decided.

        A redelivered event leaves the document as it is but the mails are derived from
        it again; their natural ids make that a no-op unless a crash cut it short.
        """
        change = partial(step, envelope.event, envelope.id, envelope.type, self.clock())
        doc = await self.applications.update(application_id, change, applied_event_id=envelope.id)
        if doc is None:
            return
        for draft in compose.application_mails(doc, self.links, envelope.correlation_id):
            await self.record(draft, envelope.id)

    async def employer_addresses(self, employer_id: str | None) -> list[str]:
        if not employer_id:
            return []
        found = await self.users.find({"employer_id": employer_id, "status": users.ACTIVE})
        return users.addresses(found)

    async def record(self, draft: Draft, applied_event_id: str) -> list[Mail]:
        """Store the mail for each recipient (once: the ``_id`` is natural)."""
        recipients: Sequence[str | None]
        if draft.to is not None:
            recipients = list(draft.to)
        else:
            recipients = await self.employer_addresses(draft.trigger.employer_id)
        if not recipients:
            recipients = [None]
        subject, text, html = self.renderer.render(draft.template, draft.context)
        rendered = Rendered(subject=subject, text=text, html=html)
        now = self.clock()
        recorded = []
        for recipient in recipients:
            doc_id = mails.mail_id(draft.template, draft.trigger.key, recipient)
            created: list[Mail] = []

            def create(
                doc: Mail | None, recipient: str | None = recipient, created: list[Mail] = created
            ) -> tuple[Mail, list[Envelope]] | None:
                created.clear()
                if doc is not None:
                    return None  # recorded already (redelivered event, handler run again)
                new = mails.intent(
                    template=draft.template,
                    trigger=draft.trigger,
                    recipient=recipient,
                    rendered=rendered,
                    from_address=self.from_address,
                    now=now,
                    sealed_secrets=draft.sealed_secrets,
                    secrets_expire_at=draft.secrets_expire_at,
                )
                created.append(new)
                return new, []

            saved = await self.mails.update(doc_id, create, applied_event_id=applied_event_id)
            if created and saved is not None:
                recorded.append(saved)
                self.metrics.mail_recorded(draft.template, saved.status)
                log.info(
                    "mail.recorded",
                    mail_id=doc_id,
                    template=draft.template,
                    event_id=draft.trigger.event_id,
                    status=saved.status,
                )
        if recorded:
            self.on_recorded()
        return recorded

    # --- sender --------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Send the pending mails that are due; returns how many were attempted."""
        now = self.clock()
        pending = await self.mails.find({"status": mails.PENDING})
        oldest = min((m.created_at for m in pending), default=None)
        self.metrics.pending(len(pending), (now - oldest).total_seconds() if oldest else 0)
        if self.paused_until is not None and now < self.paused_until:
            return 0
        due = sorted(
            (m for m in pending if mails.is_due(m, now)), key=lambda m: m.next_attempt_at or now
        )[: self.policy.batch]
        attempted = 0
        for mail in due:
            outcome = await self.send_one(mail.id)
            attempted += outcome != "skipped"
            if outcome == "outage":
                break  # the server is unreachable: the rest waits for the pause to end
        return attempted

    async def send_one(self, doc_id: str) -> str:
        """One attempt: claim, send, mark. Returns sent, failed, retry, outage or skipped."""
        owner = uuid.uuid4().hex
        now = self.clock()
        claimed = await self.mails.update(
            doc_id, _change(mails.claim, owner=owner, now=now, lease=self.policy.lease)
        )
        if claimed is None or claimed.lease_owner != owner:
            return "skipped"  # sent meanwhile, or another sender holds it
        cid = claimed.correlation_id  # the event's that recorded the mail
        with correlation_scope(cid) if cid else nullcontext():
            return await self._deliver(doc_id, claimed, owner, now)

    async def _deliver(self, doc_id: str, claimed: Mail, owner: str, now: datetime) -> str:
        template = claimed.template
        if claimed.sealed_secrets or mails.secrets_expired(claimed, now):
            # a temporary-password mail recorded before issue 22: never sent any more
            error = RETIRED if claimed.sealed_secrets else EXPIRED
            fail = _change(mails.failed, error=error, now=self.clock(), drop_secrets=True)
            await self.mails.update(doc_id, fail)
            self.metrics.mail_failed(template)
            log.warning("mail.failed", mail_id=doc_id, template=template, error=error)
            return "failed"
        try:
            message = build_message(claimed, {}, now)
            await self.mailer.send(message, claimed.to or "")
        except (PermanentFailure, ValueError) as exc:
            error = _error_text(exc)
            await self.mails.update(doc_id, _change(mails.failed, error=error, now=self.clock()))
            self.metrics.mail_failed(template)
            log.warning("mail.failed", mail_id=doc_id, template=template, error=error)
            return "failed"
        except TransientFailure as exc:
            retry = _change(
                mails.retry_later,
                owner=owner,
                error=str(exc),
                now=self.clock(),
                base_seconds=self.policy.retry_base_seconds,
                max_seconds=self.policy.retry_max_seconds,
            )
            await self.mails.update(doc_id, retry)
            self.metrics.mail_retry(template)
            log.warning("mail.retry", mail_id=doc_id, template=template, error=str(exc))
            if exc.outage:
                self._outages += 1
                pause = mails.backoff(
                    self._outages, self.policy.retry_base_seconds, self.policy.retry_max_seconds
                )
                self.paused_until = self.clock() + timedelta(seconds=pause)
                return "outage"
            return "retry"
        self._outages = 0
        self.paused_until = None
        # Sent. A crash before this write leaves the mail pending with a lease: it is sent
        # again (same Message-ID) once the lease runs out. Better a rare duplicate than a
        # lost mail.
        await self.mails.update(doc_id, _change(mails.sent, now=self.clock()))
        self.metrics.mail_sent(template)
        log.info("mail.sent", mail_id=doc_id, template=template)
        return "sent"

    # --- operators -----------------------------------------------------------------------

    async def list_mails(
        self,
        *,
        status: str | None = None,
        template: str | None = None,
        to: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {}
        for name, value in (
            ("status", status),
            ("template", template),
            ("to", to),
            ("event_id", event_id),
        ):
            if value is not None:
                flt[name] = value
        found = await self.mails.find(flt, sort=[("created_at", -1)], limit=limit)
        return [mails.view(doc) for doc in found]

    async def requeue(self, doc_id: str) -> dict[str, Any]:
        current = await self.mails.get(doc_id)
        if current is None:
            raise MailNotFound()
        if not mails.requeueable(current):
            raise MailNotRequeueable()
        saved = await self.mails.update(doc_id, _change(mails.requeue, now=self.clock()))
        assert saved is not None
        self.on_recorded()
        return mails.view(saved)


MailChange = Callable[[Mail | None], tuple[Mail, Sequence[Envelope]] | None]


def _change(transition: Callable[..., Mail | None], **arguments: Any) -> MailChange:
    """A mail transition (``mail -> new mail | None``) as a repository change (no events)."""

    def change(doc: Mail | None) -> tuple[Mail, Sequence[Envelope]] | None:
        new = transition(doc, **arguments)
        return None if new is None else (new, [])

    return change


def _error_text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
