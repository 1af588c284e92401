"""Limits on the CCUS check of a 個人情報利用申請 (issue 22, finding 5): pure functions.

Filing answers whether a 技能者ID with a kana and a birth date matches CCUS; without
limits that answer is an oracle (which IDs exist, a worker's birth date one guess after
another). The answer is uniform (``validation.ccus_mismatch``) and the checks are counted
in the consent database, collection ``ccus_checks`` (shared by every replica; every write
addresses one document by ``_id``, through ``Aggregates.update``):

* ``employer|<事業者ID>|<window start>`` — worker rows checked by the employer in a fixed
  window (``count``): at most ``per_employer`` per ``window``, then 429;
* ``worker|<技能者ID>|<window start>`` — failed checks of that 技能者ID, by every employer
  together, in a fixed ``failure_window`` (``failures``): at most ``failures_per_worker``,
  then that ID is refused (429) to everyone until the window ends;
* ``pair|<事業者ID>|<技能者ID>`` — the employer's recent failures on that 技能者ID
  (``failures``, times within ``failure_window``): ``lock_after`` of them lock the ID for
  that employer for ``lock_for`` (423), right details or not; a match forgets them.

Every document has ``at`` (its last change), which the retention sweep goes by. The three
kinds are three models (:class:`EmployerChecks`, :class:`WorkerFailures`,
:class:`PairFailures`) over the one collection, told apart by their key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import Field

from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope

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


# --- the records -----------------------------------------------------------------------------


class EmployerChecks(Aggregate):
    """``employer|…``: worker rows the employer had checked in one window."""

    count: int = 0
    at: datetime


class WorkerFailures(Aggregate):
    """``worker|…``: failed checks of one 技能者ID (any employer) in one failure window."""

    failures: int = 0
    at: datetime


class PairFailures(Aggregate):
    """``pair|…``: the employer's recent failures on one 技能者ID, and its lock."""

    failures: list[datetime] = Field(default_factory=list)
    locked_until: datetime | None = None
    at: datetime


@dataclass(frozen=True)
class Seen:
    """The records a filing read before its checks (by ``_id``)."""

    employer: EmployerChecks | None = None
    workers: dict[str, WorkerFailures] = field(default_factory=dict)
    pairs: dict[str, PairFailures] = field(default_factory=dict)


# --- the changes (Aggregates.update) ------------------------------------------------------


def counted(
    current: EmployerChecks | None, *, key: str, amount: int, now: datetime
) -> tuple[EmployerChecks, list[Envelope]]:
    """``amount`` more worker rows checked in the employer's window."""
    count = (current.count if current else 0) + amount
    return EmployerChecks(id=key, count=count, at=now), []


def worker_failed(
    current: WorkerFailures | None, *, key: str, now: datetime
) -> tuple[WorkerFailures, list[Envelope]]:
    """One more failed check of the 技能者ID in its window (any employer)."""
    failures = (current.failures if current else 0) + 1
    return WorkerFailures(id=key, failures=failures, at=now), []


def pair_failed(
    current: PairFailures | None, *, key: str, now: datetime, limits: CheckLimits
) -> tuple[PairFailures, list[Envelope]]:
    """One more failure of the employer on the 技能者ID; the ``lock_after``-th locks it."""
    earlier = current.failures if current else []
    recent = [t for t in earlier if now - t < limits.failure_window] + [now]
    if len(recent) >= limits.lock_after:
        return PairFailures(id=key, failures=[], locked_until=now + limits.lock_for, at=now), []
    return PairFailures(id=key, failures=recent, locked_until=None, at=now), []


def pair_cleared(current: PairFailures | None) -> tuple[PairFailures, list[Envelope]] | None:
    """A match forgets the employer's earlier failures on the 技能者ID (not a lock)."""
    if current is None or not current.failures or current.locked_until is not None:
        return None
    return current.model_copy(update={"failures": []}), []


# --- reading them ---------------------------------------------------------------------------


def lock_remaining(pair: PairFailures | None, now: datetime) -> timedelta | None:
    """How long the 技能者ID stays locked for the employer, or ``None``."""
    if pair is None or pair.locked_until is None or now >= pair.locked_until:
        return None
    return pair.locked_until - now


def employer_over(checks: EmployerChecks | None, rows: int, limits: CheckLimits) -> bool:
    """Whether checking ``rows`` more worker rows would pass the employer's limit."""
    return (checks.count if checks else 0) + rows > limits.per_employer


def worker_over(failures: WorkerFailures | None, limits: CheckLimits) -> bool:
    """Whether the 技能者ID has had its share of failed checks in this window."""
    return (failures.failures if failures else 0) >= limits.failures_per_worker


def retry_after(remaining: Sequence[timedelta]) -> int:
    """``Retry-After`` in whole seconds (at least 1) for the longest of ``remaining``."""
    longest = max(remaining, default=timedelta(seconds=1))
    return max(1, int(-(-longest.total_seconds() // 1)))


def minutes_ja(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    if minutes >= 120:
        return f"約{-(-minutes // 60)}時間"
    return f"約{minutes}分"
