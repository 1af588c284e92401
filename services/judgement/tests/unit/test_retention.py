"""Which stored snapshot versions the retention sweep deletes (``judgement.core.retention``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from judgement.core import retention
from judgement.core.retention import Decision, Superseded

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
GRACE = timedelta(days=7)


def record(days_ago: float, snapshot_id: str = "W1@2026-11-01") -> Superseded:
    return Superseded(snapshot_id, "W1", NOW - timedelta(days=days_ago))


def test_what_a_stored_snapshot_supersedes() -> None:
    # the first snapshot of a worker supersedes nothing
    assert retention.superseded_by(None, "W1@b", replaces=True) is None
    # a newer one supersedes the held one
    assert retention.superseded_by("W1@a", "W1@b", replaces=True) == "W1@a"
    # one that arrives late (older than the held one) is superseded on arrival
    assert retention.superseded_by("W1@b", "W1@a", replaces=False) == "W1@a"
    # the same snapshot again (redelivered) supersedes nothing
    assert retention.superseded_by("W1@a", "W1@a", replaces=False) is None


def test_the_cutoff_is_the_grace_period_or_the_start_of_a_running_preview() -> None:
    assert retention.cutoff(NOW, GRACE) == NOW - GRACE
    started = NOW - timedelta(days=10)
    assert retention.cutoff(NOW, GRACE, running_since=started) == started
    assert retention.cutoff(NOW, GRACE, running_since=NOW - timedelta(hours=1)) == NOW - GRACE


@pytest.mark.parametrize(
    ("days_ago", "latest", "cited", "expected"),
    [
        (30, set(), False, Decision.DELETE),  # superseded long ago, not cited: goes
        (1, set(), False, Decision.WAIT),  # within the grace period: a judgement may cite it
        (7, set(), False, Decision.WAIT),  # exactly at the cutoff: still waits
        (30, set(), True, Decision.CITED),  # a judgement cites it: kept for good
        (1, set(), True, Decision.CITED),
        (30, {"W1@2026-11-01"}, False, Decision.LATEST),  # the pointer names it again
        (30, {"W1@2026-11-01"}, True, Decision.LATEST),
    ],
)
def test_decide(days_ago: float, latest: set[str], cited: bool, expected: Decision) -> None:
    before = retention.cutoff(NOW, GRACE)
    assert retention.decide(record(days_ago), latest=latest, cited=cited, before=before) == expected


def test_a_running_preview_holds_back_what_was_superseded_after_it_started() -> None:
    before = retention.cutoff(NOW, GRACE, running_since=NOW - timedelta(days=20))
    assert retention.decide(record(10), latest=(), cited=False, before=before) == Decision.WAIT
    assert retention.decide(record(21), latest=(), cited=False, before=before) == Decision.DELETE


def test_only_a_superseded_uncited_snapshot_past_the_cutoff_is_ever_deleted() -> None:
    before = retention.cutoff(NOW, GRACE)
    for days in (0, 3, 6.99, 7, 7.01, 100):
        for latest in (set(), {"W1@2026-11-01"}):
            for cited in (False, True):
                decision = retention.decide(record(days), latest=latest, cited=cited, before=before)
                deletes = decision is Decision.DELETE
                assert deletes == (not latest and not cited and days > 7), (days, latest, cited)
