"""Login throttling by (login ID, source) with growing delays — no lockout of the owner.

Pure functions over two aggregates of the ``login_attempts`` collection:

* :class:`SourceAttempts` (``_id`` = ``<login ID>|<source>``) — one login ID tried from one
  source (a client address; for IPv6 its /64): consecutive ``failures``, ``blocked_until``,
  and for the audit trail ``total_failures``, ``throttled`` (attempts refused while
  waiting), the first and last failure and the last success;
* :class:`AccountAttempts` (``_id`` = ``<login ID>``) — the account as a whole: failures
  per hour from every source (``hour``, ``hour_failures``), and the sources it logged in
  from (``known_sources``).

The rules (docs/security.md, OWASP ASVS 4.0.3 V2.2.1, V2.2.2):

* the first ``free_failures`` failures of a source cost nothing; each further one makes the
  source wait ``base_delay × 2^(n−1)`` (capped at ``max_delay``) before its next attempt,
  which is refused unseen (no password is checked) until then — only that source: the
  owner elsewhere is not affected;
* a source's failures are forgotten ``forget_after`` after its last one, and at once by a
  success from it;
* at most ``account_failures_per_hour`` failures of one login ID per hour from every
  source together: past that, until the hour ends, only the sources the account logged in
  from before (its last ten) may try — a spread guess meets a wall, the owner at his usual
  place does not.

Unknown login IDs are counted exactly like existing ones (nobody learns which exist).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared_kernel.aggregate import Aggregate

KNOWN_SOURCES = 10


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)
    account_failures_per_hour: int = 100


class SourceAttempts(Aggregate):
    """One login ID tried from one source."""

    login_id: str
    source: str
    failures: int = 0
    blocked_until: datetime | None = None
    total_failures: int = 0
    throttled: int = 0
    first_failure_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_success_at: datetime | None = None
    last_seen_at: datetime


class KnownSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    last_login_at: datetime


class AccountAttempts(Aggregate):
    """One login ID from every source: failures in the current hour, known sources."""

    login_id: str
    known_sources: list[KnownSource] = Field(default_factory=list)
    hour: str | None = None
    hour_failures: int = 0
    last_failure_at: datetime | None = None
    last_seen_at: datetime


def source_of(address: str | None) -> str:
    """What counts as one source: the IPv4 address, the /64 of an IPv6 address."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def source_key(login_id: str, source: str) -> str:
    return f"{login_id}|{source}"


def delay_after(failures: int, policy: ThrottlePolicy) -> timedelta:
    """How long a source waits after its ``failures``-th consecutive failure."""
    extra = failures - policy.free_failures
    if extra <= 0:
        return timedelta(0)
    delay: timedelta = policy.base_delay * (2 ** min(extra - 1, 30))
    return min(delay, policy.max_delay)


def _hour(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H")


def wait_of(
    tried: SourceAttempts | None,
    account: AccountAttempts | None,
    source: str,
    now: datetime,
    policy: ThrottlePolicy,
) -> timedelta | None:
    """How long this source must still wait before trying this login ID (``None``: go)."""
    waits = []
    blocked = None if tried is None else tried.blocked_until
    if blocked is not None and now < blocked:
        waits.append(blocked - now)
    over = (
        account is not None
        and account.hour == _hour(now)
        and account.hour_failures >= policy.account_failures_per_hour
    )
    if over and source not in known_sources(account):
        hour_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        waits.append(hour_end - now)
    return max(waits) if waits else None


def known_sources(account: AccountAttempts | None) -> list[str]:
    return [] if account is None else [s.source for s in account.known_sources]


def source_failed(
    tried: SourceAttempts | None,
    *,
    login_id: str,
    source: str,
    now: datetime,
    policy: ThrottlePolicy,
) -> SourceAttempts:
    """A failure from the source: counted, and the wait before its next attempt set."""
    previous = tried or SourceAttempts(
        id=source_key(login_id, source), login_id=login_id, source=source, last_seen_at=now
    )
    last = previous.last_failure_at
    recent = last is not None and now - last < policy.forget_after
    failures = (previous.failures if recent else 0) + 1
    delay = delay_after(failures, policy)
    return previous.model_copy(
        update={
            "failures": failures,
            "blocked_until": now + delay if delay else None,
            "total_failures": previous.total_failures + 1,
            "first_failure_at": previous.first_failure_at or now,
            "last_failure_at": now,
            "last_seen_at": now,
        }
    )


def source_throttled(
    tried: SourceAttempts | None, *, login_id: str, source: str, now: datetime
) -> SourceAttempts:
    """An attempt refused while the source waits (kept for the audit trail)."""
    previous = tried or SourceAttempts(
        id=source_key(login_id, source), login_id=login_id, source=source, last_seen_at=now
    )
    return previous.model_copy(update={"throttled": previous.throttled + 1, "last_seen_at": now})


def source_succeeded(tried: SourceAttempts | None, *, now: datetime) -> SourceAttempts | None:
    """A success from the source forgets its failures (the totals stay for the audit)."""
    if tried is None:
        return None
    cleared = {"failures": 0, "blocked_until": None}
    return tried.model_copy(update={**cleared, "last_success_at": now, "last_seen_at": now})


def _account(account: AccountAttempts | None, login_id: str, now: datetime) -> AccountAttempts:
    return account or AccountAttempts(id=login_id, login_id=login_id, last_seen_at=now)


def account_failed(
    account: AccountAttempts | None, *, login_id: str, now: datetime
) -> AccountAttempts:
    previous = _account(account, login_id, now)
    hour = _hour(now)
    count = previous.hour_failures if previous.hour == hour else 0
    return previous.model_copy(
        update={
            "hour": hour,
            "hour_failures": count + 1,
            "last_failure_at": now,
            "last_seen_at": now,
        }
    )


def account_succeeded(
    account: AccountAttempts | None, *, login_id: str, source: str, now: datetime
) -> AccountAttempts:
    """Remember the source as one the account logs in from (the last ten)."""
    previous = _account(account, login_id, now)
    others = [s for s in previous.known_sources if s.source != source]
    known = [KnownSource(source=source, last_login_at=now), *others][:KNOWN_SOURCES]
    return previous.model_copy(update={"known_sources": known, "last_seen_at": now})
