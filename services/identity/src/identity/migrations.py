"""Identity's data migrations (``python -m identity migrate``; recorded, each run once).

Each rewrites the documents stored in an older format into the one the core's models read
(``core/accounts.py``, ``core/throttle.py``), so that the core has one reader per
aggregate. A rewrite returns ``None`` for a document already in the current format: a step
interrupted halfway is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from shared_kernel.infra.mongo import Document, DocumentStore
from shared_kernel.infra.runtime import Runtime

Rewrite = Callable[[Document], Document | None]
BINDING_FIELDS = ("body", "trades", "bound_at")


def with_binding_fields(doc: Document) -> Document | None:
    """``users`` stored before accounts had a binding: unbound (``None``); a stored binding
    is kept."""
    if all(key in doc for key in BINDING_FIELDS):
        return None
    return {**dict.fromkeys(BINDING_FIELDS), **doc}


def with_activation_link(doc: Document) -> Document | None:
    """``users`` stored when 利用者仮申請 mailed a temporary password (``temporary_password``)
    rather than a link (``activation``): the old secret goes; a registration never
    activated keeps its expiry as ``pending_until`` (the retention job deletes it then, and
    applying again replaces it)."""
    if "temporary_password" not in doc:
        return None
    new = {k: v for k, v in doc.items() if k != "temporary_password"}
    expires_at = (doc["temporary_password"] or {}).get("expires_at")
    new.setdefault("activation", None)
    new.setdefault("pending_until", expires_at if doc.get("status") == "provisional" else None)
    return new


def with_throttle_format(doc: Document, now: datetime) -> Document | None:
    """``login_attempts`` stored by the lockout (``failures`` as a list of times,
    ``locked_until``): the login ID's record of the throttle, dated by its last failure (so
    the retention job deletes it in its time)."""
    if "locked_until" not in doc and not isinstance(doc.get("failures"), list):
        return None
    times = [t for t in [*(doc.get("failures") or []), doc.get("locked_at")] if t is not None]
    last = max(times, default=None)
    return {
        "login_id": doc["_id"],
        "known_sources": [],
        "hour": None,
        "hour_failures": 0,
        "last_failure_at": last,
        "last_seen_at": last or now,
    }


async def rewrite_all(runtime: Runtime, collection: str, rewrite: Rewrite) -> None:
    """Rewrite every document of ``collection`` that needs it (by ``_id`` + version)."""
    store = DocumentStore(runtime.db, collection)

    def change(doc: Document | None) -> tuple[Document, list[Any]] | None:
        new = None if doc is None else rewrite(doc)
        return None if new is None else (new, [])

    for doc in await store.find({}, projection={"_id": 1}):
        await store.update(doc["_id"], change)


async def user_binding_fields(runtime: Runtime) -> None:
    await rewrite_all(runtime, "users", with_binding_fields)


async def user_activation_link(runtime: Runtime) -> None:
    await rewrite_all(runtime, "users", with_activation_link)


async def login_attempts_throttle(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    await rewrite_all(runtime, "login_attempts", lambda doc: with_throttle_format(doc, now))


MIGRATIONS: list[tuple[str, Callable[[Runtime], Coroutine[Any, Any, None]]]] = [
    ("0002-user-binding-fields", user_binding_fields),
    ("0003-user-activation-link", user_activation_link),
    ("0004-login-attempts-throttle", login_attempts_throttle),
]
"""In order (``0001`` is the shared outbox flag)."""


def declare(runtime: Runtime) -> None:
    for name, step in MIGRATIONS:
        runtime.migration(name, step)
