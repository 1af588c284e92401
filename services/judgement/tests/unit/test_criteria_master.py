"""The criteria master (基準マスタ): content, schema, versions, refusals, extension by data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from judgement.core.errors import CriteriaNotAvailable, MasterError, UnknownTrade
from judgement.core.master import Master, build_master
from judgement.criteria import load_master, read_document
from judgement.criteria.schema import SCHEMA_FILE
from judgement.criteria.schema import main as schema_main

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "judgement" / "criteria"

# trades.md (2026-12-07): the 48 named 分野 of the 49 (one name is not known).
TRADES_MD = [
    "鉄筋",
    "電気工事",
    "建築大工",
    "配管",
    "硝子工事",
    "とび",
    "防水施工",
    "型枠",
    "左官",
    "内装仕上",
    "建設塗装",
    "機械土工",
    "土工",
    "タイル張り",
    "建築板金",
    "外壁仕上",
    "ダクト",
    "冷凍空調",
    "保温保冷",
    "消防施設",
    "エクステリア",
    "造園",
    "運動施設",
    "道路標識・路面標示",
    "圧接",
    "コンクリート圧送",
    "橋梁",
    "トンネル",
    "PC",
    "海上起重",
    "切断穿孔",
    "グラウト",
    "基礎ぐい工事",
    "サッシ・カーテンウォール",
    "ALC",
    "ウレタン断熱",
    "発破・破砕",
    "建築測量",
    "圧入",
    "解体",
    "計装工事",
    "土質改良",
    "潜函",
    "住宅建築関連",
    "石材施工",
    "斜面防災",
    "道路等法面保護工事",
    "都市トンネル",
]

JUDGEABLE = {
    "鉄筋": "鉄筋@2019-10-08",
    "電気工事": "電気工事@2020-02-05",
    "建築大工": "建築大工@2020-03-31",
    "配管": "配管@2020-03-31",
    "硝子工事": "硝子工事@2020-03-31",
    "とび": "とび@2020-03-04",
    "防水施工": "防水施工@2020-03-31",
}
TODAY = date(2026, 11, 1)


def test_every_named_trade_of_trades_md_is_in_the_master(master: Master) -> None:
    assert len(TRADES_MD) == 48
    assert sorted(master.trades) == sorted(TRADES_MD)


def test_exactly_the_seven_tables_of_the_spec_are_judgeable(master: Master) -> None:
    judgeable = {
        name: trade.table_on(TODAY).version
        for name, trade in master.trades.items()
        if trade.judgeable and trade.table_on(TODAY)
    }
    assert judgeable == JUDGEABLE
    for name in JUDGEABLE:
        assert master.trades[name].status == "table"
    for name in set(TRADES_MD) - set(JUDGEABLE):
        assert master.trades[name].status in {"partial", "none"}


def test_every_table_has_source_date_and_three_levels(master: Master) -> None:
    for name in JUDGEABLE:
        table = master.table_for(name, TODAY)
        assert table.source
        assert set(table.levels) == {2, 3, 4}
        assert table.effective_from <= TODAY


def test_day_thresholds_are_the_spec_tables(master: Master) -> None:
    expected = {
        "鉄筋": ((645, None, 0), (1505, "職長又は班長", 645), (2150, "職長", 645)),
        "電気工事": ((645, None, 0), (1075, "職長又は班長", 215), (2150, "職長", 645)),
        "建築大工": ((645, None, 0), (1505, "職長又は班長", 108), (2150, "職長", 645)),
        "配管": ((645, None, 0), (1505, "職長又は班長", 215), (2150, "職長", 645)),
        "硝子工事": ((645, None, 0), (1075, "職長又は班長", 645), (2150, "職長", 645)),
        "防水施工": ((645, None, 0), (1505, "職長又は班長", 215), (2150, "職長", 645)),
        "とび": ((645, None, 0), (1720, "職長又は班長", 430), (2580, "職長", 1505)),
    }
    for name, levels in expected.items():
        table = master.table_for(name, TODAY)
        got = tuple(
            (table.levels[n].days, table.levels[n].foreman_scope, table.levels[n].foreman_days)
            for n in (2, 3, 4)
        )
        assert got == levels, name


def test_tobi_is_provisional_and_filters_its_occupation(master: Master) -> None:
    table = master.table_for("とび", TODAY)
    assert table.provisional is True
    assert table.levels[4].provisional is True
    assert master.trades["とび"].occupation_codes(TODAY) == frozenset({"06-01"})
    assert master.trades["鉄筋"].occupation_codes(TODAY) is None
    assert master.trades["電気工事"].occupation_codes(TODAY) == frozenset({"09-01", "09-10"})
    assert len(master.trades["建築大工"].occupation_codes(TODAY) or ()) == 9


def test_qualification_codes_and_aliases(master: Master) -> None:
    assert master.item_by_code("40040") == "玉掛け技能講習"
    assert master.item_by_code("00001") == "登録電気工事基幹技能者"
    assert master.item_by_code("31018") == "第一種電気工事士免状取得者"
    assert master.item_by_code("31073") == "第一種電気工事士試験合格者"
    assert master.item_by_code("00016") == "登録鳶・土工基幹技能者"
    assert (
        master.item_by_code("60001") == master.item_by_code("60011") == "職長・安全衛生責任者教育"
    )
    assert master.item_by_code("49999") is None
    assert master.item_by_name("玉掛技能講習") == "玉掛け技能講習"
    assert master.item_by_name("一級鉄筋施工技能士") == "1級鉄筋施工技能士"
    assert master.item_by_name("１級鉄筋施工技能士") == "1級鉄筋施工技能士"
    assert master.item_by_name("第1種電気工事士免状取得者") == "第一種電気工事士免状取得者"
    assert master.item_by_name("建設マスター") == "優秀施工者国土交通大臣顕彰"
    assert master.item_by_name("現代の名工") == "卓越した技能者"


def test_supersedes_relations(master: Master) -> None:
    assert dict(master.closure("1級とび技能士", with_higher=True)) == {
        "1級とび技能士": "direct",
        "2級とび技能士": "higher",
    }
    assert dict(master.closure("1級とび技能士", with_higher=False)) == {"1級とび技能士": "direct"}
    first_class = master.closure("第一種電気工事士免状取得者", with_higher=True)
    assert first_class["第二種電気工事士免状取得者"] == "higher"
    assert first_class["第一種電気工事士試験合格者"] == "higher"
    # 「1級又は2級…」 is one item, held directly through either grade
    assert master.closure("2級建築施工管理技士", with_higher=True)[
        "1級又は2級建築施工管理技士"
    ] == ("direct")
    assert master.closure("1級建築施工管理技士", with_higher=True) == {
        "1級建築施工管理技士": "direct",
        "2級建築施工管理技士": "higher",
        "1級又は2級建築施工管理技士": "direct",
    }
    for higher, lower in [
        ("1級建築大工技能士", "2級建築大工技能士"),
        ("1級配管技能士", "2級配管技能士"),
        ("1級ガラス施工技能士", "2級ガラス施工技能士"),
        ("1級防水施工技能士", "2級防水施工技能士"),
        ("1級管工事施工管理技士", "2級管工事施工管理技士"),
        ("1級土木施工管理技士", "2級土木施工管理技士"),
    ]:
        assert master.closure(higher, with_higher=True)[lower] == "higher"


def test_trade_without_criteria_is_refused_naming_its_body(master: Master) -> None:
    with pytest.raises(CriteriaNotAvailable) as refused:
        master.table_for("型枠", TODAY)
    assert refused.value.message_ja == (
        "この分野の判定基準はまだ登録されていません（能力評価実施団体：一般社団法人日本型枠工事業協会）"
    )
    with pytest.raises(CriteriaNotAvailable) as refused:
        master.table_for("左官", TODAY)
    assert refused.value.message_ja == (
        "この分野の判定基準はまだ登録されていません"
        "（能力評価実施団体：日本左官業組合連合会（未確認））"
    )
    with pytest.raises(CriteriaNotAvailable) as refused:
        master.table_for("解体", TODAY)
    assert "公益社団法人全国解体工事業団体連合会（判定：一般社団法人日本機械土工協会）" in (
        refused.value.message_ja
    )


def test_unknown_trade_is_a_clear_error(master: Master) -> None:
    with pytest.raises(UnknownTrade) as unknown:
        master.trade("宇宙工事")
    assert unknown.value.message_ja == "分野「宇宙工事」は基準マスタに登録されていません"


def test_trade_names_are_matched_after_nfkc_and_aliases(master: Master) -> None:
    assert master.trade("ＰＣ").name == "PC"
    assert master.trade("鳶").name == "とび"
    assert master.trade(" 鉄筋 ").name == "鉄筋"


def test_application_before_a_table_took_effect_is_refused(master: Master) -> None:
    with pytest.raises(CriteriaNotAvailable, match="2019-10-08から有効"):
        master.table_for("鉄筋", date(2019, 10, 7))
    assert master.table_for("鉄筋", date(2019, 10, 8)).version == "鉄筋@2019-10-08"


def test_schema_file_is_up_to_date() -> None:
    assert schema_main(["--check"]) == 0


def test_every_packaged_file_validates_against_the_json_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    files = sorted((PACKAGE / "master").rglob("*.yaml"))
    assert len(files) == 10
    for path in files:
        content = json.loads(json.dumps(yaml.safe_load(path.read_text("utf-8")), default=str))
        jsonschema.validate(content, schema)


# ------------------------------------------------------------------ adding a trade by data


def test_an_extra_trade_loads_from_a_fixture_file_without_code(h: Any) -> None:
    extended = load_master([h.fixtures / "extra" / "extra_trade.yaml"])
    assert len(extended.trades) == 49
    table = extended.table_for("試験施工", date(2026, 12, 1))
    assert table.version == "試験施工@2026-12-01"
    assert table.levels[2].days == 430
    # the same master still refuses 型枠 before its (fixture) table takes effect …
    with pytest.raises(CriteriaNotAvailable):
        extended.table_for("型枠", date(2027, 3, 31))
    # … and judges it from then on
    assert extended.table_for("型枠", date(2027, 4, 1)).version == "型枠@2027-04-01"


def test_extra_master_directories_are_read_recursively(h: Any) -> None:
    extended = load_master([h.fixtures / "extra"])
    assert "試験施工" in extended.trades


def test_a_settings_file_overrides_single_policies(h: Any) -> None:
    extended = load_master([h.fixtures / "half_up.yaml"])
    assert extended.settings.pre_ccus_days_rounding == "half_up"
    assert extended.settings.days_per_year == 215
    assert extended.settings.months_to_days(6) == 108
    assert load_master().settings.months_to_days(6) == 107


# ------------------------------------------------------------------ invalid masters


def _packaged_plus(tmp_path: Path, text: str) -> Master:
    extra = tmp_path / "extra.yaml"
    extra.write_text(text, encoding="utf-8")
    return load_master([extra])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("trades:\n  - {name: 鉄筋, in_force: '2020', status: none}\n", "also defined"),
        (
            "tables:\n  - {trade: 左官, effective_from: 2026-01-01, source: x, levels: "
            "{2: {days: 645}, 3: {days: 1}}}\n",
            "levels must be exactly 2, 3 and 4",
        ),
        (
            "tables:\n  - {trade: 左官, effective_from: 2026-01-01, source: x, levels: "
            "{2: {days: 645, qualifications: 存在しない資格}, 3: {days: 1}, 4: {days: 2}}}\n",
            "unknown qualification",
        ),
        ("qualifications:\n  - {name: X, codes: [40040], category: 技能講習}\n", "codes"),
        ("qualifications:\n  - {name: X, codes: ['40040'], category: 技能講習}\n", "belongs to"),
        ("trades:\n  - {name: 新分野, in_force: '2026', status: table}\n", "no table is loaded"),
        ("settings:\n  days_per_year: 0\n", "days_per_year"),
        ("tables: [\n", "not valid YAML"),
    ],
)
def test_invalid_master_files_are_rejected_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(MasterError) as error:
        _packaged_plus(tmp_path, text)
    assert "extra.yaml" in str(error.value)
    assert problem in str(error.value)


def test_a_master_without_settings_is_rejected() -> None:
    with pytest.raises(MasterError, match="settings missing"):
        build_master([("only.yaml", read_document("only.yaml", "trades: []\n"))])


def test_a_missing_extra_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MasterError, match="no such master file"):
        load_master([tmp_path / "nope.yaml"])
