"""The application service's use cases, over its ports (aggregates, judgement).

Every change goes through ``Aggregates.update`` (read, change, write by ``_id`` + version,
retried on concurrent writes); the events a change raises are stored with it (outbox) and
published by the relay. Checks that need other data (the consent read model, the
judgeable trades, the master's rules, the CCUS summary) gather it first and hand it to the
pure core.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from application.core import applications, career, consents, lines, summaries
from application.core.applications import Application, Header, Outcome, SubmitContext, View
from application.core.consents import Consent
from application.core.errors import ApplicationError, invalid, not_found
from application.core.fees import FeeRule, FeeSchedule
from application.core.summaries import ApplicationSummary, Summarised
from application.ports import JudgementPort
from shared_kernel.aggregate import Aggregates
from shared_kernel.context import get_logger
from shared_kernel.documents import Documents
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
    JudgementStarted,
    ResultNoticeGenerated,
)
from shared_kernel.principal import Principal
from shared_kernel.time import japan_today

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    schedule: FeeSchedule
    prefectures: Collection[str]
    reminder_after: timedelta = timedelta(hours=72)
    reminder_every: timedelta = timedelta(days=1)
    max_lines: int = 100


@dataclass(frozen=True)
class Submitted:
    response: View
    replayed: bool


class ApplicationService:
    def __init__(
        self,
        applications: Aggregates[Application],
        consents: Aggregates[Consent],
        judgement: JudgementPort,
        policy: Policy,
        summaries: Aggregates[ApplicationSummary],
        *,
        clock: Callable[[], datetime] = utcnow,
        randbelow: Callable[[int], int] = secrets.randbelow,
        summary_rows: Documents | None = None,
    ) -> None:
        # every write of an application also writes its summary (the lists read only those)
        self.applications = Summarised(applications, summaries)
        self.summaries = summaries
        # the same summaries as raw documents: the lists read only their listed fields
        # (``summaries.LISTED``); without it, whole typed summaries
        self.summary_rows = summary_rows
        self.consents = consents  # read model of granted consents (ConsentGranted …)
        self.judgement = judgement
        self.policy = policy
        self.clock = clock
        self.randbelow = randbelow

    def today(self) -> date:
        return japan_today(self.clock())

    # --- events ---------------------------------------------------------------------------

    async def on_consent_granted(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentGranted)

        def change(doc: Consent | None) -> tuple[Consent, list[Envelope]] | None:
            new = consents.granted(event, doc)
            return None if new is None else (new, [])

        key = consents.key(event.employer_id, event.worker_id)
        await self.consents.update(key, change, applied_event_id=envelope.id)

    async def on_consent_rejected(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ConsentRejected)

        def change(doc: Consent | None) -> tuple[Consent, list[Envelope]] | None:
            new = consents.rejected(event, doc)
            return None if new is None else (new, [])

        key = consents.key(event.employer_id, event.worker_id)
        await self.consents.update(key, change, applied_event_id=envelope.id)

    async def on_judgement_started(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, JudgementStarted)
        change = partial(_started, event, self.clock())
        await self.applications.update(event.application_id, change, applied_event_id=envelope.id)

    async def on_judgement_completed(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, JudgementCompletedV2)

        def end(doc: Consent | None) -> tuple[Consent, list[Envelope]] | None:
            # ends the consent only if its own term says so (ConsentGranted)
            new = consents.ended_by_judgement(event.sequence, event.judged_at, doc)
            return None if new is None else (new, [])

        # the consent first: once the line reads 判定完了 its worker is no longer offered
        key = consents.key(event.employer_id, event.worker_id)
        await self.consents.update(key, end, applied_event_id=envelope.id)
        change = partial(_completed, event, self.clock())
        await self.applications.update(event.application_id, change, applied_event_id=envelope.id)

    async def on_notice_generated(self, envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ResultNoticeGenerated)
        await self.applications.update(
            event.application_id,
            partial(_notice_generated, event),
            applied_event_id=envelope.id,
        )

    # --- workers (技能者追加) ------------------------------------------------------------------

    async def _consent(self, employer_id: str | None, worker_id: str | None) -> Consent | None:
        if employer_id is None or worker_id is None:
            return None
        return await self.consents.get(consents.key(employer_id, worker_id))

    async def workers(self, principal: Principal) -> list[View]:
        """The workers the employer may put on a line: a valid granted consent."""
        today = self.today()
        found = await self.consents.find(
            {"employer_id": principal.employer_id, "status": consents.GRANTED}
        )
        valid = [d for d in found if consents.is_valid(d, today)]
        return [consents.worker_view(d) for d in sorted(valid, key=lambda d: d.worker_id)]

    async def career_prefill(
        self, principal: Principal, raw_worker_id: str, authorization: str
    ) -> View:
        """The 就業期間 the form shows first for a worker, with the reasons."""
        worker_id = lines.normalise_worker_id(raw_worker_id)
        consent = await self._consent(principal.employer_id, worker_id)
        if worker_id is None or not consents.is_valid(consent, self.today()):
            raise ApplicationError(
                "worker_not_found",
                "個人情報利用の同意が有効な技能者の中に、この技能者はいません。",
            )
        assert consent is not None
        ccus = await self.judgement.ccus_summary(worker_id, authorization)
        rules = await self.judgement.rules()
        today = self.today()
        prefill = career.prefill(ccus, today, rules)
        return {
            "worker": consents.worker_view(consent),
            "application_date": today.isoformat(),
            "ccus_available": ccus is not None,
            "career_period": prefill.as_dict(),
            "management_required_levels": list(rules.management_levels),
        }

    # --- queries ------------------------------------------------------------------------

    async def options(self) -> View:
        """The choices of the application form: prefectures, levels, judgeable trades, the
        master's 経歴証明 rules, today's fee."""
        trades = await self.judgement.judgeable_trades()
        rules = await self.judgement.rules()
        return {
            "prefectures": list(self.policy.prefectures),
            "levels": list(career.LEVELS),
            "management_required_levels": list(rules.management_levels),
            "trades": sorted(trades),
            "career_rules": rules.as_dict(),
            "fee_today": self.policy.schedule.rule_on(self.today()).as_dict(),
            "declarations_ja": dict(applications.DECLARATIONS),
        }

    def _fee_today(self) -> FeeRule:
        """Today's fee rule: what a draft would cost if submitted today."""
        return self.policy.schedule.rule_on(self.today())

    async def results(self, principal: Principal, application_id: str | None) -> list[View]:
        """The result list's lines (レベル判定結果確認) from the summaries: 404 for an
        application that is not the employer's."""
        if application_id is None:
            return summaries.results(await self._summaries_of(principal))
        found = await self.summaries.get(application_id)
        if (
            found is None
            or found.employer_id != principal.employer_id
            or found.status == applications.DELETED
        ):
            raise not_found()
        return summaries.results([found])

    async def _summaries_of(self, principal: Principal) -> Sequence[summaries.Listed]:
        if principal.employer_id is None:
            return []
        flt = {"employer_id": principal.employer_id}
        if self.summary_rows is None:
            return await self.summaries.find(flt)
        docs = await self.summary_rows.find(flt, projection=summaries.LISTED)
        return [summaries.row(doc) for doc in docs]

    async def list(self, principal: Principal, status: str | None) -> list[View]:
        """The employer's applications from their summaries (never the applications
        themselves)."""
        status = applications.checked_status(status)
        found = await self._summaries_of(principal)
        return summaries.listed(found, status, self._fee_today())

    async def get(self, principal: Principal, application_id: str) -> View:
        doc = applications.owned(await self.applications.get(application_id), principal.employer_id)
        return applications.detail(doc, self._fee_today())

    # --- draft commands -------------------------------------------------------------------

    async def create(self, principal: Principal, header: Header) -> View:
        if principal.employer_id is None:
            raise ApplicationError("no_employer", "事業者IDのない利用者は申請できません。")
        for _ in range(5):
            now = self.clock()
            doc = applications.new_draft(
                applications.new_application_id(now, self.randbelow),
                principal.employer_id,
                principal.subject,
                header,
                now,
            )
            try:
                await self.applications.insert(doc)
            except AlreadyExists:
                continue
            return applications.detail(doc, self._fee_today())
        raise ApplicationError(
            "id_exhausted", "申請番号を採番できませんでした。再度お試しください。"
        )

    async def _change(
        self,
        principal: Principal,
        application_id: str,
        change: Callable[[Application], Outcome | None],
    ) -> Application:
        """Apply ``change`` to the employer's draft (404 if not theirs, 409 if frozen)."""

        def guarded(doc: Application | None) -> Outcome | None:
            return change(applications.editable(doc, principal.employer_id))

        saved = await self.applications.update(application_id, guarded)
        if saved is None:
            raise not_found()
        return saved

    async def update_header(
        self, principal: Principal, application_id: str, header: Header
    ) -> View:
        now = self.clock()
        saved = await self._change(
            principal, application_id, lambda doc: applications.update_header(doc, header, now)
        )
        return applications.detail(saved, self._fee_today())

    async def discard(self, principal: Principal, application_id: str) -> None:
        now = self.clock()
        await self._change(principal, application_id, lambda doc: applications.discard(doc, now))

    async def _check_line(
        self, principal: Principal, request: lines.LineRequest, authorization: str
    ) -> lines.CheckedLine:
        today = self.today()
        worker_id = lines.normalise_worker_id(request.worker_id)
        consent = await self._consent(principal.employer_id, worker_id)
        trades = await self.judgement.judgeable_trades()
        rules = await self.judgement.rules()
        ccus = None
        if worker_id is not None and consents.is_valid(consent, today):
            # only a consenting worker's CCUS data is looked at
            ccus = await self.judgement.ccus_summary(worker_id, authorization)
        ctx = lines.Context(
            application_date=today,
            trades=trades,
            prefectures=self.policy.prefectures,
            consent=consent,
            ccus=ccus,
            rules=rules,
        )
        checked, errors = lines.check(request, ctx)
        if errors:
            raise invalid(errors)
        assert checked is not None
        return checked

    async def add_line(
        self,
        principal: Principal,
        application_id: str,
        request: lines.LineRequest,
        authorization: str,
    ) -> View:
        applications.editable(await self.applications.get(application_id), principal.employer_id)
        checked = await self._check_line(principal, request, authorization)
        now = self.clock()
        max_lines = self.policy.max_lines
        saved = await self._change(
            principal,
            application_id,
            lambda doc: applications.add_line(doc, checked, now, max_lines),
        )
        added = applications.line_id(application_id, saved.next_line_number - 1)
        return applications.line_view(applications.find_line(saved, added), saved)

    async def replace_line(
        self,
        principal: Principal,
        application_id: str,
        line_id: str,
        request: lines.LineRequest,
        authorization: str,
    ) -> View:
        doc = applications.editable(
            await self.applications.get(application_id), principal.employer_id
        )
        applications.find_line(doc, line_id)
        checked = await self._check_line(principal, request, authorization)
        now = self.clock()
        saved = await self._change(
            principal,
            application_id,
            lambda current: applications.replace_line(current, line_id, checked, now),
        )
        return applications.line_view(applications.find_line(saved, line_id), saved)

    async def remove_line(self, principal: Principal, application_id: str, line_id: str) -> View:
        now = self.clock()
        saved = await self._change(
            principal,
            application_id,
            lambda doc: applications.remove_line(doc, line_id, now),
        )
        return applications.detail(saved, self._fee_today())

    async def preview(
        self, principal: Principal, application_id: str, line_id: str, authorization: str
    ) -> View:
        """The judgement service's result for the line as it stands, kept on the line."""
        doc = applications.editable(
            await self.applications.get(application_id), principal.employer_id
        )
        line = applications.find_line(doc, line_id)
        today = self.today()
        result = await self.judgement.preview(
            applications.preview_request(line, today), authorization
        )
        now = self.clock()
        kept = applications.preview_summary(result, today, now)
        revision = line.revision
        await self.applications.update(
            application_id,
            lambda current: (
                None
                if current is None
                else applications.record_preview(current, line_id, revision, kept, now)
            ),
        )
        return {
            "line_id": line_id,
            **applications.preview_view(kept),
            "result": result,
        }

    # --- submission, withdrawal ------------------------------------------------------------

    async def submit(
        self, principal: Principal, application_id: str, idempotency_key: str | None
    ) -> Submitted:
        """申請, once per Idempotency-Key: a retry with the same key gets the same answer."""
        key = applications.checked_key(idempotency_key)
        employer_id = principal.employer_id
        doc = applications.owned(await self.applications.get(application_id), employer_id)
        if applications.submitted_by(doc, key):
            return Submitted(applications.submitted_response(doc), replayed=True)
        applications.ensure_submittable(doc)
        # by the key alone (its index finds one row), the employer checked here: with the
        # employer in the filter too PostgreSQL read every application of the employer
        used = await self.applications.find({"submission_key": key})
        if any(d.id != application_id and d.employer_id == employer_id for d in used):
            raise ApplicationError(
                "idempotency_key_reused",
                "この Idempotency-Key は別の申請で使用済みです。"
                "申請ごとに新しいキーを使用してください。",
            )
        trades = await self.judgement.judgeable_trades()
        workers = {line.worker_id for line in doc.lines}
        held = await asyncio.gather(*(self._consent(employer_id, w) for w in workers))
        found = dict(zip(workers, held, strict=True))
        ctx = SubmitContext(
            application_date=self.today(),
            trades=trades,
            prefectures=self.policy.prefectures,
            consents=found,
            schedule=self.policy.schedule,
            rules=await self.judgement.rules(),
        )
        now = self.clock()
        applied: list[bool] = [False]

        def change(doc: Application | None) -> Outcome | None:
            current = applications.owned(doc, employer_id)
            if applications.submitted_by(current, key):
                applied[0] = False
                return None
            applications.ensure_submittable(current)
            if {line.worker_id for line in current.lines} - set(found):
                raise ApplicationError(
                    "changed_meanwhile",
                    "申請内容が変更されました。内容を確認して、もう一度申請してください。",
                )
            outcome = applications.submit(current, key, ctx, now)
            applied[0] = True
            return outcome

        saved = await self.applications.update(application_id, change)
        assert saved is not None
        if applied[0]:
            log.info(
                "application.submitted",
                application_id=application_id,
                lines=len(saved.lines),
                fee_total_yen=applications.fee_total(saved, None),
            )
        return Submitted(applications.submitted_response(saved), replayed=not applied[0])

    async def withdraw(self, principal: Principal, application_id: str, reason: str | None) -> View:
        now = self.clock()

        def change(doc: Application | None) -> Outcome:
            return applications.withdraw(
                applications.owned(doc, principal.employer_id), reason, now
            )

        saved = await self.applications.update(application_id, change)
        assert saved is not None
        return applications.detail(saved, self._fee_today())

    # --- 押し忘れ防止 -------------------------------------------------------------------------

    async def send_reminders(self) -> int:
        """ApplicationDraftReminder for each draft with lines left unsubmitted too long."""
        now = self.clock()
        after, every = self.policy.reminder_after, self.policy.reminder_every
        due = await self.applications.find(
            {
                "status": lines.DRAFT,
                "line_count": {"$gt": 0},
                "lines_since": {"$lte": now - after},
            }
        )
        sent = 0
        for found in due:
            if not applications.reminder_due(found, now, after, every):
                continue
            reminded: list[bool] = []

            def change(doc: Application | None, reminded: list[bool] = reminded) -> Outcome | None:
                outcome = applications.remind(doc, now, after, every)
                reminded[:] = [outcome is not None]
                return outcome

            await self.applications.update(found.id, change)
            sent += reminded == [True]
        if sent:
            log.info("application.draft_reminders", count=sent)
        return sent


def _started(event: JudgementStarted, now: datetime, doc: Application | None) -> Outcome | None:
    return applications.started(doc, event, now)


def _completed(
    event: JudgementCompletedV2, now: datetime, doc: Application | None
) -> Outcome | None:
    return applications.completed(doc, event, now)


def _notice_generated(event: ResultNoticeGenerated, doc: Application | None) -> Outcome | None:
    return applications.notice_generated(doc, event)
