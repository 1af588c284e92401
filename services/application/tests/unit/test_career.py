"""就業期間 (経歴証明) and 職長・班長: the prefill, the date rules and their boundaries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from application.core import career
from application.core.career import Period, YearsMonths

from .conftest import RULES

START_REASON = "起算点はCCUSに登録された最も古い資格の取得日です"
END_REASON = "終着点はCCUS技能者登録日です"


def summary(oldest: str | None = "2010-05-10", registered: str = "2019-06-03") -> dict[str, Any]:
    return {
        "worker_id": "99000000000003",
        "registration_type": "detailed",
        "registered_on": registered,
        "oldest_qualification_on": oldest,
    }


# --- prefill ---------------------------------------------------------------------------------


def test_prefill_takes_oldest_qualification_and_registration_date_with_reasons() -> None:
    got = career.prefill(summary(), date(2026, 11, 28), RULES)
    assert (got.start, got.end) == (date(2010, 5, 10), date(2019, 6, 3))
    assert got.as_dict()["notes"] == [
        {"field": "start", "reason_ja": START_REASON},
        {"field": "end", "reason_ja": END_REASON},
    ]


@pytest.mark.parametrize(
    ("application_date", "end"),
    [
        (date(2024, 3, 31), date(2024, 6, 1)),  # before the cap: the registration date
        (date(2024, 4, 1), date(2024, 3, 31)),  # from the cap: capped at 2024-03-31
        (date(2029, 3, 31), date(2024, 3, 31)),  # last day with 経歴証明
    ],
)
def test_prefill_end_is_capped_for_applications_from_2024_04_01(
    application_date: date, end: date
) -> None:
    got = career.prefill(summary(registered="2024-06-01"), application_date, RULES)
    assert got.end == end
    capped = [n.reason_ja for n in got.notes if "までです" in n.reason_ja]
    assert bool(capped) == (end == date(2024, 3, 31))
    if capped:
        assert capped[0].startswith("2024年4月1日以降の申請のため、終着点は2024年3月31日までです")


def test_prefill_offers_nothing_from_2029_04_01() -> None:
    got = career.prefill(summary(), date(2029, 4, 1), RULES)
    assert got.period is None
    assert got.notes[0].reason_ja.startswith("2029年4月1日以降の申請では経歴証明は使用できません")


def test_prefill_without_ccus_data_or_dated_qualification() -> None:
    assert career.prefill(None, date(2026, 11, 28), RULES).period is None
    assert (
        "CCUSデータがまだ届いていない"
        in career.prefill(None, date(2026, 11, 28), RULES).notes[0].reason_ja
    )
    none = career.prefill(summary(oldest=None), date(2026, 11, 28), RULES)
    assert none.period is None and "起算点がありません" in none.notes[0].reason_ja


def test_prefill_without_a_pre_ccus_period() -> None:
    """The first qualification came after the (capped) end: no period to certify."""
    got = career.prefill(
        summary(oldest="2024-05-01", registered="2024-09-01"), date(2026, 11, 28), RULES
    )
    assert got.period is None
    assert "経歴証明の期間はありません" in got.notes[-1].reason_ja


# --- validation ----------------------------------------------------------------------------


def period(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def test_no_period_is_a_valid_answer() -> None:
    assert career.validate_period(None, date(2026, 11, 28), RULES) == (None, [])
    assert career.validate_period({"start": "", "end": None}, date(2029, 4, 1), RULES) == (None, [])


def test_a_valid_period() -> None:
    got, errors = career.validate_period(
        period("2010-05-10", "2019-06-03"), date(2026, 11, 28), RULES
    )
    assert errors == [] and got == Period(date(2010, 5, 10), date(2019, 6, 3))


def test_start_equal_to_end_is_accepted_and_start_after_end_refused() -> None:
    assert (
        career.validate_period(period("2015-01-01", "2015-01-01"), date(2026, 1, 1), RULES)[1] == []
    )
    _, errors = career.validate_period(period("2015-01-02", "2015-01-01"), date(2026, 1, 1), RULES)
    assert [(e.field, e.code) for e in errors] == [("career_period.end", "end_before_start")]
    assert errors[0].message == (
        "終着点（就業終了日）は起算点（就業開始日）と同じ日かそれより後の日付を入力してください"
    )


@pytest.mark.parametrize(
    ("start", "end", "fields"),
    [
        ("2023-11-29", "2023-11-30", ["career_period.start", "career_period.end"]),
        ("2020-01-01", "2023-11-29", ["career_period.end"]),
    ],
)
def test_future_dates_are_refused(start: str, end: str, fields: list[str]) -> None:
    # dated before the 2024-04-01 cap, so that only the future rule applies
    _, errors = career.validate_period(period(start, end), date(2023, 11, 28), RULES)
    assert [e.field for e in errors] == fields
    assert {e.code for e in errors} == {"future_date"}
    assert "未来の日付は入力できません（申請日：2023年11月28日）" in errors[0].message


def test_the_application_date_itself_is_not_the_future() -> None:
    assert (
        career.validate_period(period("2020-01-01", "2023-11-28"), date(2023, 11, 28), RULES)[1]
        == []
    )


def test_end_2024_03_31_is_fine_on_2024_03_31() -> None:
    got, errors = career.validate_period(
        period("2010-04-01", "2024-03-31"), date(2024, 3, 31), RULES
    )
    assert errors == [] and got is not None and got.end == date(2024, 3, 31)


def test_end_2024_03_31_is_fine_on_2024_04_01() -> None:
    assert (
        career.validate_period(period("2010-04-01", "2024-03-31"), date(2024, 4, 1), RULES)[1] == []
    )


def test_end_after_2024_03_31_is_refused_from_2024_04_01_with_the_cap_offered() -> None:
    _, errors = career.validate_period(period("2010-04-01", "2024-04-01"), date(2024, 4, 1), RULES)
    assert [(e.field, e.code, e.suggested) for e in errors] == [
        ("career_period.end", "career_end_after_cutoff", "2024-03-31")
    ]
    assert errors[0].message == (
        "2024年4月1日以降の申請では、経歴証明で証明できるのは2024年3月31日までの経験です"
        "（2024年4月1日以降の経験はCCUSの就業履歴で数えられます）。終着点を2024-03-31にしてください"
    )


def test_a_period_wholly_after_the_cap_is_refused_without_a_suggestion() -> None:
    _, errors = career.validate_period(
        period("2024-04-01", "2024-08-01"), date(2026, 11, 28), RULES
    )
    assert [(e.field, e.code, e.suggested) for e in errors] == [
        ("career_period", "career_after_cutoff", None)
    ]


def test_2029_03_31_still_allows_a_period() -> None:
    assert (
        career.validate_period(period("2010-04-01", "2024-03-31"), date(2029, 3, 31), RULES)[1]
        == []
    )


def test_2029_04_01_allows_no_period_at_all() -> None:
    _, errors = career.validate_period(period("2010-04-01", "2024-03-31"), date(2029, 4, 1), RULES)
    assert [(e.field, e.code) for e in errors] == [("career_period", "career_not_allowed")]
    assert errors[0].message.startswith(
        "2029年4月1日以降の申請では経歴証明（CCUS登録前の就業期間）は使用できません"
    )


def test_the_cut_offs_are_data() -> None:
    rules = career.CareerRules(
        cap_from=date(2030, 1, 1),
        cap_end=date(2029, 12, 31),
        none_from=date(2035, 1, 1),
        management_levels=(3, 4),
    )
    assert (
        career.validate_period(period("2010-01-01", "2029-04-02"), date(2029, 5, 1), rules)[1] == []
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-04-01", date(2020, 4, 1)),
        ("2020/4/1", date(2020, 4, 1)),
        ("２０２０－０４－０１", date(2020, 4, 1)),
        ("2020年4月1日", date(2020, 4, 1)),
        ("2020-02-30", None),
        ("20200401", None),
        ("令和2年4月1日", None),
        (20200401, None),
    ],
)
def test_date_formats(raw: object, expected: date | None) -> None:
    assert career.parse_date(raw) == expected


def test_missing_and_malformed_dates() -> None:
    _, errors = career.validate_period({"start": "2020-02-30"}, date(2026, 1, 1), RULES)
    assert [(e.field, e.code) for e in errors] == [
        ("career_period.start", "invalid_date"),
        ("career_period.end", "required"),
    ]


def test_months_are_counted_inclusively() -> None:
    assert Period(date(2008, 4, 10), date(2018, 5, 25)).months() == 122


# --- warnings (what the judgement will move) ----------------------------------------------


def test_start_before_the_oldest_qualification_month_is_warned_not_refused() -> None:
    same_month = Period(date(2010, 5, 1), date(2019, 6, 3))
    assert career.period_warnings(same_month, summary()) == []
    earlier = Period(date(2010, 4, 30), date(2019, 6, 3))
    warnings = career.period_warnings(earlier, summary())
    assert [w.code for w in warnings] == ["start_before_oldest_qualification"]
    assert warnings[0].message.endswith("判定では2010年5月から数えられます")


def test_end_after_the_registration_month_is_warned() -> None:
    later = Period(date(2010, 5, 10), date(2019, 7, 1))
    warnings = career.period_warnings(later, summary())
    assert [w.code for w in warnings] == ["end_after_registration"]
    assert career.period_warnings(later, None) == []


# --- level, 職長・班長 ----------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "expected"), [(2, 2), (3, 3), (4, 4), ("3", 3), ("４", 4)])
def test_levels_2_to_4(level: object, expected: int) -> None:
    assert career.validate_level(level) == (expected, [])


@pytest.mark.parametrize("level", [1, 5, 0, None, True, "level3", 3.0, "-3"])
def test_other_levels_refused(level: object) -> None:
    got, errors = career.validate_level(level)
    assert got is None and errors[0].field == "requested_level"
    assert errors[0].message == "申請するレベルを2・3・4の中から選択してください"


ZERO = {"years": 0, "months": 0}


@pytest.mark.parametrize("level", [3, 4])
def test_levels_3_and_4_require_foreman_and_leader(level: int) -> None:
    _, _, errors = career.validate_management(level, None, None, RULES)
    assert [(e.field, e.code) for e in errors] == [("foreman", "required"), ("leader", "required")]
    assert errors[0].message == (
        f"レベル{level}の申請では職長としての就業年数（年・月）の入力が必要です"
        "（該当がない場合は0年0ヶ月と入力してください）"
    )
    _, _, errors = career.validate_management(level, ZERO, None, RULES)
    assert [e.field for e in errors] == ["leader"]


@pytest.mark.parametrize("level", [3, 4])
def test_zero_given_explicitly_is_an_answer(level: int) -> None:
    foreman, leader, errors = career.validate_management(level, ZERO, ZERO, RULES)
    assert errors == [] and foreman == YearsMonths(0, 0) and leader == YearsMonths(0, 0)


def test_years_and_months_both_given_and_in_range() -> None:
    _, _, errors = career.validate_management(3, {"years": 2}, {"years": 61, "months": 12}, RULES)
    assert [(e.field, e.code) for e in errors] == [
        ("foreman.months", "required"),
        ("leader.years", "out_of_range"),
        ("leader.months", "out_of_range"),
    ]
    assert errors[0].message == "職長としての就業月数を入力してください（該当がない場合は0）"
    assert errors[2].message == "班長としての就業月数は0〜11の整数で入力してください"


def test_full_width_numbers_are_read() -> None:
    foreman, _, errors = career.validate_management(
        4, {"years": "１０", "months": "0"}, ZERO, RULES
    )
    assert errors == [] and foreman == YearsMonths(10, 0)


def test_booleans_and_negative_numbers_are_refused() -> None:
    _, _, errors = career.validate_management(3, {"years": True, "months": -1}, ZERO, RULES)
    assert [e.code for e in errors] == ["out_of_range", "out_of_range"]


def test_level_2_must_not_carry_foreman_or_leader() -> None:
    assert career.validate_management(2, None, None, RULES) == (None, None, [])
    _, _, errors = career.validate_management(2, ZERO, {"years": 1, "months": 0}, RULES)
    assert [(e.field, e.code) for e in errors] == [
        ("foreman", "not_allowed"),
        ("leader", "not_allowed"),
    ]
    assert (
        errors[0].message
        == "レベル2の申請では職長としての就業年数は入力できません（レベル3・4の申請のみ）"
    )


def test_management_warnings() -> None:
    p = Period(date(2020, 1, 1), date(2020, 12, 31))  # 12 months
    assert career.management_warnings(3, p, YearsMonths(0, 0), YearsMonths(0, 0), RULES) == []
    assert career.management_warnings(3, p, YearsMonths(0, 6), YearsMonths(0, 6), RULES) == []
    over = career.management_warnings(4, p, YearsMonths(1, 0), YearsMonths(0, 1), RULES)
    assert [w.code for w in over] == ["management_exceeds_period"]
    assert "（1年1ヶ月）が経歴証明の期間（1年0ヶ月）を超えています" in over[0].message
    without = career.management_warnings(3, None, YearsMonths(2, 0), YearsMonths(0, 0), RULES)
    assert [w.code for w in without] == ["management_without_period"]
