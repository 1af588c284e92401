"""The fee schedule is data: 4,000 yen a line, 0 yen from 2025-08-01 to 2026-03-31."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from application import data
from application.core.fees import parse_schedule

SCHEDULE = data.fee_schedule()


@pytest.mark.parametrize(
    ("on", "fee"),
    [
        (date(2024, 4, 1), 4000),
        (date(2025, 7, 31), 4000),  # the day before the support period
        (date(2025, 8, 1), 0),  # its first day
        (date(2025, 12, 15), 0),
        (date(2026, 3, 31), 0),  # its last day
        (date(2026, 4, 1), 4000),  # the day after
        (date(2026, 11, 28), 4000),
    ],
)
def test_fee_per_line_by_application_date(on: date, fee: int) -> None:
    assert SCHEDULE.fee_per_line(on) == fee


def test_the_rule_names_its_period() -> None:
    rule = SCHEDULE.rule_on(date(2025, 8, 1))
    assert rule.as_dict()["from"] == "2025-08-01" and rule.as_dict()["to"] == "2026-03-31"
    assert "FCIP" in rule.label_ja
    assert SCHEDULE.rule_on(date(2026, 4, 1)).as_dict()["from"] is None


def test_packaged_file_cites_research_4_6() -> None:
    raw = json.loads(
        resources.files("application").joinpath("data/fee_schedule.json").read_text("utf-8")
    )
    assert all("§4.6" in s for s in raw["default"]["sources"])
    assert all("§4.6" in s for p in raw["periods"] for s in p["sources"])


def test_a_schedule_file_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = tmp_path / "fees.json"
    path.write_text(
        json.dumps(
            {
                "default": {"fee_yen": 4500, "label_ja": "非会員"},
                "periods": [
                    {"from": "2027-01-01", "to": "2027-01-31", "fee_yen": 1000, "label_ja": "特例"}
                ],
            }
        ),
        encoding="utf-8",
    )
    schedule = data.fee_schedule(str(path))
    assert schedule.fee_per_line(date(2026, 12, 31)) == 4500
    assert schedule.fee_per_line(date(2027, 1, 31)) == 1000


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        (
            [
                {"from": "2025-01-01", "to": "2025-06-30", "fee_yen": 0, "label_ja": "a"},
                {"from": "2025-06-30", "to": "2025-12-31", "fee_yen": 0, "label_ja": "b"},
            ],
            "overlap",
        ),
        (
            [{"from": "2025-02-01", "to": "2025-01-01", "fee_yen": 0, "label_ja": "a"}],
            "ends before",
        ),
        (
            [{"from": "2025-01-01", "to": "2025-01-31", "fee_yen": -1, "label_ja": "a"}],
            "non-negative",
        ),
    ],
)
def test_bad_schedules_are_refused(periods: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_schedule({"default": {"fee_yen": 4000, "label_ja": "x"}, "periods": periods})
