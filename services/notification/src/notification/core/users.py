"""The recipients' read model: employer users and their addresses (from identity events).

One document per login id. A user becomes ``active`` with UserActivated; mails about an
employer's business go to the addresses of its active users. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    UserActivated,
    UserProvisionallyRegisteredV2,
)

UserStatus = Literal["provisional", "active"]
PROVISIONAL: UserStatus = "provisional"
ACTIVE: UserStatus = "active"
Outcome = tuple["User", list[Envelope]]


class User(Aggregate):
    """One employer user (``_id``: the login id)."""

    login_id: str
    email: str
    employer_id: str
    employer_name: str
    status: UserStatus
    registered_at: datetime | None = None
    activated_at: datetime | None = None
    updated_at: datetime | None = None


def provisionally_registered(
    event: UserProvisionallyRegisteredV2,
    now: datetime,
    user: User | None,
) -> Outcome | None:
    """仮申請 (again): remembered, but an active user is not demoted by a stray event."""
    if user is not None and user.status == ACTIVE:
        return None
    return _known(event, user, PROVISIONAL, registered_at=now), []


def activated(event: UserActivated, now: datetime, user: User | None) -> Outcome:
    registered_at = user.registered_at if user else None
    known = _known(event, user, ACTIVE, registered_at=registered_at, updated_at=now)
    return known.model_copy(update={"activated_at": event.activated_at}), []


def _known(
    event: UserProvisionallyRegisteredV2 | UserActivated,
    user: User | None,
    status: UserStatus,
    **times: datetime | None,
) -> User:
    """The user as the event tells it (at the stored version)."""
    return User(
        id=event.login_id,
        version=user.version if user else 0,
        login_id=event.login_id,
        email=event.email,
        employer_id=event.employer_id,
        employer_name=event.employer_name,
        status=status,
        **times,
    )


def addresses(users: Iterable[User]) -> list[str]:
    """The distinct addresses of active users, in a stable order."""
    return sorted({u.email for u in users if u.status == ACTIVE and u.email})
