"""judgement-rules.md §3: judging, rule by rule, and the §5 result shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from judgement.core.engine import evaluate
from judgement.core.errors import CriteriaNotAvailable, UnknownTrade
from judgement.core.master import Master
from judgement.core.models import EvaluationRequest, EvaluationResult
from judgement.criteria import load_master

Judge = Callable[..., EvaluationResult]
TAMAKAKE = ("40040", "玉掛け技能講習", "2012-05-10")
LONG_CAREER = {"start": "2008-04-01", "end": "2020-06-01"}  # with a 2008 qualification
OLD = "2008-04-01"


def _by_days(h: Any, days: int, *, role: str | None = None, occupation: str | None = None) -> Any:
    """CCUS history of exactly ``days`` distinct dates after the 2020-06-01 registration."""
    return h.workdays("2020-06-02", days, role=role, occupation=occupation)


# ------------------------------------------------------------------ registration type


def test_simple_registration_is_rejected(judge: Judge, h: Any) -> None:
    result = judge(registration_type="簡略型", quals=[TAMAKAKE], history=_by_days(h, 700))
    assert result.decision == "rejected"
    assert result.eligible_level == 1
    assert [c.model_dump() for c in result.criteria] == [
        {
            "level": 2,
            "kind": "registration_type",
            "met": False,
            "required": "詳細型",
            "actual": "簡略型",
            "message_ja": "詳細型での技能者登録が必要です",
        }
    ]
    assert result.days.ccus == 700  # still reported


def test_snapshot_registration_type_names_are_understood(judge: Judge, h: Any) -> None:
    assert judge(registration_type="simple", quals=[TAMAKAKE]).criteria[0].actual == "簡略型"
    assert judge(registration_type="detailed", quals=[TAMAKAKE], history=_by_days(h, 645)).decision


# ------------------------------------------------------------------ levels


def test_level_3_needs_the_lower_level_qualifications(judge: Judge, h: Any) -> None:
    result = judge(
        level=3,
        quals=[(None, "1級鉄筋施工技能士", OLD)],  # no 玉掛け技能講習
        history=_by_days(h, 1505, role="職長"),
    )
    assert result.decision == "rejected"
    assert result.eligible_level == 1
    assert h.criterion(result, 3, "qualification").met is True
    lower = h.criterion(result, 3, "lower_level_qualifications")
    assert (lower.met, lower.required, lower.message_ja) == (
        False,
        "レベル2の保有資格",
        "レベル2の保有資格の要件を満たしていません",
    )


def test_eligible_level_is_the_highest_level_met(judge: Judge, h: Any) -> None:
    quals = [TAMAKAKE, (None, "1級鉄筋施工技能士", OLD)]
    result = judge(level=2, quals=quals, history=_by_days(h, 1505, role="職長"))
    assert result.decision == "approved"
    assert result.eligible_level == 3
    four = judge(level=4, quals=quals, history=_by_days(h, 1505, role="職長"))
    assert four.decision == "rejected"
    assert four.eligible_level == 3
    unmet = [(c.level, c.kind) for c in four.criteria if not c.met]
    assert unmet == [(4, "days"), (4, "qualification")]
    assert all(c.message_ja for c in four.criteria if not c.met)
    assert all(c.message_ja is None for c in four.criteria if c.met)


def test_tekkin_level_4(judge: Judge, h: Any) -> None:
    quals = [TAMAKAKE, (None, "1級鉄筋施工技能士", OLD), (None, "登録鉄筋基幹技能者", "2023-01-10")]
    result = judge(level=4, quals=quals, history=_by_days(h, 2150, role="職長"))
    assert result.decision == "approved"
    assert result.eligible_level == 4
    assert h.criterion(result, 4, "qualification").actual == "登録鉄筋基幹技能者（2023-01-10）"
    assert h.criterion(result, 4, "foreman_days").actual == 2150


def test_level_4_counts_foreman_days_only(judge: Judge, h: Any) -> None:
    quals = [TAMAKAKE, (None, "1級鉄筋施工技能士", OLD), (None, "登録鉄筋基幹技能者", "2023-01-10")]
    history = h.workdays("2020-06-02", 644, role="職長") + h.workdays(
        "2022-03-08", 1506, role="班長"
    )
    result = judge(level=4, quals=quals, history=history)
    assert result.days.ccus == 2150
    assert result.foreman_days.foreman == 644
    assert h.criterion(result, 4, "foreman_days").met is False
    assert h.criterion(result, 3, "foreman_or_leader_days").met is True
    assert result.eligible_level == 3


def test_a_qualification_acquired_after_the_application_date_does_not_count(
    judge: Judge, h: Any
) -> None:
    result = judge(quals=[("40040", "玉掛け技能講習", "2026-11-02")], history=_by_days(h, 700))
    leaf = h.criterion(result, 2, "qualification")
    assert leaf.met is False
    assert (
        leaf.message_ja
        == "玉掛け技能講習の取得年月日（2026-11-02）が申請日より後のため算入できません"
    )
    on_the_day = judge(quals=[("40040", "玉掛け技能講習", "2026-11-01")], history=_by_days(h, 700))
    assert on_the_day.decision == "approved"


def test_an_undated_qualification_does_not_count_and_warns(judge: Judge, h: Any) -> None:
    result = judge(quals=[("40040", "玉掛け技能講習", None)], history=_by_days(h, 700))
    assert result.decision == "rejected"
    assert [w.kind for w in result.warnings] == ["undated_qualification"]


# ------------------------------------------------------------------ name and code matching


@pytest.mark.parametrize(
    "name",
    [
        "１級鉄筋施工技能士",
        "一級鉄筋施工技能士",
        "1級 鉄筋施工技能士",
        "1級鉄筋施工技能士（鉄筋組立て作業）",
    ],
)
def test_names_match_after_nfkc_and_grade_spelling(judge: Judge, h: Any, name: str) -> None:
    quals = [(None, "玉掛技能講習", "2012-05-10"), (None, name, OLD)]
    result = judge(level=3, quals=quals, history=_by_days(h, 1505, role="班長"))
    assert result.decision == "approved"
    assert h.criterion(result, 3, "qualification").actual == f"{name}（2008-04-01）"


def test_full_width_code_and_name_are_normalised(judge: Judge, h: Any) -> None:
    result = judge(quals=[("４００４０", "ＸＸＸ", "2012-05-10")], history=_by_days(h, 645))
    assert result.decision == "approved"  # code first: the name does not matter


def test_the_code_wins_over_the_name_and_a_mismatch_warns(judge: Judge, h: Any) -> None:
    result = judge(
        quals=[("40040", "高所作業車運転技能講習", "2012-05-10")], history=_by_days(h, 645)
    )
    assert result.decision == "approved"
    assert [w.kind for w in result.warnings] == ["code_name_mismatch"]
    assert result.warnings[0].message_ja == (
        "資格コード40040（玉掛け技能講習）と資格名「高所作業車運転技能講習」が一致しません。"
        "資格コードを優先して玉掛け技能講習として扱いました"
    )
    # a name that is no catalogue item is simply the registered wording: no warning
    plain = judge(
        quals=[("40040", "玉掛け技能講習（1t以上）", "2012-05-10")], history=_by_days(h, 645)
    )
    assert plain.decision == "approved"
    assert plain.warnings == []


def test_master_aliases_match(judge: Judge, h: Any) -> None:
    quals = [TAMAKAKE, (None, "1級鉄筋施工技能士", OLD), ("91002", "建設マスター", "2022-11-01")]
    result = judge(level=4, quals=quals, history=_by_days(h, 2150, role="職長"))
    assert result.decision == "approved"
    by_alias = judge(
        level=4,
        quals=[TAMAKAKE, (None, "1級鉄筋施工技能士", OLD), (None, "現代の名工", "2022-11-01")],
        history=_by_days(h, 2150, role="職長"),
    )
    assert by_alias.decision == "approved"


def test_other_code_with_a_required_name_does_not_count_and_warns(judge: Judge, h: Any) -> None:
    result = judge(quals=[("49999", "玉掛け技能講習", "2012-05-10")], history=_by_days(h, 700))
    assert result.decision == "rejected"
    assert [w.kind for w in result.warnings] == ["misregistered_code"]
    assert result.warnings[0].message_ja.startswith("資格コードの誤登録の可能性があります")
    assert "40040" in result.warnings[0].message_ja
    # the record still dates the 起算点 (it is a CCUS qualification with a date)
    with_cert = judge(
        quals=[("49999", "玉掛技能講習修了", "2012-05-10")],
        cert={"start": "2010-01-01", "end": "2020-06-01"},
    )
    assert with_cert.days.pre_ccus == 1755
    assert [w.kind for w in with_cert.warnings] == ["misregistered_code"]


def test_other_code_with_an_unrelated_name_does_not_warn(judge: Judge, h: Any) -> None:
    result = judge(
        quals=[TAMAKAKE, ("49999", "フォークリフト運転技能講習", "2015-01-01")],
        history=_by_days(h, 700),
    )
    assert result.decision == "approved"
    assert result.warnings == []


def test_a_known_item_under_a_wrong_code_does_not_count_and_warns(judge: Judge, h: Any) -> None:
    result = judge(quals=[("40041", "玉掛け技能講習", "2012-05-10")], history=_by_days(h, 700))
    assert result.decision == "rejected"
    assert [w.kind for w in result.warnings] == ["misregistered_code"]
    assert "40041" in result.warnings[0].message_ja


# ------------------------------------------------------------------ 上位資格


def test_first_class_licence_satisfies_electric_level_2(judge: Judge, h: Any) -> None:
    result = judge(
        h.request(
            "電気工事",
            2,
            quals=[("31018", "第一種電気工事士免状取得者", "2015-04-01")],
            history=_by_days(h, 645),
        )
    )
    assert result.decision == "approved"
    assert h.criterion(result, 2, "qualification").actual == (
        "第一種電気工事士免状取得者（2015-04-01、上位資格）"
    )


def test_first_grade_pipe_manager_satisfies_the_second_grade_item(judge: Judge, h: Any) -> None:
    quals = [
        (None, "高所作業車運転技能講習", OLD),
        ("60001", "職長・安全衛生責任者教育", OLD),
        (None, "1級管工事施工管理技士", "2016-01-01"),
    ]
    result = judge(h.request("配管", 3, quals=quals, history=_by_days(h, 1505, role="職長")))
    assert result.decision == "approved"
    assert result.eligible_level == 3  # L4 needs 2,150 days
    assert "上位資格" in (h.criterion(result, 3, "qualification").actual or "")


def test_higher_grades_count_only_from_the_2023_06_revision(judge: Judge, h: Any) -> None:
    body = h.request(
        "電気工事",
        2,
        application_date="2023-06-13",
        quals=[("31018", "第一種電気工事士免状取得者", "2015-04-01")],
        history=_by_days(h, 645),
    )
    assert judge(body).decision == "rejected"
    body["application_date"] = "2023-06-14"
    assert judge(body).decision == "approved"


# ------------------------------------------------------------------ trees


def _daiku_l3(h: Any, *extra: tuple[str | None, str, str]) -> Any:
    quals = [
        (None, "丸のこ等取扱作業者安全衛生教育", OLD),
        (None, "足場の組立て等作業従事者特別教育", OLD),
        *extra,
    ]
    return h.request("建築大工", 3, quals=quals, history=_by_days(h, 1505, role="班長"))


def test_at_least_two_of_the_carpenter_list(judge: Judge, h: Any) -> None:
    one = judge(_daiku_l3(h, (None, "2級建築大工技能士", OLD)))
    pool = h.criterion(one, 3, "qualification")
    assert (pool.met, pool.actual) == (False, "1件：2級建築大工技能士（2008-04-01）")
    assert pool.message_ja is not None
    assert pool.message_ja.startswith("次の資格のうち2つ以上が必要です（現在 1つ）：")
    two = judge(_daiku_l3(h, (None, "2級建築大工技能士", OLD), (None, "木造建築士", OLD)))
    assert two.decision == "approved"


def test_either_grade_item_counts_once(judge: Judge, h: Any) -> None:
    both = judge(_daiku_l3(h, (None, "1級建築大工技能士", OLD), (None, "2級建築大工技能士", OLD)))
    assert h.criterion(both, 3, "qualification").met is False
    builders = judge(_daiku_l3(h, (None, "1級建築士", OLD), (None, "2級建築士", OLD)))
    assert h.criterion(builders, 3, "qualification").met is False


def _denki(h: Any, days: int, *quals: tuple[str | None, str, str]) -> Any:
    return h.request("電気工事", 3, quals=list(quals), history=_by_days(h, days, role="班長"))


def test_electric_level_3_first_class_licence_with_1075_days(judge: Judge, h: Any) -> None:
    result = judge(_denki(h, 1075, ("31018", "第一種電気工事士免状取得者", OLD)))
    assert result.decision == "approved"
    assert result.eligible_level == 3


def test_electric_level_3_alternatives_carry_their_own_days(judge: Judge, h: Any) -> None:
    exam_and_certified = (
        ("31073", "第一種電気工事士試験合格者", OLD),
        (None, "認定電気工事従事者", OLD),
    )
    short = judge(_denki(h, 1504, *exam_and_certified))
    assert short.decision == "rejected"
    assert h.criterion(short, 3, "days").met is True  # 1,075 for the level itself
    alternatives = h.criterion(short, 3, "qualification")
    assert alternatives.met is False
    assert alternatives.message_ja is not None
    assert "第一種電気工事士試験合格者＋認定電気工事従事者（就業日数1,505日以上）の場合は" in (
        alternatives.message_ja
    )
    assert "（現在 1,504日）" in alternatives.message_ja
    assert judge(_denki(h, 1505, *exam_and_certified)).decision == "approved"

    second_and_certified = (
        (None, "第二種電気工事士免状取得者", OLD),
        (None, "認定電気工事従事者", OLD),
    )
    assert judge(_denki(h, 2149, *second_and_certified)).decision == "rejected"
    assert judge(_denki(h, 2150, *second_and_certified)).decision == "approved"

    junior_master = (
        (None, "建設ジュニアマスター", OLD),
        (None, "第二種電気工事士免状", OLD),
    )
    assert judge(_denki(h, 1504, *junior_master)).decision == "rejected"
    assert judge(_denki(h, 1505, *junior_master)).decision == "approved"


# ------------------------------------------------------------------ とび


TOBI_L2 = [
    ("40040", "玉掛け技能講習", OLD),
    ("60011", "職長・安全衛生責任者教育", OLD),
    ("40011", "足場の組立て等作業主任者技能講習", OLD),
]


def test_tobi_level_2_needs_one_of_the_twelve_courses(judge: Judge, h: Any) -> None:
    history = _by_days(h, 645, occupation="06-01")
    assert judge(h.request("とび", 2, quals=TOBI_L2, history=history)).decision == "approved"
    without = judge(h.request("とび", 2, quals=TOBI_L2[:2], history=history))
    assert without.decision == "rejected"
    pool = h.criterion(without, 2, "qualification", 2)
    assert pool.required.startswith("次のうち1つ以上：足場の組立て等作業主任者技能講習、")
    assert pool.message_ja is not None
    assert pool.message_ja.startswith("次の資格のうち1つ以上が必要です（現在 0つ）")


def test_tobi_level_3_three_of_thirteen(judge: Judge, h: Any) -> None:
    history = _by_days(h, 1720, role="班長", occupation="06-01")
    two = [*TOBI_L2, ("10902", "2級とび技能士", OLD)]
    assert judge(h.request("とび", 3, quals=two, history=history)).decision == "rejected"
    three = [*two, ("40031", "小型移動式クレーン運転技能講習", OLD)]
    assert judge(h.request("とび", 3, quals=three, history=history)).decision == "approved"
    first_class = [
        *TOBI_L2[:2],
        ("40039", "高所作業車運転技能講習", OLD),
        ("10901", "1級とび技能士", OLD),
    ]
    assert judge(h.request("とび", 3, quals=first_class, history=history)).decision == "approved"
    manager = [*TOBI_L2, ("30006", "2級土木施工管理技士", OLD)]
    assert judge(h.request("とび", 3, quals=manager, history=history)).decision == "approved"


def _tobi_l4(h: Any, days: int, foreman: int, kikan_on: str = "2024-04-01") -> Any:
    quals = [
        *TOBI_L2,
        ("10901", "1級とび技能士", OLD),
        ("00016", "登録鳶・土工基幹技能者", kikan_on),
    ]
    history = h.workdays("2018-04-02", foreman, role="職長", occupation="06-01") + h.workdays(
        "2018-04-02", days, occupation="06-01"
    )
    # registered long ago so that every date counts; other-occupation days never count
    history += h.workdays("2018-04-02", 3000, occupation="06-02", role="職長")
    return h.request("とび", 4, registered_on="2018-04-01", quals=quals, history=history)


def test_tobi_level_4_needs_2580_days_and_1505_foreman_days(judge: Judge, h: Any) -> None:
    met = judge(_tobi_l4(h, 2580, 1505))
    assert met.days.ccus == 2580
    assert met.foreman_days.foreman == 1505
    assert met.decision == "approved"
    short_days = judge(_tobi_l4(h, 2579, 1505))
    assert (short_days.decision, short_days.eligible_level) == ("rejected", 3)
    assert h.criterion(short_days, 4, "days").message_ja == (
        "就業日数が不足しています（必要 2,580日、現在 2,579日）"
    )
    short_foreman = judge(_tobi_l4(h, 2580, 1504))
    assert short_foreman.decision == "rejected"
    assert h.criterion(short_foreman, 4, "foreman_days").message_ja == (
        "職長としての就業日数が不足しています（必要 1,505日、現在 1,504日）"
    )


def test_expired_kikan_does_not_count_and_warns(judge: Judge, h: Any) -> None:
    # acquired 2018-04-01 → valid to 2023-03-31 (the day before the 5th anniversary)
    body = _tobi_l4(h, 2580, 1505, kikan_on="2021-11-02")
    assert judge(body).decision == "approved"  # valid to 2026-11-01 = the application date
    expired = judge(_tobi_l4(h, 2580, 1505, kikan_on="2021-11-01"))
    assert expired.decision == "rejected"
    assert [w.kind for w in expired.warnings] == ["expired_kikan"]
    assert "有効期限（2026-10-31）" in expired.warnings[0].message_ja
    assert h.criterion(expired, 4, "qualification").message_ja == (
        "次のいずれかの資格がCCUSに登録されていません：登録鳶・土工基幹技能者、"
        "優秀施工者国土交通大臣顕彰、安全優良職長厚生労働大臣顕彰"
    )


def test_kikan_acquired_on_29_february(judge: Judge, h: Any) -> None:
    body = _tobi_l4(h, 2580, 1505, kikan_on="2024-02-29")
    body["application_date"] = "2029-02-28"  # last valid day (2029-03-01 is the anniversary)
    assert judge(body).decision == "approved"
    body["application_date"] = "2029-03-01"
    assert judge(body).decision == "rejected"


# ------------------------------------------------------------------ result shape and errors


def test_result_has_exactly_the_section_5_shape(judge: Judge, h: Any) -> None:
    result = judge(quals=[TAMAKAKE], history=_by_days(h, 645)).model_dump(mode="json")
    assert list(result) == [
        "decision",
        "requested_level",
        "eligible_level",
        "days",
        "foreman_days",
        "criteria",
        "reconciliation",
        "warnings",
        "criteria_version",
    ]
    assert list(result["days"]) == ["pre_ccus", "ccus", "total"]
    assert list(result["foreman_days"]) == ["foreman", "leader", "foreman_or_leader"]
    assert set(result["criteria"][0]) == {
        "level",
        "kind",
        "met",
        "required",
        "actual",
        "message_ja",
    }
    assert result["criteria_version"] == "鉄筋@2019-10-08"


def test_trade_without_criteria_and_unknown_trade_are_refused(master: Master, h: Any) -> None:
    with pytest.raises(CriteriaNotAvailable, match="日本型枠工事業協会"):
        evaluate(EvaluationRequest.model_validate(h.request("型枠")), master)
    with pytest.raises(UnknownTrade):
        evaluate(EvaluationRequest.model_validate(h.request("宇宙工事")), master)


def test_an_extra_trade_is_judged_with_its_own_criteria(h: Any) -> None:
    extended = load_master([h.fixtures / "extra" / "extra_trade.yaml"])
    body = h.request(
        "試験施工",
        2,
        application_date="2027-01-05",
        quals=[("19901", "1級試験施工技能士", OLD)],  # supersedes 2級試験施工技能士
        history=_by_days(h, 430, occupation="99-01") + _by_days(h, 100, occupation="06-01"),
    )
    result = evaluate(EvaluationRequest.model_validate(body), extended)
    assert result.criteria_version == "試験施工@2026-12-01"
    assert result.days.ccus == 430
    assert result.decision == "approved"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"requested_level": 5}, "requested_level"),
        ({"requested_level": 1}, "requested_level"),
        ({"requested_level": "3"}, "requested_level"),
        ({"application_date": "2026-02-30"}, "application_date"),
        ({"application_date": "20261101"}, "application_date"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_requests_are_refused_by_the_model(
    h: Any, change: dict[str, Any], where: str
) -> None:
    from pydantic import ValidationError

    body = h.request(quals=[TAMAKAKE]) | change
    with pytest.raises(ValidationError) as error:
        EvaluationRequest.model_validate(body)
    assert error.value.errors()[0]["loc"][0] == where


def test_impossible_work_history_date_is_refused(h: Any) -> None:
    from pydantic import ValidationError

    body = h.request(history=[{"date": "2026-02-30", "site_id": "S1"}])
    with pytest.raises(ValidationError, match="work_history"):
        EvaluationRequest.model_validate(body)


def test_certification_end_before_start_is_refused(h: Any) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="before its start"):
        EvaluationRequest.model_validate(
            h.request(cert={"start": "2020-01-01", "end": "2019-12-31"})
        )
