"""基準管理 pages' pure helpers (portal.core.criteria): wording, trees, the structured draft
form both ways, its buttons, and where the service's problems are shown."""

from __future__ import annotations

from typing import Any

import pytest

from portal.core import criteria as core

pytestmark = pytest.mark.unit

TOBI: dict[str, Any] = {  # the shape of the packaged とび table (pools, at_least, nesting)
    "source": "とび技能者能力評価基準",
    "pools": {
        "とび技能講習": {"items": ["足場の組立て等作業主任者技能講習", "高所作業車運転技能講習"]}
    },
    "levels": {
        "2": {
            "days": 645,
            "qualifications": {
                "all_of": [
                    "玉掛け技能講習",
                    "職長・安全衛生責任者教育",
                    {"at_least": 1, "of": [{"pool": "とび技能講習"}]},
                ]
            },
        },
        "3": {
            "days": 1720,
            "foreman": {"scope": "職長又は班長", "days": 430},
            "qualifications": {
                "any_of": [
                    "1級とび技能士",
                    {"at_least": 3, "of": ["2級とび技能士", {"pool": "とび技能講習"}]},
                ]
            },
        },
        "4": {
            "days": 2580,
            "foreman": {"scope": "職長", "days": 1505},
            "provisional": True,
            "qualifications": {"any_of": ["登録鳶・土工基幹技能者", "優秀施工者国土交通大臣顕彰"]},
        },
    },
}
DENKI_L3 = {
    "any_of": [
        "第一種電気工事士免状取得者",
        {"all_of": ["第一種電気工事士試験合格者", "認定電気工事従事者"], "min_days": 1505},
    ]
}


def test_versions_read_by_trade_and_date_never_by_id() -> None:
    assert core.version_label("鉄筋@2019-10-08") == "鉄筋（2019年10月8日施行）"
    assert core.version_label("とび@2020-03-04-r2") == "とび（2020年3月4日施行、訂正2）"
    assert core.version_label(None) == ""
    assert core.version_label("something else") == "something else"
    assert core.version_name("型枠", "2026-12-08", 1) == "型枠（2026年12月8日施行）"
    assert core.trade_status_ja("judgeable") == "判定可"
    assert core.trade_status_ja("partial") == "一部"
    assert core.trade_status_ja("none") == "未登録"
    assert core.draft_kind_ja({"corrects": "鉄筋@2019-10-08"}) == "鉄筋（2019年10月8日施行）の訂正"
    assert core.draft_kind_ja({"corrects": None}) == "新しい版"


def test_version_ids_in_the_services_texts_read_as_names() -> None:
    assert core.relabel("判定基準 判定基準なし → 型枠@2026-12-08") == (
        "判定基準 判定基準なし → 型枠（2026年12月8日施行）"
    )
    assert core.relabel("版「鉄筋@2019-10-08-r2」は訂正されています") == (
        "版「鉄筋（2019年10月8日施行、訂正2）」は訂正されています"
    )
    assert (
        core.relabel("レベル3：就業日数 1,720日 → 1,300日") == "レベル3：就業日数 1,720日 → 1,300日"
    )
    assert core.number(12345) == "12,345" and core.number(None) == ""


def test_numbers_are_normalised_and_anything_else_is_sent_as_typed() -> None:
    assert core.number_of("６４５") == 645
    assert core.number_of(" 1,505 ") == 1505
    assert core.number_of("") is None
    assert core.number_of("六百") == "六百"  # the service says why, next to the field
    assert core.split_list("40040、40041\n40042, ") == ["40040", "40041", "40042"]


def test_a_packaged_table_survives_the_form_both_ways() -> None:
    form = core.TableForm.from_content(TOBI, [])
    table = form.table()
    assert table["levels"]["2"]["qualifications"] == TOBI["levels"]["2"]["qualifications"]
    assert table["levels"]["3"] == TOBI["levels"]["3"]
    assert table["levels"]["4"] == TOBI["levels"]["4"]
    assert table["pools"] == TOBI["pools"]
    # and through the posted fields, as the browser sends them back
    fields = _posted(form)
    again = core.TableForm.from_fields(fields).table()
    assert again["levels"] == table["levels"]
    assert again["pools"] == table["pools"]
    denki = core.TableForm.from_content({"levels": {"3": {"qualifications": DENKI_L3}}}, [])
    assert denki.table()["levels"]["3"]["qualifications"] == DENKI_L3


