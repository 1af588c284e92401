"""What the 結果通知書 prints: card colour, dates, basis, unmet criteria (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from document.core import notice
from shared_kernel.events.catalogue import JudgedCriterion

from ..conftest import DAYS_SHORT, judged, rejudged


def build(
    approved: bool = True, employer_name: str | None = "株式会社髙﨑建設", **update: Any
) -> dict[str, Any]:
    event = judged(approved=approved).model_copy(update=update)
    return notice.context(
        event,
        number="RN-AP-1-1",
        code="ABCD-EFGH-IJKL-MNOP",
        employer_name=employer_name,
        verify_url="http://127.0.0.1:8006/verify/ABCD-EFGH-IJKL-MNOP",
    )


@pytest.mark.parametrize(
    ("level", "colour"), [(1, "ホワイト"), (2, "ブルー"), (3, "シルバー"), (4, "ゴールド")]
)
def test_card_colour_of_each_level(level: int, colour: str) -> None:
    assert notice.card_colour(level).name_ja == colour


def test_card_colour_of_an_unknown_level_is_an_error() -> None:
    with pytest.raises(KeyError):
        notice.card_colour(5)


@pytest.mark.parametrize(
    ("day", "printed"),
    [
        (date(2026, 11, 22), "令和8年11月22日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1987, 4, 1), "昭和62年4月1日"),
    ],
)
def test_dates_are_printed_in_the_japanese_era(day: date, printed: str) -> None:
    assert notice.wareki(day) == printed


def test_notice_number_is_derived_from_the_line() -> None:
    assert notice.notice_id("AP-2026-000123-1") == "RN-AP-2026-000123-1"


@pytest.mark.parametrize(
    ("sequence", "number"),
    [(1, "RN-AP-9-1"), (2, "RN-AP-9-1-2"), (3, "RN-AP-9-1-3"), (10, "RN-AP-9-1-10")],
)
def test_notice_number_of_each_judgement_of_a_line(sequence: int, number: str) -> None:
    # the first keeps the number notices had before re-judgements existed
    assert notice.notice_id("AP-9-1", sequence) == number


def test_there_is_no_judgement_zero() -> None:
    with pytest.raises(ValueError):
        notice.notice_id("AP-9-1", 0)


def test_previous_notice_is_the_highest_held_below() -> None:
    held = [("RN-AP-9-1", 1), ("RN-AP-9-1-2", 2)]
    assert notice.previous_notice_id("AP-9-1", 1, held) is None
    assert notice.previous_notice_id("AP-9-1", 3, held) == "RN-AP-9-1-2"
    # judgement 2 came late (never held): judgement 3's notice replaces the one in hand
    assert notice.previous_notice_id("AP-9-1", 3, [("RN-AP-9-1", 1)]) == "RN-AP-9-1"
    # nothing held yet (the first judgement's event is late or handled at this moment)
    assert notice.previous_notice_id("AP-9-1", 2) == "RN-AP-9-1"
    assert notice.previous_notice_id("AP-9-1", 4) == "RN-AP-9-1-3"


def test_approved_notice_prints_level_colour_and_basis() -> None:
    ctx = build()
    assert (ctx["decision_ja"], ctx["eligible_level"], ctx["card_colour"]) == (
        "承認",
        3,
        "シルバー",
    )
    assert ctx["card_rgb"] == (0xB8, 0xBC, 0xC2)  # the swatch
    # judged at 2026-11-21 01:00 UTC = 10:00 in Japan
    assert ctx["issued_on"] == "令和8年11月21日"
    assert ctx["judged_on"] == "令和8年11月21日（2026-11-21）"
    assert ctx["application_date"] == "令和8年11月20日"
    assert ctx["days"] == {"pre_ccus": 0, "ccus": 1414, "total": 1414}
    assert ctx["foreman_days"] == {"foreman": 300, "leader": 317, "foreman_or_leader": 617}
    # met qualification criteria up to the requested level, each once (level 4 not asked)
    assert ctx["qualifications"] == ["第一種電気工事士免状取得者（2015-04-01取得）"]
    assert ctx["reconciliation"] == [
        "起算点はCCUSに登録された最も古い資格の取得日です（申告 2010-04-01 → 採用 2015-04-01）"
    ]
    assert ctx["unmet"] == [] and ctx["notes"] == []
    assert ctx["criteria_version"] == "電気工事@2020-02-05"
    assert ctx["employer_name"] == "株式会社髙﨑建設" and ctx["dense"] is False


def test_date_follows_japan_time_not_utc() -> None:
    ctx = build(judged_at=datetime(2026, 11, 21, 16, 0, tzinfo=UTC))  # 2026-11-22 01:00 JST
    assert ctx["issued_on"] == "令和8年11月22日"


def test_rejection_lists_the_unmet_criteria_between_judged_and_requested_level() -> None:
    ctx = build(approved=False)
    assert (ctx["decision_ja"], ctx["eligible_level"], ctx["card_colour"]) == (
        "不承認",
        2,
        "ブルー",
    )
    # level 4's unmet days criterion was not asked for; the message is not repeated in notes
    assert ctx["unmet"] == [
        {"level": 3, "level_ja": "レベル3", "kind": "就業日数", "message": DAYS_SHORT}
    ]
    assert ctx["notes"] == []


def test_unmet_criterion_without_a_message_prints_required_and_actual() -> None:
    criteria = [
        JudgedCriterion(level=3, kind="foreman_or_leader_days", met=False, required=215, actual=12),
        JudgedCriterion(level=3, kind="qualification", met=False, required="1級技能士"),
    ]
    ctx = build(approved=False, criteria=criteria, messages=["評価者の確認が必要です"])
    assert ctx["unmet"] == [
        {
            "level": 3,
            "level_ja": "レベル3",
            "kind": "職長又は班長としての就業日数",
            "message": "必要 215、現在 12",
        },
        {
            "level": 3,
            "level_ja": "レベル3",
            "kind": "保有資格",
            "message": "必要 1級技能士、現在 なし",
        },
    ]
    assert ctx["notes"] == ["評価者の確認が必要です"]
    assert ctx["qualifications"] == []


def test_unknown_employer_falls_back_to_the_employer_id() -> None:
    assert build(employer_name=None)["employer_name"] == "事業者ID 12345678901234"


def test_long_notices_are_set_denser_to_stay_on_one_page() -> None:
    warnings = [f"確認事項{n}" for n in range(9)]
    assert build(warnings=warnings)["dense"] is True


def rejudgement_context(**update: Any) -> dict[str, Any]:
    event = rejudged(approved=True).model_copy(update=update)
    return notice.context(
        event,
        number="RN-AP-1-1-2",
        code="ABCD-EFGH-IJKL-MNOP",
        employer_name="株式会社髙﨑建設",
        verify_url="http://127.0.0.1:8006/verify/ABCD-EFGH-IJKL-MNOP",
        previous_number="RN-AP-1-1",
    )


def test_first_notice_says_nothing_of_a_rejudgement() -> None:
    assert build()["rejudgement"] is None


def test_rejudgement_notice_names_the_notice_it_replaces_and_why() -> None:
    ctx = rejudgement_context()
    assert ctx["rejudgement"] == {
        "previous_number": "RN-AP-1-1",
        "reason": "判定基準の改定（電気工事@2026-12-01）",
        "previous_result": "不承認・レベル2",
    }
    assert (ctx["number"], ctx["eligible_level"], ctx["issued_on"]) == (
        "RN-AP-1-1-2",
        3,
        "令和8年12月1日",
    )


def test_rejudgement_without_reason_or_previous_result() -> None:
    ctx = rejudgement_context(
        rejudgement_reason="  ", previous_decision=None, previous_eligible_level=None
    )
    assert ctx["rejudgement"] == {
        "previous_number": "RN-AP-1-1",
        "reason": None,
        "previous_result": None,
    }


def test_rejudgement_previous_number_defaults_to_the_previous_judgements() -> None:
    event = rejudged(sequence=3)
    ctx = notice.context(
        event, number="RN-AP-1-1-3", code="ABCD-EFGH-IJKL-MNOP", employer_name=None, verify_url=""
    )
    assert ctx["rejudgement"]["previous_number"] == "RN-AP-1-1-2"
