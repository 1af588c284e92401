"""Criteria administration on MongoDB / FerretDB (the ``CriteriaStore`` port).

Collections (docs/criteria-admin.md "Storage"): ``criteria_versions`` (immutable: only ever
inserted, with its CriteriaPublished event in the outbox), ``criteria_drafts`` (one
aggregate per draft, version-checked), ``criteria_audit`` (inserts only) and
``criteria_state`` (``current``: the publication generation and the publication lease).

A table is stored as JSON text (``table_json``): it is only ever read whole, its pool names
are user-given keys (a key with ``.`` or ``$`` is not a valid document key) and FerretDB
reads one string far faster than a deeply nested document.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from judgement.core.criteria_admin import (
    AuditEntry,
    CriteriaDraft,
    CriteriaVersion,
    QualificationDraft,
    TableDraft,
    qualification_document,
    table_document,
)
from judgement.core.errors import Refused
from judgement.core.master import QualificationSpec, TableSpec
from judgement.ports.criteria import VersionExists
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import Document, DocumentStore
from shared_kernel.time import as_utc

STATE_ID = "current"
BOOKKEEPING = {"_outbox": 0, "_applied": 0, "_outbox_pending": 0, "_outbox_due": 0}


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def version_doc(version: CriteriaVersion) -> Document:
    return {
        "_id": version.id,
        "trade": version.trade,
        "effective_from": version.effective_from.isoformat(),
        "revision": version.revision,
        "table_json": _text(table_document(version.table)),
        "qualifications": [qualification_document(q) for q in version.qualifications],
        "published_by": version.published_by,
        "published_at": version.published_at,
        "approved_by": version.approved_by,
        "drafted_by": version.drafted_by,
        "draft_id": version.draft_id,
        "reason": version.reason,
    }


def version_of(doc: Document) -> CriteriaVersion:
    return CriteriaVersion(
        id=doc["_id"],
        trade=doc["trade"],
        effective_from=doc["effective_from"],
        revision=doc["revision"],
        table=TableSpec.model_validate_json(doc["table_json"]),
        qualifications=[QualificationSpec.model_validate(q) for q in doc.get("qualifications", [])],
        published_by=doc["published_by"],
        published_at=as_utc(doc["published_at"]),
        approved_by=doc.get("approved_by"),
        drafted_by=doc.get("drafted_by"),
        draft_id=doc.get("draft_id"),
        reason=doc.get("reason"),
    )


DRAFT_TIMES = ("created_at", "updated_at", "submitted_at", "decided_at")


def draft_doc(draft: CriteriaDraft) -> Document:
    return {
        "_id": draft.id,
        "trade": draft.trade,
        "effective_from": draft.effective_from.isoformat(),
        "corrects": draft.corrects,
        "table_json": draft.table.model_dump_json(exclude_none=True),
        "new_qualifications": [
            q.model_dump(mode="json", exclude_none=True) for q in draft.new_qualifications
        ],
        "status": draft.status,
        "author": draft.author,
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
        "submitted_at": draft.submitted_at,
        "decided_at": draft.decided_at,
        "decided_by": draft.decided_by,
        "return_reason": draft.return_reason,
        "published_version": draft.published_version,
        "rejudge_run_id": draft.rejudge_run_id,
    }


def draft_of(doc: Document) -> CriteriaDraft:
    times = {k: as_utc(doc[k]) if doc.get(k) is not None else None for k in DRAFT_TIMES}
    return CriteriaDraft(
        id=doc["_id"],
        trade=doc["trade"],
        effective_from=doc["effective_from"],
        corrects=doc.get("corrects"),
        table=TableDraft.model_validate_json(doc["table_json"]),
        new_qualifications=[
            QualificationDraft.model_validate(q) for q in doc.get("new_qualifications", [])
        ],
        status=doc["status"],
        author=doc["author"],
        version=int(doc.get("version", 0)),
        decided_by=doc.get("decided_by"),
        return_reason=doc.get("return_reason"),
        published_version=doc.get("published_version"),
        rejudge_run_id=doc.get("rejudge_run_id"),
        **times,
    )


class MongoCriteriaStore:
    def __init__(
        self,
        versions: DocumentStore,
        drafts: DocumentStore,
        audit: DocumentStore,
        state: DocumentStore,
        *,
        lease: timedelta = timedelta(seconds=120),
        wait_seconds: float = 20.0,
    ) -> None:
        self.versions_store = versions
        self.drafts_store = drafts
        self.audit_store = audit
        self.state = state
        self.lease = lease
        self.wait_seconds = wait_seconds

    # versions ------------------------------------------------------------------------
    async def versions(self, trade: str | None = None) -> list[CriteriaVersion]:
        docs = await self.versions_store.find(
            {"trade": trade} if trade is not None else {}, projection=BOOKKEEPING
        )
        return sorted((version_of(d) for d in docs), key=lambda v: (v.key, v.revision))

    async def version(self, version_id: str) -> CriteriaVersion | None:
        doc = await self.versions_store.get(version_id)
        return None if doc is None else version_of(doc)

    async def version_of_draft(self, draft_id: str) -> CriteriaVersion | None:
        docs = await self.versions_store.find({"draft_id": draft_id}, projection=BOOKKEEPING)
        return version_of(docs[0]) if docs else None

    async def insert_version(
        self, version: CriteriaVersion, events: Sequence[Envelope] = ()
    ) -> None:
        try:
            await self.versions_store.insert(version_doc(version), events)
        except AlreadyExists:
            raise VersionExists(version.id) from None

    # drafts --------------------------------------------------------------------------
    async def draft(self, draft_id: str) -> CriteriaDraft | None:
        doc = await self.drafts_store.get(draft_id)
        return None if doc is None else draft_of(doc)

    async def drafts(
        self, trade: str | None = None, status: str | None = None
    ) -> list[CriteriaDraft]:
        flt: dict[str, Any] = {}
        if trade is not None:
            flt["trade"] = trade
        if status is not None:
            flt["status"] = status
        docs = await self.drafts_store.find(flt, projection=BOOKKEEPING)
        return sorted((draft_of(d) for d in docs), key=lambda d: (d.created_at, d.id))

    async def insert_draft(self, draft: CriteriaDraft) -> CriteriaDraft:
        stored = await self.drafts_store.insert(draft_doc(draft))
        return draft_of(stored)

    async def update_draft(
        self, draft_id: str, change: Callable[[CriteriaDraft], CriteriaDraft]
    ) -> CriteriaDraft:
        def apply(doc: Document | None) -> tuple[Document, list[Envelope]]:
            if doc is None:
                raise Refused("not_found", "draft_not_found", "該当する下書きがありません")
            return draft_doc(change(draft_of(doc))), []

        saved = await self.drafts_store.update(draft_id, apply)
        assert saved is not None
        return draft_of(saved)

    # audit ---------------------------------------------------------------------------
    async def record(self, entry: AuditEntry) -> None:
        doc = entry.model_dump(mode="python", exclude={"id"})
        await self.audit_store.insert({"_id": entry.id, **doc})

    async def audit_trail(self, trade: str | None = None) -> list[AuditEntry]:
        docs = await self.audit_store.find(
            {"trade": trade} if trade is not None else {}, projection=BOOKKEEPING
        )
        entries = [
            AuditEntry.model_validate(
                {
                    **{k: v for k, v in d.items() if k in AuditEntry.model_fields},
                    "id": d["_id"],
                    "at": as_utc(d["at"]),
                }
            )
            for d in docs
        ]
        return sorted(entries, key=lambda e: (e.at, e.id))

    # state ---------------------------------------------------------------------------
    async def generation(self) -> int:
        doc = await self.state.get(STATE_ID)
        return int(doc.get("generation", 0)) if doc is not None else 0

    async def bump_generation(self, version_id: str | None) -> int:
        now = datetime.now(UTC)

        def bump(doc: Document | None) -> tuple[Document, list[Envelope]]:
            current = dict(doc or {})
            current["generation"] = int(current.get("generation", 0)) + 1
            current["last_version"] = version_id
            current["changed_at"] = now
            return current, []

        saved = await self.state.update(STATE_ID, bump)
        assert saved is not None
        return int(saved["generation"])

    @asynccontextmanager
    async def publishing(self, holder: str) -> AsyncIterator[None]:
        """A lease on ``criteria_state.current`` (version-checked writes): one publication at
        a time in every process; a holder that died is superseded after ``lease``."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            now = datetime.now(UTC)

            def take(doc: Document | None, now: datetime = now) -> tuple[Document, list[Envelope]]:
                current = dict(doc or {"generation": 0})
                held, since = current.get("holder"), current.get("holder_since")
                if held and held != holder and since and now - as_utc(since) < self.lease:
                    raise _Held(str(held))
                return {**current, "holder": holder, "holder_since": now}, []

            try:
                await self.state.update(STATE_ID, take)
                break
            except _Held:
                if time.monotonic() > deadline:
                    raise Refused(
                        "busy",
                        "publication_busy",
                        "ほかの判定基準の公開処理中です。しばらくしてから、もう一度承認してください",
                    ) from None
                await asyncio.sleep(0.2)
        try:
            yield
        finally:

            def release(doc: Document | None) -> tuple[Document, list[Envelope]] | None:
                if doc is None or doc.get("holder") != holder:
                    return None
                return {**doc, "holder": None, "holder_since": None}, []

            await self.state.update(STATE_ID, release)


class _Held(Exception):
    """The publication lease is held by another publication."""
