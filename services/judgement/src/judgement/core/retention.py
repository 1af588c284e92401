"""Which stored CCUS snapshot versions may go (pure; issue 23 "snapshot retention").

A snapshot version (``ccus_snapshots``, ~64 KiB each) is kept while it is

* the worker's **latest** (the pointer in ``ccus_workers`` or the compact mirror
  ``ccus_compact`` names it), or
* **cited**: a judgement or a re-judgement names it as its ``snapshot_id`` (a judgement
  must stay reproducible; judgements are never deleted, so a cited snapshot is kept for
  good), or
* superseded less than the **grace period** ago, or after the start of an impact preview
  that is still running: a judgement being written now may have read it as the latest a
  moment before a newer one arrived, and a preview reads what it found when it started.

Every other version is deleted by the retention sweep
(``judgement.adapters.outbound.retention``). The sweep does not scan ``ccus_snapshots``
(≈ 64 KiB per document; FerretDB reads a whole document whatever the projection): when a
snapshot stops being its worker's latest, a small **supersession record** is written
(``ccus_superseded``, ``_id`` = the snapshot's id, :func:`superseded_by`); the sweep reads
those records, decides each with :func:`decide` right after reading the citations and the
pointers by ``_id``, and deletes by ``_id``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Decision(StrEnum):
    WAIT = "wait"
    """Superseded too recently (grace period, or a preview running since before): ask again
    at the next sweep."""
    LATEST = "latest"
    """The worker's latest again (a record written in a race): keep it, drop the record
    (the next supersession writes a new one)."""
    CITED = "cited"
    """A judgement cites it: keep it for good, drop the record."""
    DELETE = "delete"
    """Delete the snapshot, then the record."""


@dataclass(frozen=True)
class Superseded:
    """A supersession record: ``snapshot_id`` stopped being ``worker_id``'s latest at
    ``superseded_at`` (the wall clock of the process that stored the newer one)."""

    snapshot_id: str
    worker_id: str
    superseded_at: datetime


def superseded_by(held: str | None, new: str, *, replaces: bool) -> str | None:
    """The snapshot that stops being the latest when ``new`` is stored while the pointer
    names ``held`` (``replaces``: the pointer moves to ``new``): the held one when it is
    replaced, ``new`` itself when it arrived late (older than the held one), else none."""
    if held is None or held == new:
        return None
    return held if replaces else new


def cutoff(now: datetime, grace: timedelta, running_since: datetime | None = None) -> datetime:
    """Records superseded before this moment may be decided; later ones wait. A running
    impact preview (``running_since``: the earliest start among them) holds back what was
    superseded after it started."""
    moment = now - grace
    return moment if running_since is None else min(moment, running_since)


def decide(
    record: Superseded, *, latest: Collection[str], cited: bool, before: datetime
) -> Decision:
    """What to do with one superseded snapshot: ``latest`` = the snapshot ids the worker's
    pointers name now, ``cited`` = whether any judgement or re-judgement cites it (both
    read right before), ``before`` = :func:`cutoff`."""
    if record.snapshot_id in latest:
        return Decision.LATEST
    if cited:
        return Decision.CITED
    if record.superseded_at >= before:
        return Decision.WAIT
    return Decision.DELETE
