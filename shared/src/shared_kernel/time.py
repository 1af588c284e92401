"""Time as the scheme counts it: dates are Japan's (JST, UTC+9, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def japan_today(now: datetime) -> date:
    """The calendar day in Japan at ``now``; a naive ``now`` (as the database gives it back)
    is UTC, never the machine's zone."""
    return (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(JST).date()
