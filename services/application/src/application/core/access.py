"""The access log (APPI): who read which worker's personal data, when and why.

The same shape as the consent service's (``consent.core.access``): one entry per access
(one request), naming every worker (and his employer) whose personal data — 氏名, 氏名カナ,
生年月日, CCUS data — the answer contained; written before the answer is returned, so a read
that cannot be logged fails. An answer without a worker in it is not logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from application.ports import Documents
from shared_kernel.logging import get_correlation_id

Doc = dict[str, Any]

PURPOSES = {
    "list_workers": "代行申請で選択できる技能者（同意取得済み）の一覧表示",
    "career_prefill": "就業期間の初期表示（CCUS登録情報の参照）",
    "list_applications": "代行申請の一覧表示",
    "get_application": "代行申請の詳細表示",
    "change_application": "代行申請の作成・変更（技能者明細を含む応答）",
    "preview": "判定プレビュー（CCUS登録情報による判定の試算）",
    "submit": "代行申請の申請",
    "withdraw": "代行申請の取下げ",
}


def workers_in(answer: Any) -> Iterator[Doc]:
    """Every object of an answer that names a worker (``worker_id``), at any depth."""
    if isinstance(answer, dict):
        if isinstance(answer.get("worker_id"), str):
            yield answer
        for value in answer.values():
            yield from workers_in(value)
    elif isinstance(answer, list):
        for item in answer:
            yield from workers_in(item)


def entry(
    entry_id: str,
    *,
    action: str,
    endpoint: str,
    actor: str,
    actor_role: str,
    actor_employer_id: str | None,
    answer: Any,
    at: datetime,
    correlation_id: str | None,
) -> Doc | None:
    subjects = list(workers_in(answer))
    if not subjects:
        return None
    employers = {s["employer_id"] for s in subjects if isinstance(s.get("employer_id"), str)}
    if not employers and actor_employer_id:
        employers = {actor_employer_id}  # the application service shows an employer only its own
    applications = {
        s["application_id"] for s in subjects if isinstance(s.get("application_id"), str)
    }
    if isinstance(answer, dict) and isinstance(answer.get("application_id"), str):
        applications.add(answer["application_id"])
    return {
        "_id": entry_id,
        "at": at,
        "actor": actor,
        "actor_role": actor_role,
        "actor_employer_id": actor_employer_id,
        "action": action,
        "purpose": PURPOSES[action],
        "endpoint": endpoint,
        "worker_ids": sorted({s["worker_id"] for s in subjects}),
        "employer_ids": sorted(employers),
        "application_ids": sorted(applications),
        "correlation_id": correlation_id,
    }


def view(doc: Doc) -> Doc:
    return {
        "id": doc["_id"],
        "at": doc["at"].isoformat(),
        "actor": doc["actor"],
        "actor_role": doc["actor_role"],
        "actor_employer_id": doc.get("actor_employer_id"),
        "action": doc["action"],
        "purpose": doc["purpose"],
        "endpoint": doc["endpoint"],
        "worker_ids": doc["worker_ids"],
        "employer_ids": doc["employer_ids"],
        "application_ids": doc.get("application_ids", []),
        "correlation_id": doc.get("correlation_id"),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccessLog:
    """Writes and lists the entries (collection ``access_log``, inserts only)."""

    def __init__(self, documents: Documents, clock: Callable[[], datetime] = utcnow) -> None:
        self.documents = documents
        self.clock = clock

    async def record(
        self,
        *,
        action: str,
        endpoint: str,
        actor: str,
        actor_role: str,
        actor_employer_id: str | None,
        answer: Any,
    ) -> None:
        now = self.clock()
        doc = entry(
            f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}",
            action=action,
            endpoint=endpoint,
            actor=actor,
            actor_role=actor_role,
            actor_employer_id=actor_employer_id,
            answer=answer,
            at=now,
            correlation_id=get_correlation_id(),
        )
        if doc is not None:
            await self.documents.insert(doc)

    async def entries(
        self,
        *,
        worker_id: str | None = None,
        employer_id: str | None = None,
        actor: str | None = None,
        limit: int = 200,
    ) -> list[Doc]:
        flt: dict[str, Any] = {}
        if worker_id:
            flt["worker_ids"] = worker_id
        if employer_id:
            flt["employer_ids"] = employer_id
        if actor:
            flt["actor"] = actor
        docs = await self.documents.find(flt, sort=[("at", -1), ("_id", -1)], limit=limit)
        return [view(d) for d in docs]