def test_a_root_item_becomes_a_group_of_one_and_unreadable_nodes_are_kept() -> None:
    form = core.TableForm.from_content(
        {"levels": {"2": {"qualifications": "玉掛け技能講習"}, "3": {"qualifications": {"x": 1}}}},
        [],
    )
    assert form.levels[2].qualifications is not None
    assert form.levels[2].qualifications.kind == "all_of"
    assert form.table()["levels"]["2"]["qualifications"] == {"all_of": ["玉掛け技能講習"]}
    assert form.table()["levels"]["3"]["qualifications"] == {"x": 1}  # as it was


def test_empty_levels_are_left_out_so_the_service_reports_them_missing() -> None:
    form = core.TableForm.from_content({"levels": {"2": {"days": 645}}}, [])
    assert sorted(form.levels) == [2, 3, 4]  # always shown
    assert list(form.table()["levels"]) == ["2"]


def test_the_buttons_change_the_tree_without_saving() -> None:
    form = core.TableForm.from_content({}, [])
    assert form.apply("root|3", {}) == "レベル3に保有資格の条件を追加しました。"
    root = "levels.3.qualifications"
    assert (
        form.apply(f"add|{root}|1級型枠施工技能士", {}) == "「1級型枠施工技能士」を追加しました。"
    )
    assert form.apply(f"group|{root}", {}) is not None
    assert form.apply(f"add|{root}.c.1|玉掛け技能講習", {})
    tree = form.table()["levels"]["3"]["qualifications"]
    assert tree == {"all_of": ["1級型枠施工技能士", {"any_of": ["玉掛け技能講習"]}]}
    assert form.apply(f"remove|{root}.c.0", {}) == "「1級型枠施工技能士」を削除しました。"
    assert form.table()["levels"]["3"]["qualifications"] == {
        "all_of": [{"any_of": ["玉掛け技能講習"]}]
    }
    assert form.apply("newpool", {"newpool.name": "技能講習"})
    assert form.apply("add|pools.0|高所作業車運転技能講習", {})
    assert form.apply(f"addpool|{root}", {f"pick.{root}": "技能講習"})
    assert form.table()["pools"] == {"技能講習": {"items": ["高所作業車運転技能講習"]}}
    assert form.apply("newqual", {}) == "新しい資格の入力欄を追加しました。"
    assert form.apply(f"remove|{root}", {}) == "レベル3の保有資格の条件を削除しました。"
    assert "qualifications" not in form.table()["levels"].get("3", {})
    assert form.apply("bogus|x", {}) is None


def test_new_qualifications_are_proposed_and_found_by_name_or_code() -> None:
    form = core.TableForm.from_fields(
        {
            "new_qualifications.0.name": "1級型枠施工技能士",
            "new_qualifications.0.codes": "10301",
            "new_qualifications.0.category": "技能士",
            "new_qualifications.1.name": "",  # an empty row is left out
        }
    )
    assert form.qualifications() == [
        {
            "name": "1級型枠施工技能士",
            "codes": ["10301"],
            "aliases": [],
            "includes": [],
            "supersedes": [],
            "category": "技能士",
        }
    ]
    assert [p["name"] for p in core.search_proposals(form, "型枠")] == ["1級型枠施工技能士"]
    assert [p["name"] for p in core.search_proposals(form, "10301")] == ["1級型枠施工技能士"]
    assert core.search_proposals(form, "鉄筋") == []


