"""judgement-rules.md §2: counting days, rule by rule, with boundary cases.

Unless a test says otherwise the trade is 鉄筋 (no 職種 filter), the worker registered in
CCUS on 2020-06-01 and applies on 2026-11-01; 玉掛け技能講習 (acquired 2012-05-10) is the
level-2 qualification and the oldest one (起算点 2012-05).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from judgement.core.models import EvaluationResult
from judgement.criteria import load_master

Judge = Callable[..., EvaluationResult]
TAMAKAKE = ("40040", "玉掛け技能講習", "2012-05-10")


# ------------------------------------------------------------------ §2.1 CCUS days


def test_exactly_645_distinct_dates_meet_level_2(judge: Judge, h: Any) -> None:
    result = judge(quals=[TAMAKAKE], history=h.workdays("2021-01-04", 645))
    assert result.days.model_dump() == {"pre_ccus": 0, "ccus": 645, "total": 645}
    assert result.decision == "approved"
    assert result.eligible_level == 2
    days = h.criterion(result, 2, "days")
    assert (days.met, days.required, days.actual, days.message_ja) == (True, 645, 645, None)


def test_644_distinct_dates_do_not(judge: Judge, h: Any) -> None:
    result = judge(quals=[TAMAKAKE], history=h.workdays("2021-01-04", 644))
    assert result.days.total == 644
    assert result.decision == "rejected"
    assert result.eligible_level == 1
    days = h.criterion(result, 2, "days")
    assert days.met is False
    assert days.message_ja == "就業日数が不足しています（必要 645日、現在 644日）"


def test_several_records_on_one_date_count_once(judge: Judge, h: Any) -> None:
    history = h.workdays("2021-01-04", 644) * 3  # three sites a day
    history += [dict(history[0], site_id="S0002", role="職長")]
    result = judge(quals=[TAMAKAKE], history=history)
    assert result.days.ccus == 644
    assert result.foreman_days.foreman == 1


def test_only_dates_between_registration_and_application_count(judge: Judge, h: Any) -> None:
    history = (
        h.workdays("2020-05-30", 2)  # before registration (2020-06-01): not counted
        + h.workdays("2020-06-01", 1)  # the registration date itself: counted
        + h.workdays("2026-11-01", 1)  # the application date itself: counted
        + h.workdays("2026-11-02", 5)  # after the application date: not counted
    )
    result = judge(quals=[TAMAKAKE], history=history)
    assert result.days.ccus == 2


# ------------------------------------------------------------------ §2.2 pre-CCUS period


def test_months_are_counted_inclusively_and_converted_at_215_a_year(judge: Judge) -> None:
    # 2008-04-10 … 2018-05-25 = 10年2ヶ月 = 122 months (the official form's example)
    result = judge(
        quals=[("40040", "玉掛け技能講習", "2008-04-01")],
        registered_on="2018-06-01",
        cert={"start": "2008-04-10", "end": "2018-05-25"},
    )
    assert result.days.pre_ccus == 122 * 215 // 12 == 2185
    assert result.reconciliation == []


def test_three_years_are_645_days(judge: Judge) -> None:
    result = judge(
        quals=[("40040", "玉掛け技能講習", "2017-04-03")],
        cert={"start": "2017-04-03", "end": "2020-03-31"},
    )
    assert result.days.pre_ccus == 645
    assert result.decision == "approved"


def test_a_start_before_the_oldest_qualification_is_moved_to_its_month(judge: Judge) -> None:
    result = judge(quals=[TAMAKAKE], cert={"start": "2010-04-01", "end": "2020-06-01"})
    # 2012-05 … 2020-06 = 98 months
    assert result.days.pre_ccus == 98 * 215 // 12 == 1755
    assert [r.model_dump() for r in result.reconciliation] == [
        {
            "field": "career_certification.start",
            "declared": "2010-04-01",
            "adopted": "2012-05-10",
            "reason_ja": "起算点はCCUSに登録された最も古い資格の取得日です",
        }
    ]


def test_a_start_in_the_month_of_the_oldest_qualification_is_kept(judge: Judge) -> None:
    result = judge(quals=[TAMAKAKE], cert={"start": "2012-05-01", "end": "2020-06-01"})
    assert result.days.pre_ccus == 1755
    assert result.reconciliation == []


def test_the_start_point_is_the_oldest_of_all_registered_qualifications(judge: Judge) -> None:
    quals = [
        TAMAKAKE,
        (None, "フルハーネス型墜落制止用器具特別教育", "2009-01-20"),  # not in any table
        ("49999", "その他技能講習", "2008-07-01"),  # その他 code: still a dated CCUS record
        (None, "未来の講習", "2027-01-01"),  # after the application date: ignored
    ]
    result = judge(quals=quals, cert={"start": "2005-04-01", "end": "2020-06-01"})
    assert result.reconciliation[0].adopted == "2008-07-01"
    # 2008-07 … 2020-06 = 144 months
    assert result.days.pre_ccus == 144 * 215 // 12 == 2580


def test_an_end_after_the_registration_month_is_moved_to_it(judge: Judge) -> None:
    result = judge(quals=[TAMAKAKE], cert={"start": "2012-05-10", "end": "2021-03-31"})
    assert result.days.pre_ccus == 1755  # 2012-05 … 2020-06
    assert [(r.field, r.declared, r.adopted, r.reason_ja) for r in result.reconciliation] == [
        (
            "career_certification.end",
            "2021-03-31",
            "2020-06-01",
            "終着点はCCUSの技能者情報登録日です",
        )
    ]


def _cap_case(judge: Judge, application_date: str) -> EvaluationResult:
    # registered 2024-04-20 with a certified end in that month: only the cut-off can cut it
    return judge(
        application_date=application_date,
        registered_on="2024-04-20",
        quals=[("40040", "玉掛け技能講習", "2021-04-01")],
        cert={"start": "2021-04-01", "end": "2024-04-15"},
    )


def test_application_on_2024_03_31_is_not_capped(judge: Judge) -> None:
    result = _cap_case(judge, "2024-03-31")
    assert result.days.pre_ccus == 37 * 215 // 12 == 662  # 2021-04 … 2024-04
    assert result.reconciliation == []


def test_application_on_2024_04_01_caps_the_end_at_2024_03(judge: Judge) -> None:
    result = _cap_case(judge, "2024-04-01")
    assert result.days.pre_ccus == 36 * 215 // 12 == 645  # 2021-04 … 2024-03
    assert [(r.field, r.declared, r.adopted) for r in result.reconciliation] == [
        ("career_certification.end", "2024-04-15", "2024-03-31")
    ]
    assert result.reconciliation[0].reason_ja == (
        "2024年4月1日以降の申請では、経歴証明で認められるのは2024年3月31日までの経験です"
    )


def test_application_on_2029_03_31_still_uses_the_certification(judge: Judge) -> None:
    result = judge(
        application_date="2029-03-31",
        quals=[TAMAKAKE],
        cert={"start": "2012-05-10", "end": "2020-06-01", "foreman": {"years": 1}},
    )
    assert result.days.pre_ccus == 1755
    assert result.foreman_days.foreman == 215


def test_application_on_2029_04_01_ignores_the_certification(judge: Judge) -> None:
    result = judge(
        application_date="2029-04-01",
        quals=[TAMAKAKE],
        cert={"start": "2012-05-10", "end": "2020-06-01", "foreman": {"years": 1}},
    )
    assert result.days.pre_ccus == 0
    assert result.foreman_days.foreman == 0
    assert [r.model_dump() for r in result.reconciliation] == [
        {
            "field": "career_certification",
            "declared": "2012-05-10〜2020-06-01",
            "adopted": None,
            "reason_ja": (
                "2029年4月1日以降の申請では経歴証明は使用できません"
                "（CCUSの就業履歴のみで評価します）"
            ),
        }
    ]


def test_no_dated_qualification_means_no_pre_ccus_days(judge: Judge) -> None:
    result = judge(
        quals=[("40040", "玉掛け技能講習", None)],
        cert={"start": "2012-05-10", "end": "2020-06-01"},
    )
    assert result.days.pre_ccus == 0
    assert result.reconciliation[0].field == "career_certification.start"
    assert result.reconciliation[0].adopted is None
    assert "起算点がなく" in result.reconciliation[0].reason_ja


def test_a_start_after_the_end_point_gives_zero_months(judge: Judge) -> None:
    result = judge(
        quals=[("40040", "玉掛け技能講習", "2020-08-01")],  # after registration (2020-06)
        cert={"start": "2019-01-01", "end": "2020-05-31"},
    )
    assert result.days.pre_ccus == 0
    assert result.reconciliation[-1].field == "career_certification.period"
    assert result.reconciliation[-1].adopted == "0年0ヶ月"


# ------------------------------------------------------------------ §2.3 foreman / leader


def test_declared_foreman_and_leader_years_convert_like_days(judge: Judge) -> None:
    result = judge(
        quals=[TAMAKAKE],
        cert={
            "start": "2012-05-10",
            "end": "2020-06-01",
            "foreman": {"years": 2, "months": 0},
            "leader": {"years": 1, "months": 6},
        },
    )
    assert result.foreman_days.model_dump() == {
        "foreman": 430,
        "leader": 322,  # 18 × 215 / 12 = 322.5
        "foreman_or_leader": 752,  # 42 × 215 / 12 = 752.5
    }


def test_six_months_of_leader_time_are_107_days(judge: Judge, h: Any) -> None:
    # 建築大工 level 3 asks for 108 days (0.5年) of 職長又は班長: floor(6 × 215 / 12) = 107
    body = h.request(
        "建築大工",
        3,
        quals=[
            (None, "丸のこ等取扱作業者安全衛生教育", "2010-04-01"),
            ("40011", "足場の組立て等作業主任者技能講習", "2010-04-01"),
            (None, "2級建築大工技能士", "2012-04-01"),
        ],
        cert={"start": "2010-04-01", "end": "2020-06-01", "leader": {"months": 6}},
    )
    result = judge(body)
    assert result.foreman_days.leader == 107
    assert result.foreman_days.foreman_or_leader == 107
    foreman = h.criterion(result, 3, "foreman_or_leader_days")
    assert (foreman.met, foreman.required, foreman.actual) == (False, 108, 107)
    assert (
        foreman.message_ja
        == "職長又は班長としての就業日数が不足しています（必要 108日、現在 107日）"
    )
    assert result.decision == "rejected"
    # the rounding is a named policy: half_up makes the same six months 108 days
    half_up = load_master([h.fixtures / "half_up.yaml"])
    again = judge(body, master=half_up)
    assert again.foreman_days.leader == 108
    assert again.decision == "approved"
    assert again.eligible_level == 3


def test_foreman_and_leader_months_are_added_before_conversion(judge: Judge, h: Any) -> None:
    # 6 + 6 months = 1年 = 215 days (配管 level 3 needs 215), not 107 + 107 = 214
    result = judge(
        quals=[TAMAKAKE],
        cert={
            "start": "2012-05-10",
            "end": "2020-06-01",
            "foreman": {"months": 6},
            "leader": {"months": 6},
        },
    )
    assert result.foreman_days.model_dump() == {
        "foreman": 107,
        "leader": 107,
        "foreman_or_leader": 215,
    }


def test_declared_foreman_time_cannot_exceed_the_adopted_period(judge: Judge) -> None:
    # adopted period 2012-05 … 2020-06 = 98 months; declared 90 + 24 = 114 months
    result = judge(
        quals=[TAMAKAKE],
        cert={
            "start": "2010-04-01",
            "end": "2020-06-01",
            "foreman": {"years": 7, "months": 6},
            "leader": {"years": 2},
        },
    )
    entries = {r.field: (r.declared, r.adopted) for r in result.reconciliation}
    assert entries["career_certification.leader"] == ("2年0ヶ月", "0年8ヶ月")
    assert "career_certification.foreman" not in entries
    assert result.foreman_days.foreman == 90 * 215 // 12 == 1612
    assert result.foreman_days.leader == 8 * 215 // 12 == 143
    assert result.foreman_days.foreman_or_leader == 98 * 215 // 12 == 1755


def test_foreman_time_is_cut_too_when_leader_time_is_not_enough(judge: Judge) -> None:
    result = judge(
        quals=[TAMAKAKE],
        cert={
            "start": "2012-05-10",
            "end": "2020-06-01",
            "foreman": {"years": 9},
            "leader": {"years": 1},
        },
    )
    entries = {r.field: (r.declared, r.adopted) for r in result.reconciliation}
    assert entries == {
        "career_certification.leader": ("1年0ヶ月", "0年0ヶ月"),
        "career_certification.foreman": ("9年0ヶ月", "8年2ヶ月"),
    }


def test_ccus_roles_count_as_foreman_and_leader_days(judge: Judge, h: Any) -> None:
    history = (
        h.workdays("2021-01-04", 10, role="職長")
        + h.workdays("2021-02-01", 5, role="班長")
        + h.workdays("2021-01-04", 3, role="班長")  # same dates as 職長 records
        + h.workdays("2021-03-01", 20)
    )
    result = judge(quals=[TAMAKAKE], history=history)
    assert result.days.ccus == 35
    assert result.foreman_days.model_dump() == {
        "foreman": 10,
        "leader": 5,
        "foreman_or_leader": 15,
    }


def test_snapshot_role_names_are_understood(judge: Judge, h: Any) -> None:
    history = (
        h.workdays("2021-01-04", 4, role="foreman")
        + h.workdays("2021-02-01", 2, role="leader")
        + h.workdays("2021-03-01", 3, role="worker")
    )
    result = judge(quals=[TAMAKAKE], history=history)
    assert result.foreman_days.model_dump() == {"foreman": 4, "leader": 2, "foreman_or_leader": 6}


def test_declared_and_ccus_foreman_days_are_added(judge: Judge, h: Any) -> None:
    result = judge(
        quals=[TAMAKAKE],
        history=h.workdays("2021-01-04", 100, role="職長"),
        cert={"start": "2012-05-10", "end": "2020-06-01", "foreman": {"years": 2}},
    )
    assert result.foreman_days.foreman == 430 + 100
    assert result.days.total == 1755 + 100


# ------------------------------------------------------------------ occupation filter


def test_tobi_counts_only_work_under_06_01(judge: Judge, h: Any) -> None:
    history = (
        h.workdays("2021-01-04", 600, occupation="06-01")
        + h.workdays("2023-01-02", 40, occupation="06-02")  # 足場とび工: not とび
        + h.workdays("2024-01-01", 5, occupation="０６－０１")  # full width: same code
        + h.workdays("2024-02-01", 7)  # no code: counted, with a warning
    )
    result = judge(h.request("とび", 2, history=history))
    assert result.days.ccus == 612
    assert [(r.field, r.declared, r.adopted) for r in result.reconciliation] == [
        ("ccus.work_history", "652日", "612日")
    ]
    assert [w.kind for w in result.warnings] == ["occupation_unchecked"]
    assert result.warnings[0].message_ja == (
        "職種コードのない就業履歴が7日分あり、とびの職種（06-01）か確認できませんでした"
        "（就業日数には算入しています）"
    )


def test_a_date_worked_under_two_codes_counts_once(judge: Judge, h: Any) -> None:
    history = h.workdays("2021-01-04", 10, occupation="06-01") + h.workdays(
        "2021-01-04", 10, occupation="06-02", role="職長"
    )
    result = judge(h.request("とび", 2, history=history))
    assert result.days.ccus == 10
    assert result.foreman_days.foreman == 0  # the 職長 records were under 06-02


def test_a_trade_without_loaded_codes_counts_every_record(judge: Judge, h: Any) -> None:
    history = h.workdays("2021-01-04", 10, occupation="06-02") + h.workdays("2022-01-04", 5)
    result = judge(quals=[TAMAKAKE], history=history)
    assert result.days.ccus == 15
    assert result.warnings == []
    assert result.reconciliation == []
