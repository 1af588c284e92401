"""Time as the scheme counts it: dates are Japan's (JST, UTC+9, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def japan_today(now: datetime) -> date:
    """The calendar day in Japan at ``now`` (an aware datetime)."""
    return now.astimezone(JST).date()


def utc_now() -> datetime:
    return datetime.now(UTC)
