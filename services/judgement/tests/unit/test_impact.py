"""影響確認 (``judgement.core.impact``): who is of a 分野, the preview date, counts, the
wording of the criterion that changed an outcome, the sample and the CSV (UTF-8 BOM,
Japanese header). Both masters are built with ``load_master(extra=[yaml file])``: the
drafted one adds a とび table from 2025-04-01 written from the packaged one."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from judgement.core import impact
from judgement.core.compact import CompactCcus, from_parts
from judgement.core.master import Master
from judgement.criteria import default_master, load_master

PACKAGED = Path(impact.__file__).resolve().parents[1] / "criteria" / "master" / "tables"
DRAFT_FROM = date(2025, 4, 1)
ON = date(2026, 12, 7)
TOBI_L2 = [
    ("40040", "玉掛け技能講習", date(2010, 1, 1)),
    ("60001", "職長・安全衛生責任者教育", date(2011, 1, 1)),
    ("40011", "足場の組立て等作業主任者技能講習", date(2012, 1, 1)),
]
TOBI_L3 = [
    *TOBI_L2,
    ("40010", "型枠支保工の組立て等作業主任者技能講習", date(2013, 1, 1)),
    ("10902", "2級とび技能士", date(2014, 1, 1)),
]


def drafted_master(
    tmp_path: Path, replacements: list[tuple[str, str]], name: str = "tobi.yaml"
) -> Master:
    """The packaged master plus a new table of the 分野 from 2025-04-01, edited."""
    text = (PACKAGED / name).read_text(encoding="utf-8")
    text = text[text.index("tables:") :]
    effective = next(
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.strip().startswith("effective_from:")
    )
    text = text.replace(f"effective_from: {effective}", f"effective_from: {DRAFT_FROM}", 1)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"draft-{name}"
    path.write_text(text, encoding="utf-8")
    return load_master([path])


def worker(
    days: int,
    quals: list[tuple[str, str, date]],
    *,
    role: str = "leader",
    occupation: str | None = "06-01",
    registered: date = date(2019, 4, 1),
) -> CompactCcus:
    return from_parts(
        "detailed",
        registered,
        quals,
        [(registered + timedelta(days=n), role, occupation) for n in range(days)],
    )


@pytest.fixture(scope="module")
def in_force() -> Master:
    return default_master()


@pytest.fixture
def draft(tmp_path: Path) -> Callable[..., Master]:
    def build(*replacements: tuple[str, str], name: str = "tobi.yaml") -> Master:
        return drafted_master(tmp_path, list(replacements), name)

    return build


def test_the_preview_date_is_today_unless_the_drafted_table_starts_later(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    drafted = draft()
    assert impact.preview_date("とび", in_force, drafted, ON) == ON
    assert impact.preview_date("とび", in_force, drafted, date(2024, 1, 1)) == DRAFT_FROM
    assert impact.preview_date("とび", in_force, in_force, date(2024, 1, 1)) == date(2024, 1, 1)


def test_who_is_of_the_trade(in_force: Master, draft: Callable[..., Master]) -> None:
    tobi = impact.Membership("とび", in_force, draft(), ON)
    assert tobi.occupations == frozenset({"06-01"})
    assert tobi(worker(10, [], occupation="06-01"))
    assert tobi(worker(10, [], occupation="0601"))  # normalised
    assert not tobi(worker(10, TOBI_L3, occupation="06-02"))  # とび qualifications, other work
    assert not tobi(worker(10, TOBI_L3, occupation=None))
    # 鉄筋 lists no 職種: its workers are those holding one of its table's qualifications
    tekkin = impact.Membership("鉄筋", in_force, draft(name="tekkin.yaml"), ON, ["1" * 14])
    assert tekkin.occupations is None
    assert {"1級鉄筋施工技能士", "2級鉄筋施工技能士", "登録鉄筋基幹技能者"} <= tekkin.items
    assert "玉掛け技能講習" not in tekkin.items  # every table names it: not a 鉄筋 mark
    assert tekkin(worker(10, [(None, "2級鉄筋施工技能士", date(2015, 1, 1))], occupation=None))
    assert tekkin(worker(0, [(None, "１級 鉄筋施工技能士", date(2015, 1, 1))]))  # by name
    assert not tekkin(worker(900, TOBI_L2, occupation=None))
    assert tekkin(worker(900, TOBI_L2, occupation=None), "1" * 14)  # applied for 鉄筋


def test_counts_and_the_criterion_that_changed_each_outcome(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    drafted = draft(("        days: 645\n", "        days: 800\n"), ("days: 1720", "days: 1300"))
    tally = impact.Tally()
    cases = {
        "up": worker(1500, TOBI_L3),  # 1,500 days: L3 needs 1,720 now, 1,300 drafted
        "down": worker(700, TOBI_L2),  # 700 days: L2 needs 645 now, 800 drafted
        "same": worker(100, TOBI_L3),
        "other-work": worker(1500, TOBI_L3, occupation="06-02"),  # days not counted: L1 both
    }
    found = {}
    for name, ccus in cases.items():
        outcome = impact.judge_both(ccus, "とび", in_force, drafted, ON)
        assert outcome is not None
        found[name] = tally.add("worker", outcome, worker_id=name, on=ON)
    assert tally.workers == {"up": 1, "down": 1, "unchanged": 2}
    up, down = found["up"], found["down"]
    assert up is not None and down is not None
    assert (up.before, up.after, up.direction) == (2, 3, "up")
    assert up.criterion_ja == "レベル3：就業日数 1,720日 → 1,300日"
    assert (down.before, down.after) == (2, 1)
    assert down.criterion_ja == "レベル2：就業日数 645日 → 800日"
    assert found["same"] is None and found["other-work"] is None
    assert up.version_before == "とび@2020-03-04" and up.version_after == "とび@2025-04-01"
    # a line applied for before the drafted table: the same table both ways
    line = impact.judge_both(cases["up"], "とび", in_force, drafted, date(2025, 3, 31))
    assert line is not None and line.direction == "unchanged"


def test_wording_of_foreman_and_qualification_changes(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    foreman = draft(
        ("foreman: {scope: 職長又は班長, days: 430}", "foreman: {scope: 職長, days: 300}")
    )
    outcome = impact.judge_both(worker(1800, TOBI_L3), "とび", in_force, foreman, ON)
    assert outcome is not None and outcome.direction == "down"
    assert impact.what_changed(outcome) == (
        "レベル3：職長又は班長としての就業日数 430日 → 職長としての就業日数 300日"
    )
    more = draft(
        ("foreman: {scope: 職長又は班長, days: 430}", "foreman: {scope: 職長又は班長, days: 500}")
    )
    start = date(2019, 4, 1)
    leader_450 = from_parts(
        "detailed",
        start,
        TOBI_L3,
        [(start + timedelta(days=n), "leader" if n < 450 else None, "06-01") for n in range(1800)],
    )
    outcome = impact.judge_both(leader_450, "とび", in_force, more, ON)
    assert outcome is not None and (outcome.level_before, outcome.level_after) == (3, 2)
    assert impact.what_changed(outcome) == "レベル3：職長又は班長としての就業日数 430日 → 500日"
    unchanged = impact.judge_both(worker(1800, TOBI_L3), "とび", in_force, more, ON)
    assert unchanged is not None and impact.what_changed(unchanged) == "変化なし"
    # level 2 no longer accepts 足場の組立て等作業主任者技能講習 alone: one more needed
    stricter = draft(
        ("{at_least: 1, of: [{pool: とび技能講習}]}", "{at_least: 2, of: [{pool: とび技能講習}]}")
    )
    outcome = impact.judge_both(worker(700, TOBI_L2), "とび", in_force, stricter, ON)
    assert outcome is not None and outcome.direction == "down"
    text = impact.what_changed(outcome)
    assert (
        text.startswith("レベル2：保有資格 「次のうち1つ以上：") and "→ 「次のうち2つ以上：" in text
    )


def test_the_sample_takes_workers_and_lines_alternately_up_to_50(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    drafted = draft(("        days: 645\n", "        days: 800\n"))
    outcome = impact.judge_both(worker(700, TOBI_L2), "とび", in_force, drafted, ON)
    assert outcome is not None
    total = impact.Tally()
    for chunk in range(3):
        part = impact.Tally()
        for i in range(40):
            part.add("worker", outcome, worker_id=f"W{chunk}-{i}", on=ON)
        for i in range(5):
            part.add("line", outcome, worker_id="W", line_id=f"L{chunk}-{i}", on=ON)
        total.merge(part)
    assert total.workers["down"] == 120 and total.lines["down"] == 15
    sample = total.sample()
    assert len(sample) == impact.SAMPLE_SIZE
    assert [s["kind"] for s in sample[:4]] == ["worker", "line", "worker", "line"]
    assert sum(s["kind"] == "line" for s in sample) == 15
    assert sample[0]["worker_id"] == "****" and sample[0]["criterion_ja"].startswith("レベル2")
    assert sample[0]["change_ja"] == "低下" and sample[1]["kind_ja"] == "申請明細"


def test_the_csv_is_utf8_with_a_bom_and_a_japanese_header(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    drafted = draft(("days: 1720", "days: 1300"))
    outcome = impact.judge_both(worker(1500, TOBI_L3), "とび", in_force, drafted, ON)
    assert outcome is not None
    tally = impact.Tally()
    tally.add("worker", outcome, worker_id="99000000000003", on=ON)
    tally.add(
        "line", outcome, worker_id="99000000000003", line_id="A-1-1", on=ON, requested_level=3
    )
    data = b"".join(impact.csv_document([impact.csv_rows(tally.changes)]))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(impact.CSV_HEADER)
    assert rows[0][:3] == ["区分", "技能者ID", "申請明細ID"]
    assert rows[1] == [
        "技能者",
        "9900******0003",
        "",
        "2026-12-07",
        "4",
        "2",
        "3",
        "上昇",
        "レベル3：就業日数 1,720日 → 1,300日",
        "とび@2020-03-04",
        "とび@2025-04-01",
    ]
    assert rows[2][:3] == ["申請明細", "9900******0003", "A-1-1"] and rows[2][4] == "3"
    assert "\r\n" in text


def test_a_trade_without_criteria_in_force_counts_from_level_1(
    in_force: Master, draft: Callable[..., Master]
) -> None:
    # before any とび table (2020-03-04) nothing can be judged in force
    early = date(2020, 3, 1)
    assert impact.judge_both(worker(700, TOBI_L2), "とび", in_force, in_force, early) is None
    drafted = draft()
    after = impact.judge_both(worker(700, TOBI_L2), "とび", drafted, drafted, ON)
    assert after is not None and after.after is not None
    outcome = impact.Outcome(None, after.after)  # a first table for a 分野 without one
    assert (outcome.level_before, outcome.level_after, outcome.direction) == (1, 2, "up")
    assert impact.what_changed(outcome) == "判定基準 判定基準なし → とび@2025-04-01"
