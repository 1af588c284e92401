"""Time as the scheme counts it: dates are Japan's (JST, UTC+9, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def japan_today(now: datetime) -> date:
    """The calendar day in Japan at ``now``; a naive ``now`` (as the database gives it back)
    is UTC, never the machine's zone."""
    return (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(JST).date()


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC: a naive one (as the database gives it back) is taken as UTC, an
    aware one is converted (the same instant, so comparisons and differences are unchanged)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
