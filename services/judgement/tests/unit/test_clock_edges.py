"""The guideline's cut-off dates on the day before, of and after (judgement-rules.md §2.2).

* from 2024-04-01 the 経歴証明 end is capped at 2024-03 (the month of 2024-03-31);
* from 2029-04-01 the 経歴証明 is ignored.

``application_date`` is a business date in Asia/Tokyo: the application service sets it
(see services/application/tests/unit/test_clock_edges.py for midnight JST).
"""

from __future__ import annotations

from typing import Any

import pytest

from judgement.core.engine import evaluate
from judgement.core.models import EvaluationRequest, EvaluationResult
from judgement.criteria import default_master

MASTER = default_master()
MONTH_DAYS = 215 / 12


def judge(application_date: str, registered_on: str, end: str) -> EvaluationResult:
    body: dict[str, Any] = {
        "trade": "鉄筋",
        "requested_level": 2,
        "application_date": application_date,
        "ccus": {
            "worker_id": "12345678901234",
            "registration_type": "詳細型",
            "registered_on": registered_on,
            "qualifications": [
                {"code": "40040", "name": "玉掛け技能講習", "acquired_on": "2014-04-01"}
            ],
            "work_history": [],
        },
        "career_certification": {"start": "2014-04-01", "end": end},
    }
    return evaluate(EvaluationRequest.model_validate(body), MASTER)


def entries(result: EvaluationResult) -> dict[str, Any]:
    return {e.field: e.adopted for e in result.reconciliation}


def months_days(months: int) -> int:
    return int(months * 215 // 12)


@pytest.mark.parametrize(
    ("application_date", "capped"),
    [("2024-03-31", False), ("2024-04-01", True), ("2024-04-02", True)],
)
def test_the_2024_cap_starts_on_2024_04_01(application_date: str, capped: bool) -> None:
    # registered on the application date, certifying up to that day
    result = judge(application_date, application_date, application_date)
    # 2014-04 … 2024-03 = 120 months; … 2024-04 = 121 months
    if capped:
        assert entries(result) == {"career_certification.end": "2024-03-31"}
        assert result.days.pre_ccus == months_days(120)
    else:
        assert entries(result) == {}
        assert result.days.pre_ccus == months_days(120)


def test_the_cap_cuts_a_month_only_from_2024_04_01() -> None:
    # the same certification (end in April 2024, registration later) on both sides of the cut
    before = judge("2024-03-31", "2024-05-01", "2024-04-30")
    on = judge("2024-04-01", "2024-05-01", "2024-04-30")
    assert before.days.pre_ccus == months_days(121)
    assert on.days.pre_ccus == months_days(120)
    assert "career_certification.end" not in entries(before)
    assert entries(on)["career_certification.end"] == "2024-03-31"


@pytest.mark.parametrize(
    ("application_date", "ignored"),
    [("2029-03-31", False), ("2029-04-01", True), ("2029-04-02", True)],
)
def test_the_certification_is_ignored_from_2029_04_01(application_date: str, ignored: bool) -> None:
    result = judge(application_date, "2020-06-01", "2020-05-31")
    if ignored:
        assert result.days.pre_ccus == 0
        assert "career_certification" in entries(result)
        reasons = [e.reason_ja for e in result.reconciliation]
        assert any("2029年4月1日以降" in r for r in reasons)
    else:
        assert result.days.pre_ccus == months_days(74)  # 2014-04 … 2020-05
        assert "career_certification" not in entries(result)
