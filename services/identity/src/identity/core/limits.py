"""Limits of 利用者仮申請 per e-mail address and per client address (pure).

Each 利用者仮申請 mails an activation link, so an anonymous caller could otherwise flood a
victim's mailbox (500 requests → 60 mails in 15 s in the review) or the mail server.
Counted in the ``registration_limits`` collection, one document per key and fixed window
(``_id`` = ``email|<address>|<window start>`` or ``ip|<address>|<window start>``), written
by ``_id`` + version like every write (so every replica shares the count), deleted by the
retention job once its window is over (``window_end``).

The e-mail key is the address lower-cased, without a ``+tag`` in its local part (the same
mailbox under another spelling is the same victim).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared_kernel.aggregate import Aggregate


@dataclass(frozen=True)
class Limit:
    kind: str  # "email" or "ip"
    count: int
    window: timedelta


def email_key(address: str) -> str:
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def limit_id(limit: Limit, key: str, now: datetime) -> str:
    return f"{limit.kind}|{key}|{window_start(now, limit.window).isoformat()}"


class RegistrationCount(Aggregate):
    """The registrations of one key in one window (``registration_limits``)."""

    kind: str
    key: str
    count: int
    window_start: datetime
    window_end: datetime
    last_at: datetime


def counted(
    counter: RegistrationCount | None, *, limit: Limit, key: str, now: datetime
) -> RegistrationCount:
    """One more registration in the window; raises :class:`Exhausted` past the limit."""
    start = window_start(now, limit.window)
    count = 0 if counter is None else counter.count
    if count >= limit.count:
        raise Exhausted(start + limit.window - now)
    return RegistrationCount(
        id=limit_id(limit, key, now),
        kind=limit.kind,
        key=key,
        count=count + 1,
        window_start=start,
        window_end=start + limit.window,
        last_at=now,
    )


class Exhausted(Exception):
    def __init__(self, remaining: timedelta) -> None:
        super().__init__(remaining)
        self.remaining = remaining
