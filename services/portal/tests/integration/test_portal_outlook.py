"""レベル診断 screen: the table (sort, filters, 代行申請に追加), the detail and the CSV."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from .conftest import HTML, Portal, login, reply

ROWS: list[dict[str, Any]] = [
    {
        "worker_id": "99000000000002",
        "name": "𠮷野 翔太",
        "trade": "電気工事",
        "judgeable": True,
        "message_ja": None,
        "level_today": 3,
        "next_level": 4,
        "main_shortfall_ja": "就業日数あと900日、いずれかの資格：登録電気工事基幹技能者",
        "expected_month": "2030-05",
        "can_apply_now": True,
        "warnings": [],
        "snapshot_taken_on": "2026-11-21",
    },
    {
        "worker_id": "99000000000006",
        "name": "濵田 由美",
        "trade": "硝子工事",
        "judgeable": True,
        "message_ja": None,
        "level_today": 2,
        "next_level": 3,
        "main_shortfall_ja": "就業日数あと300日",
        "expected_month": "2028-01",
        "can_apply_now": True,
        "warnings": ["misregistered_code"],
        "snapshot_taken_on": "2026-11-21",
    },
    {
        "worker_id": "99000000000004",
        "name": "佐藤 大輔",
        "trade": "鉄筋",
        "judgeable": True,
        "message_ja": None,
        "level_today": 1,
        "next_level": 2,
        "main_shortfall_ja": "詳細型での技能者登録",
        "expected_month": None,
        "can_apply_now": False,
        "warnings": ["simple_registration"],
        "snapshot_taken_on": "2026-11-21",
    },
]
DETAIL = {
    "worker_id": "99000000000006",
    "name": "濵田 由美",
    "as_of": "2026-12-01",
    "snapshot": {"taken_on": "2026-11-21", "stale": False},
    "message_ja": None,
    "warnings": [],
    "outlooks": [
        {
            "trade": "硝子工事",
            "judgeable": True,
            "criteria_version": "硝子工事@2020-01-01",
            "level_today": 2,
            "can_apply_now": True,
            "days": {"pre_ccus": 0, "ccus": 990, "total": 990, "other_occupation_days": 0},
            "foreman_days": {"foreman": 0, "leader": 0, "foreman_or_leader": 0},
            "pace": {"work_days_per_month": 15.8, "basis_ja": "直近12か月の就業日数 190日 ÷ 12"},
            "warnings": [
                {
                    "kind": "misregistered_code",
                    "message_ja": "資格コードの誤登録の可能性があります：「玉掛け技能講習」",
                }
            ],
            "next_levels": [
                {
                    "level": 3,
                    "met": False,
                    "expected_month": "2028-01",
                    "expected_note_ja": "日数要件のみの見込みです（資格の取得は含みません）",
                    "criteria": [
                        {
                            "kind": "days",
                            "met": False,
                            "status_ja": "不足",
                            "required": 1075,
                            "actual": 990,
                            "short_ja": "就業日数あと85日",
                        },
                        {
                            "kind": "qualification",
                            "met": False,
                            "status_ja": "不足",
                            "required": "次のいずれか",
                            "actual": None,
                            "short_ja": "いずれかの資格",
                            "missing": [
                                {
                                    "item": "1級ガラス施工技能士",
                                    "codes": ["10101"],
                                    "alternatives": [{"item": "2級建築施工管理技士", "codes": []}],
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ],
}


def _script(services: Any) -> None:
    services.routes[("GET", "/outlook")] = reply(200, ROWS)
    services.routes[("GET", "/applications")] = reply(
        200,
        [
            {"application_id": "AP-20261201-AAAAAA", "status": "draft"},
            {"application_id": "AP-20261130-BBBBBB", "status": "submitted"},
        ],
    )
    services.routes[("GET", "/trades")] = reply(200, [{"name": "硝子工事"}, {"name": "鉄筋"}])
    services.routes[("GET", "/workers/99000000000006/outlook")] = reply(200, DETAIL)


def names(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>\d{14}</td>\s*<td>([^<]+)</td>", html)


async def test_the_table_sorts_filters_and_adds_to_the_draft(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    _script(services)
    page = await client.get("/outlook", headers=HTML)
    assert page.status_code == 200, page.text
    assert names(page.text) == ["佐藤 大輔", "濵田 由美", "𠮷野 翔太"]  # by name
    assert "資格コード誤登録の可能性" in page.text and "2028-01" in page.text
    add = (
        "/applications/AP-20261201-AAAAAA/lines/new?worker_id=99000000000006"
        '&amp;trade=%E7%A1%9D%E5%AD%90%E5%B7%A5%E4%BA%8B&amp;level=2">代行申請に追加'
        '<span class="visually-hidden">（濵田 由美）</span>'
    )
    assert add in page.text
    assert "worker_id=99000000000004" not in page.text  # 簡略型: cannot apply now
    by_level = await client.get("/outlook?sort=level&order=desc", headers=HTML)
    assert names(by_level.text) == ["𠮷野 翔太", "濵田 由美", "佐藤 大輔"]
    by_month = await client.get("/outlook?sort=month", headers=HTML)
    assert names(by_month.text) == ["濵田 由美", "𠮷野 翔太", "佐藤 大輔"]  # none last
    ready = await client.get("/outlook?ready=1", headers=HTML)
    assert set(names(ready.text)) == {"濵田 由美", "𠮷野 翔太"}
    glass = await client.get("/outlook?trade=硝子工事", headers=HTML)
    assert names(glass.text) == ["濵田 由美"]
    asked = [url for method, url, _, _ in services.sent if "/outlook" in url]
    assert asked[-1].endswith("/outlook?trade=%E7%A1%9D%E5%AD%90%E5%B7%A5%E4%BA%8B")  # asked for
    # no draft: the button leads to the 代行申請 list, where one is made
    services.routes[("GET", "/applications")] = reply(200, [])
    nodraft = await client.get("/outlook", headers=HTML)
    assert 'href="/applications">代行申請に追加' in nodraft.text


async def test_the_detail_shows_every_criterion_and_the_csv_has_a_bom(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    _script(services)
    page = await client.get("/outlook?worker=99000000000006&detail_trade=硝子工事", headers=HTML)
    assert page.status_code == 200, page.text
    detail = page.text.split('id="detail"')[1]
    assert "就業日数あと85日" in detail and "1級ガラス施工技能士〔10101〕" in detail
    assert "他に可：2級建築施工管理技士" in detail and "誤登録の可能性" in detail
    assert "不足" in detail and "2028-01" in detail
    sent = [url for method, url, *_ in services.sent if "/workers/99000000000006/outlook" in url]
    assert sent and "trade=" in sent[-1]

    got = await client.get("/outlook.csv?ready=1&sort=level")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["技能者ID", "氏名", "分野"]
    assert [r[1] for r in table[1:]] == ["濵田 由美", "𠮷野 翔太"]
    assert table[1][3:8] == ["レベル2", "レベル3", "就業日数あと300日", "2028-01", "可"]


async def test_the_screen_is_for_employers(portal: Portal) -> None:
    client, _ = portal
    page = await client.get("/outlook", headers=HTML)
    assert page.status_code in (302, 303, 401)
