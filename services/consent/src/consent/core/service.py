"""The consent service's use cases, over its ports (documents, files).

Every change goes through ``Documents.update`` (read, change, write by ``_id`` + version,
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
from consent.core.ccus import keep_newest
from consent.core.checks import CheckLimits
from consent.core.consents import Doc, Outcome, Policy
from consent.core.errors import ConsentError, invalid, not_found, on_field
from consent.core.validation import ApplicationInput, Worker
from consent.ports import AccessRecorder, Disarmer, Documents, FileStore
from shared_kernel.context import get_logger
from shared_kernel.errors import FieldError
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    CcusWorkerSnapshot,
    JudgementCompletedV2,
)
from shared_kernel.infra.mongo import Change
from shared_kernel.principal import Principal

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
        consents: Documents,
        workers: Documents,
        access_log: AccessRecorder,
        files: FileStore,
        *,
        disarmer: Disarmer,
        policy: Policy,
        max_upload_bytes: int,
        max_workers: int = 100,
        clock: Callable[[], datetime] = utcnow,
        worker_trades: Documents | None = None,
        ccus_checks: Documents | None = None,
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
        return consents.japan_today(self.clock())

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
                worker_id, partial(access.trades_added, trades), applied_event_id=envelope.id
            )

    # --- 分野 scoping of evaluators --------------------------------------------------------

    async def _trades_of(self, worker_ids: Sequence[str]) -> dict[str, list[str]]:
        if self.worker_trades is None or not worker_ids:
            return {}
        ids = sorted(set(worker_ids))
        flt: dict[str, Any] = {"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}
        found = await self.worker_trades.find(flt, projection={"trades": 1})
        return {d["_id"]: list(d.get("trades", [])) for d in found}

    async def _in_scope(self, actor: Principal, docs: list[Doc]) -> list[Doc]:
        """The consents ``actor`` may see of ``docs`` (an employer's are his own already)."""
        if not access.scoped(actor):
            return docs
        trades = await self._trades_of([d["worker_id"] for d in docs])
        return [d for d in docs if access.sees_worker(actor, trades.get(d["worker_id"], []))]

    # --- access log -----------------------------------------------------------------------

    async def log_access(
        self, actor: Principal, action: str, endpoint: str, subjects: Sequence[Doc]
    ) -> None:
        """``subjects``: the consent documents (or CCUS records) whose data was read."""
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
        today = consents.japan_today(now)
        application, errors = validation.check_application(
            body, today, max_workers=self.max_workers
        )
        found = await self._refuse_if_limited(
            actor, employer_id, application.workers, now, endpoint
        )
        records: dict[str, Doc] = {}
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
                errors.append({"field": f"{worker.field}.worker_id", "message": refusal})
        await self.log_access(
            actor,
            "ccus_check",
            endpoint,
            [{"worker_id": w, "employer_id": employer_id} for w in sorted(records)],
        )
        await self._record_outcome(actor, employer_id, matched, failed, now, found, endpoint)
        if errors:
            raise invalid(sorted(errors, key=lambda e: _field_order(e["field"])))
        filed: list[Doc] = []
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
            "consents": [consents.summary(d, today) for d in filed],
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
    ) -> dict[str, Doc]:
        """Refuse the filing before any CCUS check when the employer has checked too many
        rows in this window (429), or a row's 技能者ID is locked for the employer (423) or
        has failed too often for everyone (429); else count the rows. Returns the
        ``ccus_checks`` documents read (by ``_id``)."""
        if self.ccus_checks is None or not workers:
            return {}
        limits = self.check_limits
        own = checks.employer_key(employer_id, now, limits)
        keys = [own]
        for w in workers:
            keys += [checks.worker_key(w.worker_id, now, limits)]
            keys += [checks.pair_key(employer_id, w.worker_id)]
        found = {d["_id"]: d for d in await self.ccus_checks.find({"_id": {"$in": keys}})}
        if checks.employer_over(found.get(own), len(workers), limits):
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
                found.get(checks.pair_key(employer_id, w.worker_id)), now
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
            elif checks.worker_over(found.get(checks.worker_key(w.worker_id, now, limits)), limits):
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
        await self.ccus_checks.update(own, partial(checks.counted, amount=len(workers), now=now))
        return found

    async def _record_outcome(
        self,
        actor: Principal,
        employer_id: str,
        matched: Sequence[Worker],
        failed: Sequence[Worker],
        now: datetime,
        found: dict[str, Doc],
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
        for w in failed:
            await self.ccus_checks.update(
                checks.worker_key(w.worker_id, now, limits), partial(checks.worker_failed, now=now)
            )
            pair = await self.ccus_checks.update(
                checks.pair_key(employer_id, w.worker_id),
                partial(checks.pair_failed, now=now, limits=limits),
            )
            if checks.lock_remaining(pair, now) is not None:
                log.warning("consent.ccus_check_locked", employer_id=employer_id)
        for w in matched:
            key = checks.pair_key(employer_id, w.worker_id)
            if (found.get(key) or {}).get("failures"):
                await self.ccus_checks.update(key, checks.pair_cleared)

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

    async def _owned(self, actor: Principal, consent_id: str) -> Doc:
        """The consent if the caller may see it: its employer, or an evaluator of one of
        its worker's 分野 (any evaluator without a binding)."""
        if consents.CONSENT_ID.fullmatch(consent_id) is None:
            raise not_found()
        doc = await self.consents.get(consent_id)
        if doc is None:
            raise not_found()
        if actor.role == "evaluator":
            if await self._in_scope(actor, [doc]):
                return doc
            raise not_found()  # a worker of another 分野: as if it did not exist
        if actor.role == "employer" and doc["employer_id"] == actor.employer_id:
            return doc
        raise not_found()  # another employer's worker: as if it did not exist

    async def upload_signed_form(
        self, actor: Principal, consent_id: str, data: bytes, filename: str | None
    ) -> Doc:
        """Attach the signed 個人情報利用同意書: a PDF, JPEG or PNG by content, ≤ the limit,
        parsed and written anew without anything active (core/files.py); only the new
        file is stored."""
        employer_of(actor)
        signed = files.inspect(data, filename, self.max_upload_bytes, self.uploads.max_pixels)
        doc = await self._owned(actor, consent_id)
        consents.attachable(doc, consents.japan_today(self.clock()))
        clean = await self._disarmed(data, signed.kind)
        sha256 = hashlib.sha256(clean).hexdigest()
        now = self.clock()
        file_id = await self.files.put(
            clean,
            filename=signed.filename,
            metadata={
                "consent_id": consent_id,
                "employer_id": doc["employer_id"],
                "worker_id": doc["worker_id"],
                "content_type": signed.kind.content_type,
                "sha256": sha256,
                "uploaded_sha256": signed.sha256,
                "uploaded_size": signed.size,
                "disarmed": True,
                "uploaded_by": actor.subject,
            },
        )
        form = {
            "file_id": file_id,
            "filename": signed.filename,
            "content_type": signed.kind.content_type,
            "size": len(clean),
            "sha256": sha256,
            "uploaded_size": signed.size,
            "uploaded_sha256": signed.sha256,
            "uploaded_at": now,
            "uploaded_by": actor.subject,
        }
        attach = _existing(
            partial(
                consents.attach_form, form=form, actor=actor.subject, now=now, policy=self.policy
            )
        )
        saved = await self.consents.update(consent_id, attach)
        assert saved is not None
        return consents.summary(saved, consents.japan_today(now))

    async def _disarmed(self, data: bytes, kind: files.FileKind) -> bytes:
        """``files.disarm`` in a worker thread, at most ``uploads.concurrency`` at a time,
        within ``uploads.timeout_seconds`` (its turn included).

        A thread cannot be stopped: one past its time goes on to its end in the background
        (qpdf's decoders are bounded, core/files.py) and keeps its turn until then, so
        hostile files cannot pile up threads; the request is answered at once."""
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
        doc = await self._owned(actor, consent_id)
        form = doc.get("signed_form")
        if not form:
            raise ConsentError(
                "signed_form_not_found", "署名済みの同意書はまだ添付されていません。"
            )
        await self.log_access(actor, "download_signed_form", endpoint, [doc])
        data = await self.files.get(form["file_id"])
        if data is None:
            raise ConsentError(
                "signed_form_not_found", "署名済みの同意書のファイルが見つかりません。"
            )
        return SignedForm(data, form["filename"], form["content_type"])

    # --- reads ----------------------------------------------------------------------------

    async def get(self, actor: Principal, consent_id: str, endpoint: str) -> Doc:
        doc = await self._owned(actor, consent_id)
        await self.log_access(actor, "get_consent", endpoint, [doc])
        return consents.detail(doc, self.today())

    async def list_consents(
        self,
        actor: Principal,
        endpoint: str,
        *,
        status: str | None = None,
        worker_id: str | None = None,
        employer_id: str | None = None,
    ) -> list[Doc]:
        """An employer sees its own workers; an evaluator anyone's (filterable)."""
        flt: dict[str, Any] = {}
        if actor.role == "employer":
            flt["employer_id"] = employer_of(actor)
        elif employer_id:
            flt["employer_id"] = employer_id
        if status:
            flt["status"] = status
        if worker_id:
            flt["worker_id"] = worker_id
        docs = sorted(await self.consents.find(flt), key=lambda d: d["_id"])
        docs = await self._in_scope(actor, docs)
        await self.log_access(actor, "list_consents", endpoint, docs)
        today = self.today()
        return [consents.summary(d, today) for d in docs]

    async def granted(
        self,
        actor: Principal,
        endpoint: str,
        *,
        employer_id: str | None = None,
        worker_id: str | None = None,
    ) -> list[Doc]:
        """Workers with a valid granted consent: those the employer may apply for."""
        today = self.today()
        flt: dict[str, Any] = {
            "status": consents.APPROVED,
            "valid_until": {"$gte": today.isoformat()},
        }
        if actor.role == "employer":
            flt["employer_id"] = employer_of(actor)
        elif employer_id:
            flt["employer_id"] = employer_id
        if worker_id:
            flt["worker_id"] = worker_id
        docs = [
            d
            for d in sorted(await self.consents.find(flt), key=lambda d: d["_id"])
            if consents.is_valid(d, today)
        ]
        docs = await self._in_scope(actor, docs)
        await self.log_access(actor, "list_granted", endpoint, docs)
        return [consents.granted(d) for d in docs]

    # --- the evaluator's review -----------------------------------------------------------

    async def reviews(self, actor: Principal, endpoint: str, *, complete_only: bool) -> list[Doc]:
        """申請中 applications, oldest submission first (by default only complete ones)."""
        docs = await self.consents.find({"status": consents.PENDING})
        if complete_only:
            docs = [d for d in docs if consents.complete(d)]
        docs.sort(key=lambda d: (d.get("submitted_at") or d["updated_at"], d["_id"]))
        docs = await self._in_scope(actor, docs)
        await self.log_access(actor, "list_reviews", endpoint, docs)
        today = self.today()
        return [consents.summary(d, today) for d in docs]

    async def approve(self, actor: Principal, consent_id: str, expected_form_id: str | None) -> Doc:
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
        return consents.summary(saved, consents.japan_today(now))

    async def return_(self, actor: Principal, consent_id: str, reason: str | None) -> Doc:
        consents.check_reason(reason)
        await self._owned(actor, consent_id)
        now = self.clock()
        change = _existing(partial(consents.return_, actor=actor.subject, reason=reason, now=now))
        saved = await self.consents.update(consent_id, change)
        assert saved is not None
        return consents.summary(saved, consents.japan_today(now))


def employer_of(actor: Principal) -> str:
    if actor.role != "employer" or not actor.employer_id:
        raise ConsentError("forbidden", "事業者としてログインしてください。")
    return actor.employer_id


def _row_error(worker: Worker, message: str) -> FieldError:
    return on_field(f"{worker.field}.worker_id", f"技能者 {worker.index + 1}：{message}")


def _duration_ja(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60}時間"
    return f"{minutes}分"


def _existing(change: Callable[[Doc], Outcome]) -> Change:
    """A change of an existing consent (an absent one is not found)."""

    def apply(doc: Doc | None) -> Outcome:
        if doc is None:
            raise not_found()
        return change(doc)

    return apply


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
