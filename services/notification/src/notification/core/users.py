"""The recipients' read model: employer users and their addresses (from identity events).

One document per login id. A user becomes ``active`` with UserActivated; mails about an
employer's business go to the addresses of its active users. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shared_kernel.events.catalogue import (
    UserActivated,
    UserProvisionallyRegistered,
    UserProvisionallyRegisteredV2,
)

Doc = dict[str, Any]
PROVISIONAL = "provisional"
ACTIVE = "active"


def provisionally_registered(
    event: UserProvisionallyRegistered | UserProvisionallyRegisteredV2,
    now: datetime,
    doc: Doc | None,
) -> tuple[Doc, list[Any]] | None:
    """仮申請 (again): remembered, but an active user is not demoted by a stray event."""
    if doc is not None and doc.get("status") == ACTIVE:
        return None
    return {
        "login_id": event.login_id,
        "email": event.email,
        "employer_id": event.employer_id,
        "employer_name": event.employer_name,
        "status": PROVISIONAL,
        "registered_at": now,
    }, []


def activated(event: UserActivated, now: datetime, doc: Doc | None) -> tuple[Doc, list[Any]]:
    return {
        **(doc or {}),
        "login_id": event.login_id,
        "email": event.email,
        "employer_id": event.employer_id,
        "employer_name": event.employer_name,
        "status": ACTIVE,
        "activated_at": event.activated_at,
        "updated_at": now,
    }, []


def addresses(users: Iterable[Doc]) -> list[str]:
    """The distinct addresses of active users, in a stable order."""
    return sorted({u["email"] for u in users if u.get("status") == ACTIVE and u.get("email")})
