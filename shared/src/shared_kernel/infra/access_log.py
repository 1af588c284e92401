"""The access log (APPI): who read which worker's personal data, when and why.

One entry per access (one request), naming every worker (and his employer) whose personal
data — 氏名, 氏名カナ, 生年月日, CCUS data, judgements, notices — the answer contained; written
before the answer is returned, so a read that cannot be logged fails. An answer without a
worker in it is not logged. Each service keeps its own log (collection ``access_log``,
inserts only) with its own purposes (``action`` → purpose in Japanese), and answers
``GET /access-log`` for evaluators and operators.

An entry names the actor's 能力評価実施団体 (``actor_body``, the token's ``body`` claim) when
the actor is bound to one. An evaluator bound to a body reads only the entries of his own
body's accesses; an unbound evaluator and the operators read every entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request

from shared_kernel.context import get_correlation_id
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

Doc = dict[str, Any]
COLLECTION = "access_log"
INDEXED = ("worker_ids", "employer_ids", "actor", "actor_body")  # what GET /access-log filters on
T = TypeVar("T")


class Entries(Protocol):
    async def insert(self, doc: Doc) -> Doc: ...

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        projection: Mapping[str, Any] | None = None,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
    ) -> list[Doc]: ...


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
    purpose: str,
    endpoint: str,
    actor: str,
    actor_role: str,
    actor_employer_id: str | None,
    answer: Any,
    linked: Sequence[str],
    at: datetime,
    correlation_id: str | None,
    actor_body: str | None = None,
) -> Doc | None:
    """The entry for one answer, or ``None`` when it names no worker.

    ``linked``: other ids to record from the workers' objects (``application_id`` →
    ``application_ids``, …), also from the answer itself when it is one object.
    """
    subjects = list(workers_in(answer))
    if not subjects:
        return None
    employers = {s["employer_id"] for s in subjects if isinstance(s.get("employer_id"), str)}
    if not employers and actor_employer_id:
        employers = {actor_employer_id}  # an employer is only ever shown his own workers
    doc: Doc = {
        "_id": entry_id,
        "at": at,
        "actor": actor,
        "actor_role": actor_role,
        "actor_employer_id": actor_employer_id,
        "actor_body": actor_body,
        "action": action,
        "purpose": purpose,
        "endpoint": endpoint,
        "worker_ids": sorted({s["worker_id"] for s in subjects}),
        "employer_ids": sorted(employers),
        "correlation_id": correlation_id,
    }
    for name in linked:
        ids = {s[name] for s in subjects if isinstance(s.get(name), str)}
        if isinstance(answer, dict) and isinstance(answer.get(name), str):
            ids.add(answer[name])
        doc[f"{name}s"] = sorted(ids)
    return doc


def view(doc: Doc, linked: Sequence[str] = ()) -> Doc:
    shown = {
        "id": doc["_id"],
        "at": doc["at"].isoformat(),
        "actor": doc["actor"],
        "actor_role": doc["actor_role"],
        "actor_employer_id": doc.get("actor_employer_id"),
        "actor_body": doc.get("actor_body"),
        "action": doc["action"],
        "purpose": doc["purpose"],
        "endpoint": doc["endpoint"],
        "worker_ids": doc["worker_ids"],
        "employer_ids": doc["employer_ids"],
    }
    for name in linked:
        shown[f"{name}s"] = doc.get(f"{name}s", [])
    shown["correlation_id"] = doc.get("correlation_id")
    return shown


async def logged(
    log: AccessLog, principal: Principal | None, request: Request, action: str, answer: T
) -> T:
    """Record the personal data an HTTP answer shows, then return the answer.

    ``principal`` is ``None`` for a public endpoint (logged as ``anonymous``)."""
    route = request.scope.get("route")
    await log.record(
        action=action,
        endpoint=f"{request.method} {getattr(route, 'path', request.url.path)}",
        actor=principal.subject if principal else "anonymous",
        actor_role=principal.role if principal else "anonymous",
        actor_employer_id=principal.employer_id if principal else None,
        actor_body=principal.body if principal else None,
        answer=answer,
    )
    return answer


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccessLog:
    """Writes and lists one service's entries."""

    def __init__(
        self,
        documents: Entries,
        purposes: Mapping[str, str],
        *,
        linked: Sequence[str] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.documents = documents
        self.purposes = purposes
        self.linked = tuple(linked)
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
        actor_body: str | None = None,
    ) -> None:
        now = self.clock()
        doc = entry(
            f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}",
            action=action,
            purpose=self.purposes[action],
            endpoint=endpoint,
            actor=actor,
            actor_role=actor_role,
            actor_employer_id=actor_employer_id,
            answer=answer,
            linked=self.linked,
            at=now,
            correlation_id=get_correlation_id(),
            actor_body=actor_body,
        )
        if doc is not None:
            await self.documents.insert(doc)

    async def entries(
        self,
        *,
        worker_id: str | None = None,
        employer_id: str | None = None,
        actor: str | None = None,
        actor_body: str | None = None,
        limit: int = 200,
    ) -> list[Doc]:
        flt: dict[str, Any] = {}
        if worker_id:
            flt["worker_ids"] = worker_id
        if employer_id:
            flt["employer_ids"] = employer_id
        if actor:
            flt["actor"] = actor
        if actor_body:
            flt["actor_body"] = actor_body
        docs = await self.documents.find(flt, sort=[("at", -1), ("_id", -1)], limit=limit)
        return [view(d, self.linked) for d in docs]


router = APIRouter()
"""``GET /access-log``: a service includes it with its own routers; its container holds
the service's :class:`AccessLog` as ``access_log``."""


def readable_by(principal: Principal) -> str | None:
    """The body whose entries ``principal`` may read, or ``None`` for every entry.

    An evaluator bound to a 能力評価実施団体 reads the accesses of his own body only (the
    log names workers and employers of every 分野); unbound evaluators and operators read
    everything."""
    if principal.role == "evaluator" and principal.body:
        return principal.body
    return None


def _log_of(request: Request) -> AccessLog:
    log: AccessLog = request.app.state.container.access_log
    return log


@router.get("/access-log", summary="個人情報の閲覧記録（審査員・運用者）")
async def access_log_entries(
    log: Annotated[AccessLog, Depends(_log_of)],
    principal: Annotated[Principal, Depends(require("evaluator", "operator"))],
    worker_id: str | None = None,
    employer_id: str | None = None,
    actor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await log.entries(
        worker_id=worker_id,
        employer_id=employer_id,
        actor=actor,
        actor_body=readable_by(principal),
        limit=limit,
    )
