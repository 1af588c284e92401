"""The consent service's use cases, over its ports (documents, files).

Every change goes through ``Documents.update`` (read, change, write by ``_id`` + version,
retried on concurrent writes); events raised by a change are stored with it (outbox) and
published by the relay. Every read of a worker's personal data is logged first
(``access_log``); a read that cannot be logged fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from consent.core import access, consents, files, validation
from consent.core.ccus import keep_newest
from consent.core.consents import Doc, Outcome, Policy
from consent.core.errors import ConsentError, invalid, not_found
from consent.core.validation import ApplicationInput
from consent.ports import Documents, FileStore
from shared_kernel.access_log import AccessLog
from shared_kernel.auth import Principal
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    CcusWorkerSnapshot,
    JudgementCompleted,
    JudgementCompletedV2,
)
from shared_kernel.logging import get_logger
from shared_kernel.mongo import Change

log = get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignedForm:
    data: bytes
    filename: str
    content_type: str


class ConsentService:
    def __init__(
        self,
        consents: Documents,
        workers: Documents,
        access_log: Documents,
        files: FileStore,
        *,
        policy: Policy,
        max_upload_bytes: int,
        max_workers: int = 100,
        clock: Callable[[], datetime] = utcnow,
        worker_trades: Documents | None = None,
    ) -> None:
        self.consents = consents
        self.workers = workers  # read model of CCUS workers (CcusWorkerSnapshot)
        # the 分野 each worker was applied for (ApplicationSubmitted): evaluators' scope
        self.worker_trades = worker_trades
        self.access = AccessLog(
            access_log, access.PURPOSES, linked=access.LINKED, clock=lambda: self.clock()
        )
        self.files = files
        self.policy = policy
        self.max_upload_bytes = max_upload_bytes
        self.max_workers = max_workers
        self.clock = clock

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
        assert isinstance(event, JudgementCompleted | JudgementCompletedV2)
        end = partial(
            consents.end_by_judgement,
            judgement_id=event.judgement_id,
            judged_at=event.judged_at,
            now=self.clock(),
            # v1 had no re-judgements: every v1 event is a line's first judgement
            sequence=event.sequence if isinstance(event, JudgementCompletedV2) else 1,
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
        """個人情報利用申請: every worker checked, then one consent per worker (申請中)."""
        employer_id = employer_of(actor)
        now = self.clock()
        today = consents.japan_today(now)
        application, errors = validation.check_application(
            body, today, max_workers=self.max_workers
        )
        records: dict[str, Doc] = {}
        warnings: dict[str, list[dict[str, str]]] = {}
        for worker in application.workers:
            record = await self.workers.get(worker.worker_id)
            if record is not None:
                records[worker.worker_id] = record
            worker_errors, worker_warnings = validation.check_against_ccus(worker, record)
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
        if errors:
            raise invalid(sorted(errors, key=_field_order))
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
        """Attach the signed 個人情報利用同意書 (PDF, JPEG or PNG by content, ≤ the limit)."""
        employer_of(actor)
        signed = files.inspect(data, filename, self.max_upload_bytes)
        doc = await self._owned(actor, consent_id)
        now = self.clock()
        consents.attachable(doc, consents.japan_today(now))
        file_id = await self.files.put(
            data,
            filename=signed.filename,
            metadata={
                "consent_id": consent_id,
                "employer_id": doc["employer_id"],
                "worker_id": doc["worker_id"],
                "content_type": signed.kind.content_type,
                "sha256": signed.sha256,
                "uploaded_by": actor.subject,
            },
        )
        form = {
            "file_id": file_id,
            "filename": signed.filename,
            "content_type": signed.kind.content_type,
            "size": signed.size,
            "sha256": signed.sha256,
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


def _existing(change: Callable[[Doc], Outcome]) -> Change:
    """A change of an existing consent (an absent one is not found)."""

    def apply(doc: Doc | None) -> Outcome:
        if doc is None:
            raise not_found()
        return change(doc)

    return apply


def _field_order(error: dict[str, str]) -> tuple[int, int, str]:
    """Errors in the order of the form: employer, workers (by row), consent items."""
    field = error["field"]
    parts = field.split(".")
    if parts[0] == "employer":
        return (0, 0, field)
    if parts[0] == "workers":
        row = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        order = ["worker_id", "name", "name_kana", "birth_date"]
        column = order.index(parts[2]) if len(parts) > 2 and parts[2] in order else 0
        return (1, row * 10 + column, field)
    return (2, 0, field)
