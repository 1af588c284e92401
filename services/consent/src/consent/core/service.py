"""The consent service's use cases, over its ports (aggregates, access log, files, disarmer).

Every change goes through ``Aggregates.update`` (read, change, write by ``_id`` + version,
retried on concurrent writes); events raised by a change are stored with it (outbox) and
published by the relay. Every read of a worker's personal data is logged first
(``access_log``); a read that cannot be logged fails.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from consent.core import access, checks, consents, files, validation
from consent.core.access import WorkerTrades
from consent.core.ccus import CcusWorker, keep_newest
from consent.core.checks import CheckLimits
from consent.core.consents import Consent, Outcome, Policy, StoredForm
from consent.core.errors import ConsentError, invalid, not_found, on_field
from consent.core.validation import ApplicationInput, Worker
from consent.ports import AccessRecorder, Aggregates, CheckRecords, Disarmer, FileStore
from shared_kernel.context import get_logger
from shared_kernel.errors import FieldError
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    CcusWorkerSnapshot,
    JudgementCompletedV2,
)
from shared_kernel.principal import Principal
from shared_kernel.time import japan_today

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignedForm:
    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class UploadLimits:
    """How a signed form is disarmed (core/files.py): off the event loop, at most
    ``concurrency`` at a time per process, each within ``timeout_seconds`` (waiting for a
    turn included)."""

    timeout_seconds: float = 30.0
    concurrency: int = 2
    max_pixels: int = files.MAX_IMAGE_PIXELS
    max_pdf_pages: int = files.MAX_PDF_PAGES


class ConsentService:
    def __init__(
        self,
        consents: Aggregates[Consent],
        workers: Aggregates[CcusWorker],
        access_log: AccessRecorder,
        files: FileStore,
        *,
        disarmer: Disarmer,
        policy: Policy,
        max_upload_bytes: int,
        max_workers: int = 100,
        clock: Callable[[], datetime] = utcnow,
        worker_trades: Aggregates[WorkerTrades] | None = None,
        ccus_checks: CheckRecords | None = None,
        check_limits: CheckLimits | None = None,
        uploads: UploadLimits | None = None,
    ) -> None:
        self.consents = consents
        self.workers = workers  # read model of CCUS workers (CcusWorkerSnapshot)
        # the 分野 each worker was applied for (ApplicationSubmitted): evaluators' scope
        self.worker_trades = worker_trades
        self.access = access_log  # what was read of whom, and why (core/access.py PURPOSES)
        self.files = files
        self.disarmer = disarmer
        self.policy = policy
        self.max_upload_bytes = max_upload_bytes
        self.max_workers = max_workers
        self.clock = clock
        # the counts and locks of the CCUS check (core/checks.py); None: not limited
        self.ccus_checks = ccus_checks
        self.check_limits = check_limits or CheckLimits()
        self.uploads = uploads or UploadLimits()
        self._disarm_slots = asyncio.Semaphore(self.uploads.concurrency)

    def today(self) -> date:
        return japan_today(self.clock())

    # --- events ---------------------------------------------------------------------------

    async def on_snapshot(self, envelope: Envelope) -> None:
        """Keep the newest CCUS record per worker (what the checks compare against)."""
        snapshot = envelope.event
        assert isinstance(snapshot, CcusWorkerSnapshot)
        await self.workers.update(
            snapshot.worker_id, partial(keep_newest, snapshot), applied_event_id=envelope.id
        )

    async def on_judgement_completed(self, envelope: Envelope) -> None:
        """A line's first judgement ends the employer's granted consent for that worker;
        a re-judgement (JudgementCompletedV2 with sequence > 1) ends nothing."""
        event = envelope.event
        assert isinstance(event, JudgementCompletedV2)
        end = partial(
            consents.end_by_judgement,
            judgement_id=event.judgement_id,
            judged_at=event.judged_at,
            now=self.clock(),
            sequence=event.sequence,
        )
        await self.consents.update(
            consents.consent_id(event.employer_id, event.worker_id),
            end,
            applied_event_id=envelope.id,
        )

    async def on_application_submitted(self, envelope: Envelope) -> None:
        """Remember the 分野 each worker was applied for (which evaluators see his consents)."""
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)
        if self.worker_trades is None:
            return
        by_worker: dict[str, list[str]] = {}
        for line in event.lines:
            by_worker.setdefault(line.worker_id, []).append(line.trade)
        for worker_id, trades in sorted(by_worker.items()):
            await self.worker_trades.update(
                worker_id,
                partial(access.trades_added, trades, worker_id=worker_id),
                applied_event_id=envelope.id,
            )

    # --- 分野 scoping of evaluators --------------------------------------------------------

    async def _trades_of(self, worker_ids: Sequence[str]) -> dict[str, list[str]]:
        if self.worker_trades is None or not worker_ids:
            return {}
        flt = _by_ids(worker_ids)
        return {w.id: w.trades for w in await self.worker_trades.find(flt)}

    async def _in_scope(self, actor: Principal, found: list[Consent]) -> list[Consent]:
        """The consents ``actor`` may see of ``found`` (an employer's are his own already)."""
        if not access.scoped(actor):
            return found
        trades = await self._trades_of([c.worker_id for c in found])
        return [c for c in found if access.sees_worker(actor, trades.get(c.worker_id, []))]

    # --- access log -----------------------------------------------------------------------

    async def log_access(
        self, actor: Principal, action: str, endpoint: str, subjects: Sequence[dict[str, str]]
    ) -> None:
        """``subjects``: whose data was read (``worker_id``, ``employer_id``, maybe
        ``consent_id``: ``Consent.subject``)."""
        await self.access.record(
            action=action,
            endpoint=endpoint,
            actor=actor.subject,
            actor_role=actor.role,
            actor_employer_id=actor.employer_id,
            actor_body=actor.body,
            answer=list(subjects),
        )

    # --- the employer's application -------------------------------------------------------

    async def file_application(
        self, actor: Principal, body: ApplicationInput, endpoint: str
    ) -> dict[str, Any]:
        """個人情報利用申請: every worker checked, then one consent per worker (申請中).

        A row whose 技能者ID, kana and birth date do not match CCUS gets one uniform error,
        whatever is wrong; the checks are limited per employer and per 技能者ID, failures
        lock a 技能者ID for the employer and are written to the access log
        (``core/checks.py``, docs/security.md)."""
        employer_id = employer_of(actor)
        now = self.clock()
        today = japan_today(now)
        application, errors = validation.check_application(
            body, today, max_workers=self.max_workers
        )
        found = await self._refuse_if_limited(
            actor, employer_id, application.workers, now, endpoint
        )
        records: dict[str, CcusWorker] = {}
        warnings: dict[str, list[dict[str, str]]] = {}
        matched: list[Worker] = []
        failed: list[Worker] = []
        for worker in application.workers:
            record = await self.workers.get(worker.worker_id)
            if record is not None:
                records[worker.worker_id] = record
            worker_errors, worker_warnings = validation.check_against_ccus(worker, record)
            (failed if worker_errors else matched).append(worker)
            errors += worker_errors
            warnings[worker.worker_id] = worker_warnings
            existing = await self.consents.get(consents.consent_id(employer_id, worker.worker_id))
            refusal = consents.filing_refusal(existing, today)
            if refusal is not None:
                errors.append(on_field(f"{worker.field}.worker_id", refusal))
        await self.log_access(
            actor,
            "ccus_check",
            endpoint,
            [{"worker_id": w, "employer_id": employer_id} for w in sorted(records)],
        )
        await self._record_outcome(actor, employer_id, matched, failed, now, found, endpoint)
        if errors:
            raise invalid(sorted(errors, key=lambda e: _field_order(e.field)))
        filed: list[Consent] = []
        for worker in application.workers:
            change = partial(
                consents.file,
                employer_id=employer_id,
                application=application,
                worker=worker,
                ccus=records[worker.worker_id],
                warnings=warnings[worker.worker_id],
                actor=actor.subject,
                now=now,
                policy=self.policy,
            )
            saved = await self.consents.update(
                consents.consent_id(employer_id, worker.worker_id), change
            )
            assert saved is not None
            filed.append(saved)
        return {
            "consents": [consents.summary(c, today) for c in filed],
            "warnings": [w for ws in warnings.values() for w in ws],
        }

    # --- limits of the CCUS check (core/checks.py) ------------------------------------------

    async def _refuse_if_limited(
        self,
        actor: Principal,
        employer_id: str,
        workers: Sequence[Worker],
        now: datetime,
        endpoint: str,
    ) -> checks.Seen:
        """Refuse the filing before any CCUS check when the employer has checked too many
        rows in this window (429), or a row's 技能者ID is locked for the employer (423) or
        has failed too often for everyone (429); else count the rows. Returns the
        ``ccus_checks`` records read."""
        if self.ccus_checks is None or not workers:
            return checks.Seen()
        limits = self.check_limits
        own = checks.employer_key(employer_id, now, limits)
        worker_keys = [checks.worker_key(w.worker_id, now, limits) for w in workers]
        pair_keys = [checks.pair_key(employer_id, w.worker_id) for w in workers]
        found = checks.Seen(
            await self.ccus_checks.of(checks.EmployerChecks).get(own),
            {
                r.id: r
                for r in await self.ccus_checks.of(checks.WorkerFailures).find(_by_ids(worker_keys))
            },
            {
                r.id: r
                for r in await self.ccus_checks.of(checks.PairFailures).find(_by_ids(pair_keys))
            },
        )
        if checks.employer_over(found.employer, len(workers), limits):
            wait = checks.retry_after([checks.window_left(now, limits.window)])
            await self._log_refused(actor, employer_id, workers, endpoint)
            raise ConsentError(
                "ccus_check_rate_limited",
                f"CCUS登録情報との照合の回数が上限（{_duration_ja(limits.window)}に"
                f"{limits.per_employer}人）に達しました。{checks.minutes_ja(wait)}後に"
                "もう一度申請してください。",
                headers={"Retry-After": str(wait)},
            )
        blocked: list[FieldError] = []
        waits: list[timedelta] = []
        locked = False
        for w in workers:
            remaining = checks.lock_remaining(
                found.pairs.get(checks.pair_key(employer_id, w.worker_id)), now
            )
            if remaining is not None:
                locked = True
                waits.append(remaining)
                blocked.append(
                    _row_error(
                        w,
                        "照合の失敗が続いたため、この技能者IDは一時的に申請できません"
                        f"（{checks.minutes_ja(checks.retry_after([remaining]))}後に"
                        "申請できます）",
                    )
                )
            elif checks.worker_over(
                found.workers.get(checks.worker_key(w.worker_id, now, limits)), limits
            ):
                left = checks.window_left(now, limits.failure_window)
                waits.append(left)
                blocked.append(
                    _row_error(
                        w,
                        "この技能者IDの照合が多数失敗しているため、一時的に申請できません"
                        f"（{checks.minutes_ja(checks.retry_after([left]))}後に申請できます）",
                    )
                )
        if blocked:
            wait = checks.retry_after(waits)
            await self._log_refused(actor, employer_id, workers, endpoint)
            raise ConsentError(
                "ccus_check_locked" if locked else "ccus_check_rate_limited",
                "CCUS登録情報との照合が制限されている技能者が含まれています。"
                "時間をおいてから、もう一度申請してください。",
                sorted(blocked, key=lambda e: _field_order(e.field)),
                headers={"Retry-After": str(wait)},
            )
        await self.ccus_checks.of(checks.EmployerChecks).update(
            own, partial(checks.counted, key=own, amount=len(workers), now=now)
        )
        return found

    async def _record_outcome(
        self,
        actor: Principal,
        employer_id: str,
        matched: Sequence[Worker],
        failed: Sequence[Worker],
        now: datetime,
        found: checks.Seen,
        endpoint: str,
    ) -> None:
        """Count the failures (per 技能者ID, per employer × 技能者ID) and log them; a match
        forgets the employer's earlier failures on that 技能者ID."""
        if failed:
            log.warning("consent.ccus_check_failed", employer_id=employer_id, rows=len(failed))
            await self.log_access(
                actor,
                "ccus_check_failed",
                endpoint,
                [{"worker_id": w.worker_id, "employer_id": employer_id} for w in failed],
            )
        if self.ccus_checks is None:
            return
        limits = self.check_limits
        pairs = self.ccus_checks.of(checks.PairFailures)
        for w in failed:
            key = checks.worker_key(w.worker_id, now, limits)
            await self.ccus_checks.of(checks.WorkerFailures).update(
                key, partial(checks.worker_failed, key=key, now=now)
            )
            key = checks.pair_key(employer_id, w.worker_id)
            pair = await pairs.update(
                key, partial(checks.pair_failed, key=key, now=now, limits=limits)
            )
            if checks.lock_remaining(pair, now) is not None:
                log.warning("consent.ccus_check_locked", employer_id=employer_id)
        for w in matched:
            key = checks.pair_key(employer_id, w.worker_id)
            seen = found.pairs.get(key)
            if seen is not None and seen.failures:
                await pairs.update(key, checks.pair_cleared)

    async def _log_refused(
        self, actor: Principal, employer_id: str, workers: Sequence[Worker], endpoint: str
    ) -> None:
        log.warning("consent.ccus_check_refused", employer_id=employer_id, rows=len(workers))
        await self.log_access(
            actor,
            "ccus_check_refused",
            endpoint,
            [{"worker_id": w.worker_id, "employer_id": employer_id} for w in workers],
        )

    async def _owned(self, actor: Principal, consent_id: str) -> Consent:
        """The consent if the caller may see it: its employer, or an evaluator of one of
        its worker's 分野 (any evaluator without a binding)."""
        if consents.CONSENT_ID.fullmatch(consent_id) is None:
            raise not_found()
        consent = await self.consents.get(consent_id)
        if consent is None:
            raise not_found()
        if actor.role == "evaluator":
            if await self._in_scope(actor, [consent]):
                return consent
            raise not_found()  # a worker of another 分野: as if it did not exist
        if actor.role == "employer" and consent.employer_id == actor.employer_id:
            return consent
        raise not_found()  # another employer's worker: as if it did not exist

    async def upload_signed_form(
        self, actor: Principal, consent_id: str, data: bytes, filename: str | None
    ) -> dict[str, Any]:
        """Attach the signed 個人情報利用同意書: a PDF, JPEG or PNG by content, ≤ the limit,
        parsed and written anew without anything active (core/files.py); only the new
        file is stored."""
        employer_of(actor)
        signed = files.inspect(data, filename, self.max_upload_bytes, self.uploads.max_pixels)
        consent = await self._owned(actor, consent_id)
        consents.attachable(consent, japan_today(self.clock()))
        clean = await self._disarmed(data, signed.kind)
        sha256 = hashlib.sha256(clean).hexdigest()
        now = self.clock()
        file_id = await self.files.put(
            clean,
            filename=signed.filename,
            metadata={
                "consent_id": consent_id,
                "employer_id": consent.employer_id,
                "worker_id": consent.worker_id,
                "content_type": signed.kind.content_type,
                "sha256": sha256,
                "uploaded_sha256": signed.sha256,
                "uploaded_size": signed.size,
                "disarmed": True,
                "uploaded_by": actor.subject,
            },
        )
        form = StoredForm(
            file_id=file_id,
            filename=signed.filename,
            content_type=signed.kind.content_type,
            size=len(clean),
            sha256=sha256,
            uploaded_size=signed.size,
            uploaded_sha256=signed.sha256,
            uploaded_at=now,
            uploaded_by=actor.subject,
        )
        attach = _existing(
            partial(
                consents.attach_form, form=form, actor=actor.subject, now=now, policy=self.policy
            )
        )
        saved = await self.consents.update(consent_id, attach)
        assert saved is not None
        return consents.summary(saved, japan_today(now))

    async def _disarmed(self, data: bytes, kind: files.FileKind) -> bytes:
        """``files.disarm`` in a worker thread, at most ``uploads.concurrency`` at a time,
        within ``uploads.timeout_seconds`` (its turn included).

        A thread cannot be stopped: one past its time goes on to its end in the background
        (qpdf's decoders are bounded: adapters/outbound/disarm.py) and keeps its turn until
        then, so hostile files cannot pile up threads; the request is answered at once."""
        limits = self.uploads
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limits.timeout_seconds
        try:
            await asyncio.wait_for(self._disarm_slots.acquire(), limits.timeout_seconds)
        except TimeoutError:
            raise ConsentError(
                "file_check_busy",
                "ただいま添付ファイルの確認が混み合っています。"
                "しばらく時間をおいてから、もう一度添付してください。",
                headers={"Retry-After": "30"},
            ) from None
        work = asyncio.ensure_future(
            asyncio.to_thread(
                files.disarm,
                data,
                kind,
                disarmer=self.disarmer,
                max_pixels=limits.max_pixels,
                max_pages=limits.max_pdf_pages,
            )
        )

        def finished(task: asyncio.Future[bytes]) -> None:
            self._disarm_slots.release()
            if not task.cancelled():
                task.exception()  # a late failure was answered already: not "never retrieved"

        work.add_done_callback(finished)
        try:
            return await asyncio.wait_for(asyncio.shield(work), max(0.0, deadline - loop.time()))
        except TimeoutError:
            log.warning("consent.disarm_timeout", kind=kind.name, size=len(data))
            raise files.processing_timed_out(limits.timeout_seconds) from None

    async def signed_form(self, actor: Principal, consent_id: str, endpoint: str) -> SignedForm:
        consent = await self._owned(actor, consent_id)
        form = consent.signed_form
        if form is None:
            raise ConsentError(
                "signed_form_not_found", "署名済みの同意書はまだ添付されていません。"
            )
        await self.log_access(actor, "download_signed_form", endpoint, [consent.subject()])
        data = await self.files.get(form.file_id)
        if data is None:
            raise ConsentError(
                "signed_form_not_found", "署名済みの同意書のファイルが見つかりません。"
            )
        return SignedForm(data, form.filename, form.content_type)

    # --- reads ----------------------------------------------------------------------------

    async def get(self, actor: Principal, consent_id: str, endpoint: str) -> dict[str, Any]:
        consent = await self._owned(actor, consent_id)
        await self.log_access(actor, "get_consent", endpoint, [consent.subject()])
        return consents.detail(consent, self.today())

    async def list_consents(
        self,
        actor: Principal,
        endpoint: str,
        *,
        status: str | None = None,
        worker_id: str | None = None,
        employer_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """An employer sees its own workers; an evaluator anyone's (filterable)."""
        flt = _asked_for(actor, employer_id, worker_id)
        if status:
            flt["status"] = status
        found = sorted(await self.consents.find(flt), key=lambda c: c.id)
        found = await self._in_scope(actor, found)
        await self.log_access(actor, "list_consents", endpoint, [c.subject() for c in found])
        today = self.today()
        return [consents.summary(c, today) for c in found]

    async def granted(
        self,
        actor: Principal,
        endpoint: str,
        *,
        employer_id: str | None = None,
        worker_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Workers with a valid granted consent: those the employer may apply for."""
        today = self.today()
        flt = {
            **_asked_for(actor, employer_id, worker_id),
            "status": consents.APPROVED,
            "valid_until": {"$gte": today.isoformat()},
        }
        found = [
            c
            for c in sorted(await self.consents.find(flt), key=lambda c: c.id)
            if c.is_valid(today)
        ]
        found = await self._in_scope(actor, found)
        await self.log_access(actor, "list_granted", endpoint, [c.subject() for c in found])
        return [consents.granted(c) for c in found]

    # --- the evaluator's review -----------------------------------------------------------

    async def reviews(
        self, actor: Principal, endpoint: str, *, complete_only: bool
    ) -> list[dict[str, Any]]:
        """申請中 applications, oldest submission first (by default only complete ones)."""
        found = await self.consents.find({"status": consents.PENDING})
        if complete_only:
            found = [c for c in found if c.complete()]
        found.sort(key=lambda c: (c.submitted_at, c.id))
        found = await self._in_scope(actor, found)
        await self.log_access(actor, "list_reviews", endpoint, [c.subject() for c in found])
        today = self.today()
        return [consents.summary(c, today) for c in found]

    async def approve(
        self, actor: Principal, consent_id: str, expected_form_id: str | None
    ) -> dict[str, Any]:
        await self._owned(actor, consent_id)
        now = self.clock()
        change = _existing(
            partial(
                consents.approve,
                actor=actor.subject,
                now=now,
                policy=self.policy,
                expected_form_id=expected_form_id,
            )
        )
        saved = await self.consents.update(consent_id, change)
        assert saved is not None
        return consents.summary(saved, japan_today(now))

    async def return_(
        self, actor: Principal, consent_id: str, reason: str | None
    ) -> dict[str, Any]:
        consents.check_reason(reason)
        await self._owned(actor, consent_id)
        now = self.clock()
        change = _existing(partial(consents.return_, actor=actor.subject, reason=reason, now=now))
        saved = await self.consents.update(consent_id, change)
        assert saved is not None
        return consents.summary(saved, japan_today(now))


def employer_of(actor: Principal) -> str:
    if actor.role != "employer" or not actor.employer_id:
        raise ConsentError("forbidden", "事業者としてログインしてください。")
    return actor.employer_id


def _asked_for(actor: Principal, employer_id: str | None, worker_id: str | None) -> dict[str, Any]:
    """The filter of the consents a list asks for: an employer's own, an evaluator's of any
    employer (``employer_id`` if given); ``worker_id``'s only, if given."""
    flt: dict[str, Any] = {}
    if actor.role == "employer":
        flt["employer_id"] = employer_of(actor)
    elif employer_id:
        flt["employer_id"] = employer_id
    if worker_id:
        flt["worker_id"] = worker_id
    return flt


def _row_error(worker: Worker, message: str) -> FieldError:
    return on_field(f"{worker.field}.worker_id", f"技能者 {worker.index + 1}：{message}")


def _duration_ja(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60}時間"
    return f"{minutes}分"


def _existing(change: Callable[[Consent], Outcome]) -> Callable[[Consent | None], Outcome]:
    """A change of an existing consent (an absent one is not found)."""

    def apply(consent: Consent | None) -> Outcome:
        if consent is None:
            raise not_found()
        return change(consent)

    return apply


def _by_ids(ids: Sequence[str]) -> dict[str, Any]:
    """A filter on ``_id`` (an equality for one: FerretDB serves it from the index)."""
    unique = sorted(set(ids))
    return {"_id": unique[0]} if len(unique) == 1 else {"_id": {"$in": unique}}


def _field_order(field: str) -> tuple[int, int, str]:
    """Errors in the order of the form: employer, workers (by row), consent items."""
    parts = field.split(".")
    if parts[0] == "employer":
        return (0, 0, field)
    if parts[0] == "workers":
        row = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        order = ["worker_id", "name", "name_kana", "birth_date"]
        column = order.index(parts[2]) if len(parts) > 2 and parts[2] in order else 0
        return (1, row * 10 + column, field)
    return (2, 0, field)
