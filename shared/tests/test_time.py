"""The business date is Japan's, whatever the machine's zone and however the moment is given."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared_kernel.time import JST, as_utc, japan_today

pytestmark = pytest.mark.unit


def test_the_day_turns_at_15_00_utc() -> None:
    assert japan_today(datetime(2026, 11, 28, 14, 59, tzinfo=UTC)) == date(2026, 11, 28)
    assert japan_today(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) == date(2026, 11, 29)


def test_a_naive_moment_is_utc_as_the_database_gives_it_back() -> None:
    assert japan_today(datetime(2026, 11, 28, 15, 0)) == date(2026, 11, 29)
    new_york = timezone(timedelta(hours=-5))
    assert japan_today(datetime(2026, 11, 28, 10, 0, tzinfo=new_york)) == date(2026, 11, 29)


def test_as_utc_takes_a_naive_moment_as_utc() -> None:
    moment = as_utc(datetime(2026, 11, 28, 15, 0))
    assert moment == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


def test_as_utc_converts_an_aware_moment_to_the_same_instant_in_utc() -> None:
    tokyo = datetime(2026, 11, 29, 0, 0, tzinfo=JST)
    moment = as_utc(tokyo)
    assert moment == tokyo
    assert moment.utcoffset() == timedelta(0)
    assert moment.isoformat() == "2026-11-28T15:00:00+00:00"
    utc = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert as_utc(utc) == utc and as_utc(utc).tzinfo is UTC
