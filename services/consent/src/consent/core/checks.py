"""Limits on the CCUS check of a 個人情報利用申請 (issue 22, finding 5): pure functions.

Filing answers whether a 技能者ID with a kana and a birth date matches CCUS; without
limits that answer is an oracle (which IDs exist, a worker's birth date one guess after
another). The answer is uniform (``validation.ccus_mismatch``) and the checks are counted
in the consent database, collection ``ccus_checks`` (shared by every replica; every write
addresses one document by ``_id``, through ``Documents.update``):

* ``employer|<事業者ID>|<window start>`` — worker rows checked by the employer in a fixed
  window (``count``): at most ``per_employer`` per ``window``, then 429;
* ``worker|<技能者ID>|<window start>`` — failed checks of that 技能者ID, by every employer
  together, in a fixed ``failure_window`` (``failures``): at most ``failures_per_worker``,
  then that ID is refused (429) to everyone until the window ends;
* ``pair|<事業者ID>|<技能者ID>`` — the employer's recent failures on that 技能者ID
  (``failures``, times within ``failure_window``): ``lock_after`` of them lock the ID for
  that employer for ``lock_for`` (423), right details or not; a match forgets them.

Every document has ``at`` (its last change), which the retention sweep goes by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Doc = dict[str, Any]
Outcome = tuple[Doc, list[Any]]
COLLECTION = "ccus_checks"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CheckLimits:
    per_employer: int = 300
    window: timedelta = timedelta(hours=1)
    failures_per_worker: int = 20
    failure_window: timedelta = timedelta(hours=24)
    lock_after: int = 5
    lock_for: timedelta = timedelta(hours=24)

    @property
    def keep(self) -> timedelta:
        """How long a document is needed after its last change (then swept)."""
        return max(self.window, self.failure_window, self.lock_for) + timedelta(hours=1)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window ``now`` falls in (windows counted from 2000-01-01 UTC)."""
    return EPOCH + window * ((now - EPOCH) // window)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def employer_key(employer_id: str, now: datetime, limits: CheckLimits) -> str:
    return f"employer|{employer_id}|{_stamp(window_start(now, limits.window))}"


def worker_key(worker_id: str, now: datetime, limits: CheckLimits) -> str:
    return f"worker|{worker_id}|{_stamp(window_start(now, limits.failure_window))}"


def pair_key(employer_id: str, worker_id: str) -> str:
    return f"pair|{employer_id}|{worker_id}"


def window_left(now: datetime, window: timedelta) -> timedelta:
    return window_start(now, window) + window - now


# --- the changes (Documents.update) -------------------------------------------------------


def counted(doc: Doc | None, *, amount: int, now: datetime) -> Outcome:
    """``amount`` more worker rows checked in the employer's window."""
    return {"count": int((doc or {}).get("count", 0)) + amount, "at": now}, []


def worker_failed(doc: Doc | None, *, now: datetime) -> Outcome:
    """One more failed check of the 技能者ID in its window (any employer)."""
    return {"failures": int((doc or {}).get("failures", 0)) + 1, "at": now}, []


def pair_failed(doc: Doc | None, *, now: datetime, limits: CheckLimits) -> Outcome:
    """One more failure of the employer on the 技能者ID; the ``lock_after``-th locks it."""
    recent = [t for t in (doc or {}).get("failures", []) if now - t < limits.failure_window]
    recent.append(now)
    if len(recent) >= limits.lock_after:
        return {"failures": [], "locked_until": now + limits.lock_for, "at": now}, []
    return {"failures": recent, "locked_until": None, "at": now}, []


def pair_cleared(doc: Doc | None) -> Outcome | None:
    """A match forgets the employer's earlier failures on the 技能者ID (not a lock)."""
    if doc is None or not doc.get("failures") or doc.get("locked_until") is not None:
        return None
    return {"failures": [], "locked_until": None, "at": doc.get("at")}, []


# --- reading them ---------------------------------------------------------------------------


def lock_remaining(doc: Doc | None, now: datetime) -> timedelta | None:
    """How long the 技能者ID stays locked for the employer, or ``None``."""
    until = (doc or {}).get("locked_until")
    if until is None or now >= until:
        return None
    remaining: timedelta = until - now
    return remaining


def employer_over(doc: Doc | None, rows: int, limits: CheckLimits) -> bool:
    """Whether checking ``rows`` more worker rows would pass the employer's limit."""
    return int((doc or {}).get("count", 0)) + rows > limits.per_employer


def worker_over(doc: Doc | None, limits: CheckLimits) -> bool:
    """Whether the 技能者ID has had its share of failed checks in this window."""
    return int((doc or {}).get("failures", 0)) >= limits.failures_per_worker


def retry_after(remaining: Sequence[timedelta]) -> int:
    """``Retry-After`` in whole seconds (at least 1) for the longest of ``remaining``."""
    longest = max(remaining, default=timedelta(seconds=1))
    return max(1, int(-(-longest.total_seconds() // 1)))


def minutes_ja(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    if minutes >= 120:
        return f"約{-(-minutes // 60)}時間"
    return f"約{minutes}分"
