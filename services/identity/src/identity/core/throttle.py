"""Login throttling by (login ID, source) with growing delays — no lockout of the owner.

Pure functions over two kinds of documents of the ``login_attempts`` collection:

* ``<login ID>|<source>`` — one login ID tried from one source (a client address; for IPv6
  its /64): consecutive ``failures``, ``blocked_until``, and for the audit trail
  ``total_failures``, ``throttled`` (attempts refused while waiting), the first and last
  failure and the last success;
* ``<login ID>`` — the account as a whole: failures per hour from every source
  (``hour``, ``hour_failures``), and the sources it logged in from (``known_sources``).

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
from typing import Any

Doc = dict[str, Any]
KNOWN_SOURCES = 10


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)
    account_failures_per_hour: int = 100


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
    source_doc: Doc | None,
    account_doc: Doc | None,
    source: str,
    now: datetime,
    policy: ThrottlePolicy,
) -> timedelta | None:
    """How long this source must still wait before trying this login ID (``None``: go)."""
    waits = []
    blocked = (source_doc or {}).get("blocked_until")
    if blocked is not None and now < blocked:
        waits.append(blocked - now)
    account = account_doc or {}
    over = account.get("hour") == _hour(now) and int(account.get("hour_failures", 0)) >= (
        policy.account_failures_per_hour
    )
    if over and source not in known_sources(account):
        hour_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        waits.append(hour_end - now)
    return max(waits) if waits else None


def known_sources(account_doc: Doc | None) -> list[str]:
    return [s["source"] for s in (account_doc or {}).get("known_sources", [])]


def source_failed(
    doc: Doc | None, *, login_id: str, source: str, now: datetime, policy: ThrottlePolicy
) -> Doc:
    """A failure from the source: counted, and the wait before its next attempt set."""
    previous = doc or {}
    last = previous.get("last_failure_at")
    recent = last is not None and now - last < policy.forget_after
    failures = (int(previous.get("failures", 0)) if recent else 0) + 1
    delay = delay_after(failures, policy)
    return {
        "login_id": login_id,
        "source": source,
        "failures": failures,
        "blocked_until": now + delay if delay else None,
        "total_failures": int(previous.get("total_failures", 0)) + 1,
        "throttled": int(previous.get("throttled", 0)),
        "first_failure_at": previous.get("first_failure_at") or now,
        "last_failure_at": now,
        "last_success_at": previous.get("last_success_at"),
        "last_seen_at": now,
    }


def source_throttled(doc: Doc | None, *, login_id: str, source: str, now: datetime) -> Doc:
    """An attempt refused while the source waits (kept for the audit trail)."""
    previous = doc or {"login_id": login_id, "source": source, "failures": 0}
    return {**previous, "throttled": int(previous.get("throttled", 0)) + 1, "last_seen_at": now}


def source_succeeded(doc: Doc | None, *, now: datetime) -> Doc | None:
    """A success from the source forgets its failures (the totals stay for the audit)."""
    if doc is None:
        return None
    cleared = {"failures": 0, "blocked_until": None}
    return {**doc, **cleared, "last_success_at": now, "last_seen_at": now}


def account_failed(doc: Doc | None, *, login_id: str, now: datetime) -> Doc:
    previous = doc or {"login_id": login_id, "known_sources": []}
    hour = _hour(now)
    count = int(previous.get("hour_failures", 0)) if previous.get("hour") == hour else 0
    return {
        **previous,
        "hour": hour,
        "hour_failures": count + 1,
        "last_failure_at": now,
        "last_seen_at": now,
    }


def account_succeeded(doc: Doc | None, *, login_id: str, source: str, now: datetime) -> Doc:
    """Remember the source as one the account logs in from (the last ten)."""
    previous = doc or {"login_id": login_id, "known_sources": []}
    others = [s for s in previous.get("known_sources", []) if s.get("source") != source]
    known = [{"source": source, "last_login_at": now}, *others][:KNOWN_SOURCES]
    return {**previous, "known_sources": known, "last_seen_at": now}
