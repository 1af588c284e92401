"""How values read on the pages, and how numbered form rows become request bodies."""

from __future__ import annotations

from portal.core.formatting import (
    checked,
    field_id,
    jp_date,
    jp_datetime,
    months_ja,
    nested,
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
