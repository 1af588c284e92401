"""How values read on the pages, and how numbered form rows become request bodies."""

from __future__ import annotations

from portal.core.formatting import (
    checked,
    criteria_version_ja,
    doomed_lines,
    field_id,
    jp_date,
    jp_datetime,
    levels_span_ja,
    months_ja,
    needs_preview,
    nested,
    rejection_reason,
    rows,
    yen,
)
from shared_kernel.labels import decision_ja, level_ja


def test_dates_read_in_japan_time() -> None:
    assert jp_date("2026-11-28") == "2026年11月28日"
    assert jp_date("2026-11-28T16:00:00+00:00") == "2026年11月29日"  # 01:00 in Japan
    assert jp_date("2026-11-28T14:59:59Z") == "2026年11月28日"
    assert jp_datetime("2026-11-28T16:05:00+00:00") == "2026年11月29日 01:05"
    assert jp_datetime("2026-11-28T16:05:00") == "2026年11月29日 01:05"  # naive = UTC
    assert jp_datetime("2026-11-28") == "2026年11月28日"
    assert jp_date(None) == "" and jp_date("いつか") == "いつか"


def test_money_levels_and_durations() -> None:
    assert yen(4000) == "4,000円" and yen(0) == "0円" and yen(None) == ""
    assert level_ja(3) == "レベル3（シルバー）" and level_ja("4") == "レベル4（ゴールド）"
    assert level_ja(None) == ""
    assert months_ja(125) == "10年5ヶ月"
    assert decision_ja("approved") == "承認" and decision_ja("rejected") == "不承認"
    assert decision_ja(None) == ""


def test_field_ids_follow_the_api_field_names() -> None:
    assert field_id("workers.0.name_kana") == "f-workers-0-name_kana"
    assert field_id("delivery_address.postal_code") == "f-delivery_address-postal_code"
    assert field_id("login_id") == "f-login_id"


def test_numbered_rows_keep_their_order_and_drop_empty_ones() -> None:
    form = {
        "workers.2.worker_id": "99000000000002",
        "workers.2.name": " 𠮷野 翔太 ",
        "workers.0.worker_id": "99000000000001",
        "workers.0.name": "髙橋 健太",
        "workers.1.worker_id": "",
        "workers.1.name": "  ",
        "workers.10.birth_date": "1990-01-01",
        "workers.0.unknown": "x",
        "employer.address": "東京都",
    }
    assert rows(form, "workers", ("worker_id", "name", "birth_date")) == [
        {"worker_id": "99000000000001", "name": "髙橋 健太", "birth_date": ""},
        {"worker_id": "99000000000002", "name": "𠮷野 翔太", "birth_date": ""},
        {"worker_id": "", "name": "", "birth_date": "1990-01-01"},
    ]
    assert nested(form, "employer") == {"address": "東京都"}
    assert checked({"a": "on"}, "a") and not checked({"a": ""}, "a") and not checked({}, "a")


def test_a_criteria_version_reads_as_its_trade_and_day_in_force() -> None:
    assert criteria_version_ja("とび@2020-03-04") == "とび（2020年3月4日施行）"
    assert criteria_version_ja("とび@2020-03-04-r2") == "とび（2020年3月4日施行、訂正2）"
    assert criteria_version_ja("型枠@2026-12-08-r3") == "型枠（2026年12月8日施行、訂正3）"
    assert criteria_version_ja(None) == "" and criteria_version_ja("") == ""
    assert criteria_version_ja("something else") == "something else"


def test_lines_that_will_certainly_be_rejected_carry_the_reason_and_the_fee() -> None:
    simple = {
        "line_id": "L-1",
        "warnings": [{"code": "simple_registration", "message": "簡略型で登録されています"}],
    }
    short = {
        "line_id": "L-2",
        "preview": {"likely_rejected": True, "flag_ja": "不承認の見込み", "unmet": ["日数不足"]},
    }
    fine = {"line_id": "L-3", "preview": {"likely_rejected": False}}
    unchecked = {"line_id": "L-4", "preview": None, "warnings": []}
    assert rejection_reason(simple) == "簡略型で登録されています"
    assert rejection_reason(short) == "不承認の見込み（日数不足）"
    assert rejection_reason(fine) is None and rejection_reason(unchecked) is None
    found = doomed_lines({"lines": [simple, short, fine, unchecked]}, 4000)
    assert [(x["line_id"], x["fee_yen"]) for x in found] == [("L-1", 4000), ("L-2", 4000)]
    assert doomed_lines({"lines": [{**short, "fee_yen": 3500}]}, 4000)[0]["fee_yen"] == 3500
    assert needs_preview(unchecked) and not needs_preview(fine)


def test_levels_read_as_one_phrase() -> None:
    assert levels_span_ja([3, 4]) == "レベル3～4"
    assert levels_span_ja([4, 3, 2]) == "レベル2～4"
    assert levels_span_ja([3]) == "レベル3"
    assert levels_span_ja([2, 4]) == "レベル2・4"
    assert levels_span_ja([]) == ""
