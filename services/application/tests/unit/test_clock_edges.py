"""Every date of an application is an Asia/Tokyo business date.

The application date is ``japan_today(clock())``: 2024-03-31T14:59:59Z is still
2024-03-31 in Tokyo (23:59:59 JST), 2024-03-31T15:00:00Z is already 2024-04-01 (00:00:00
JST). The guideline's cut-offs (2024-04-01: 経歴証明 end capped at 2024-03-31; 2029-04-01:
no 経歴証明) therefore switch at midnight JST, whatever the server's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from application.core import career
from application.core.service import ApplicationService
from shared_kernel.time import japan_today

from .conftest import RULES

SUMMARY = {
    "worker_id": "99000000000003",
    "registration_type": "detailed",
    "registered_on": "2024-06-01",
    "oldest_qualification_on": "2010-05-10",
}
PERIOD = {"start": "2010-05-10", "end": "2019-06-03"}


def service_at(now: datetime) -> ApplicationService:
    # only the clock is used by today(); the stores and ports are never touched
    return ApplicationService(None, None, None, None, None, clock=lambda: now)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2024, 3, 31, 14, 59, 59, tzinfo=UTC), date(2024, 3, 31)),  # 23:59:59 JST
        (datetime(2024, 3, 31, 15, 0, 0, tzinfo=UTC), date(2024, 4, 1)),  # 00:00:00 JST
        (datetime(2029, 3, 31, 14, 59, 59, 999999, tzinfo=UTC), date(2029, 3, 31)),
        (datetime(2029, 3, 31, 15, 0, 0, tzinfo=UTC), date(2029, 4, 1)),
        # the same instants written in other zones, and a naive one (taken as UTC)
        (datetime(2024, 4, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=9))), date(2024, 4, 1)),
        (
            datetime(2024, 3, 31, 10, 59, 59, tzinfo=timezone(timedelta(hours=-4))),
            date(2024, 3, 31),
        ),
        (datetime(2024, 3, 31, 15, 0, 0), date(2024, 4, 1)),
        (datetime(2024, 3, 31, 14, 59, 59), date(2024, 3, 31)),
    ],
)
def test_the_application_date_is_the_tokyo_date(now: datetime, today: date) -> None:
    assert japan_today(now) == today
    assert service_at(now).today() == today


@pytest.mark.parametrize(
    ("now", "capped"),
    [
        (datetime(2024, 3, 31, 14, 59, 59, tzinfo=UTC), False),
        (datetime(2024, 3, 31, 15, 0, 0, tzinfo=UTC), True),
        (datetime(2024, 4, 1, 15, 0, 0, tzinfo=UTC), True),  # 2024-04-02 JST
    ],
)
def test_the_2024_cap_switches_at_midnight_tokyo(now: datetime, capped: bool) -> None:
    prefill = career.prefill(SUMMARY, service_at(now).today(), RULES)
    assert prefill.end == (date(2024, 3, 31) if capped else date(2024, 6, 1))


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2029, 3, 30, 15, 0, 0, tzinfo=UTC), True),  # 2029-03-31 00:00 JST
        (datetime(2029, 3, 31, 14, 59, 59, tzinfo=UTC), True),  # 2029-03-31 23:59:59 JST
        (datetime(2029, 3, 31, 15, 0, 0, tzinfo=UTC), False),  # 2029-04-01 00:00:00 JST
        (datetime(2029, 4, 1, 15, 0, 0, tzinfo=UTC), False),  # 2029-04-02 JST
    ],
)
def test_the_2029_end_of_certification_switches_at_midnight_tokyo(
    now: datetime, allowed: bool
) -> None:
    today = service_at(now).today()
    prefill = career.prefill(SUMMARY, today, RULES)
    assert (prefill.period is not None) == allowed
    period, errors = career.validate_period(dict(PERIOD), today, RULES)
    if allowed:
        assert errors == [] and period is not None
    else:
        assert period is None
        assert [e.code for e in errors] == ["career_not_allowed"]


@pytest.mark.parametrize(
    ("application_date", "refused"),
    [(date(2024, 3, 31), False), (date(2024, 4, 1), True), (date(2024, 4, 2), True)],
)
def test_an_end_after_the_cap_is_refused_from_2024_04_01(
    application_date: date, refused: bool
) -> None:
    on_the_cap = {"start": "2010-05-10", "end": "2024-03-31"}
    assert career.validate_period(on_the_cap, application_date, RULES)[1] == []
    after = {"start": "2010-05-10", "end": "2024-03-31" if not refused else "2024-04-01"}
    codes = [e.code for e in career.validate_period(after, application_date, RULES)[1]]
    assert codes == (["career_end_after_cutoff"] if refused else [])