def test_each_problem_lands_next_to_its_field_or_its_nearest_shown_parent() -> None:
    form = core.TableForm.from_content(TOBI, [{"name": "X", "codes": ["1"]}])
    problems = [
        {"path": "source", "message_ja": "出典を入力してください"},
        {
            "path": "table.levels.3.days",
            "message_ja": "レベル3の就業日数は0以上の整数で入力してください",
        },
        {"path": "levels.3.qualifications.any_of.1.at_least", "message_ja": "3つ以上は多すぎます"},
        {"path": "levels.2.qualifications.all_of.0", "message_ja": "カタログにありません"},
        {"path": "levels.2.qualifications.all_of.2.of.0.pool", "message_ja": "プールがありません"},
        {"path": "pools.とび技能講習.items.1", "message_ja": "資格がありません"},
        {"path": "new_qualifications.0.codes.0", "message_ja": "5桁の数字で"},
        {"path": "levels.4", "message_ja": "レベル4の基準が入力されていません"},
        {"path": "", "message_ja": "基準マスタとして読み込めません"},
    ]
    placed, loose = core.place_problems(problems, form)
    assert placed["source"] == "出典を入力してください"
    assert placed["levels.3.days"].startswith("レベル3の就業日数")
    assert placed["levels.3.qualifications.c.1.at_least"] == "3つ以上は多すぎます"
    assert placed["levels.2.qualifications.c.0"] == "カタログにありません"
    assert placed["levels.2.qualifications.c.2.c.0"] == "プールがありません"
    assert placed["pools.0.items.1"] == "資格がありません"
    assert placed["new_qualifications.0.codes"] == "5桁の数字で"
    assert placed["levels.4"] == "レベル4の基準が入力されていません"
    assert loose == ["基準マスタとして読み込めません"]


def test_trees_read_as_the_official_criteria() -> None:
    catalogue = core.catalogue_of(
        [{"name": "玉掛け技能講習", "codes": ["40040"], "category": "技能講習"}],
        [{"name": "1級型枠施工技能士", "codes": ["10301"], "category": "技能士"}],
    )
    view = core.tree_view(TOBI["levels"]["2"]["qualifications"], core.pools_of(TOBI), catalogue)
    assert view is not None and view["kind"] == "all_of"
    first, _, third = view["children"]
    assert first == {
        "kind": "item",
        "item": "玉掛け技能講習",
        "codes": ["40040"],
        "category": "技能講習",
        "known": True,
        "proposed": False,
    }
    assert third["kind"] == "at_least" and third["at_least"] == 1
    assert [c["item"] for c in third["children"]] == TOBI["pools"]["とび技能講習"]["items"]
    proposed = core.tree_view("1級型枠施工技能士", {}, catalogue)
    assert proposed is not None and proposed["proposed"] and proposed["codes"] == ["10301"]
    rows = core.levels_view(TOBI, catalogue)
    assert [r["level"] for r in rows] == [2, 3, 4]
    assert rows[1]["foreman_scope"] == "職長又は班長" and rows[1]["foreman_days"] == 430


def test_diff_groups_and_progress() -> None:
    groups = core.diff_groups(
        [
            {"level": 3, "criterion": "days"},
            {"level": None, "criterion": "catalogue"},
            {"level": 2, "criterion": "days"},
        ]
    )
    assert [title for title, _ in groups] == ["レベル2", "レベル3", "表全体・資格カタログ"]
    assert core.percent(50, 200) == 25
    assert core.percent(0, None) is None
    assert core.percent(0, 0) == 100


def _posted(form: core.TableForm) -> dict[str, str]:
    """The fields a browser sends for ``form`` (what the template renders)."""
    fields = {k: v for k, v in form.flat().items()}
    for at, node in form.nodes():
        fields[f"{at}.kind"] = node.kind
        for name in ("item", "label", "pool", "at_least", "min_days", "raw"):
            if getattr(node, name):
                fields[f"{at}.{name}"] = getattr(node, name)
    for number, level in form.levels.items():
        if level.provisional:
            fields[f"levels.{number}.provisional"] = "on"
    for p, pool in enumerate(form.pools):
        for j, item in enumerate(pool.items):
            fields[f"pools.{p}.items.{j}"] = item
    return fields
