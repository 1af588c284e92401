"""A line's current 結果通知書 and its 更新履歴 after re-judgements (pure helpers)."""

from __future__ import annotations

from typing import Any

from portal.core.formatting import result_ja
from portal.core.results import (
    current_notice,
    history_rows,
    notice_missing,
    notice_sequence,
    notices_by_line,
)
from shared_kernel.labels import level_ja

LINE = "AP-20261129-ABC123-01"


def notice(suffix: str = "", superseded_by: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "notice_id": f"RN-{LINE}{suffix}",
        "line_id": LINE,
        "judgement_id": f"J-{LINE}{suffix}",
        "superseded_by": superseded_by,
        **extra,
    }


def judged(sequence: int, decision: str, level: int, **extra: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "judgement_id": f"J-{LINE}" + (f"-{sequence}" if sequence > 1 else ""),
        "decision": decision,
        "eligible_level": level,
        "criteria_version": "2026-04",
        "judged_at": "2026-12-01T01:00:00+00:00",
        "rejudgement_run_id": None,
        "rejudgement_reason": None,
        "requested_by": None,
        "supersedes": None,
        **extra,
    }


def test_a_notices_sequence_is_its_field_else_read_from_its_number_as_a_number() -> None:
    assert notice_sequence(notice(sequence=3)) == 3
    assert notice_sequence(notice()) == 1
    assert notice_sequence(notice("-2")) == 2
    assert notice_sequence(notice("-10")) == 10
    assert notice_sequence({"notice_id": "RN-X-2"}) == 1  # no line to read the number against


def test_the_current_notice_is_never_a_superseded_one() -> None:
    first = notice(sequence=1, superseded_by=f"RN-{LINE}-2")
    second = notice("-2", sequence=2)
    assert current_notice([second, first]) == second
    assert current_notice([first, second]) == second  # whatever the service's order
    assert current_notice([first]) is None  # the newer one is missing: hand out nothing old
    assert current_notice([]) is None


def test_of_several_current_notices_the_highest_sequence_wins_10_after_2() -> None:
    two, ten = notice("-2"), notice("-10")  # no sequence field: read from the numbers
    assert current_notice([ten, two])["notice_id"] == f"RN-{LINE}-10"
    assert current_notice([two, ten])["notice_id"] == f"RN-{LINE}-10"
    with_field = [notice("-10", sequence=10), notice("-2", sequence=2)]
    assert current_notice(with_field)["notice_id"] == f"RN-{LINE}-10"
    ordered = notices_by_line([notice("-10"), notice(), notice("-2"), {"notice_id": "x"}])
    assert [n["notice_id"] for n in ordered[LINE]] == [
        f"RN-{LINE}",
        f"RN-{LINE}-2",
        f"RN-{LINE}-10",
    ]


def test_a_notice_of_an_older_judgement_is_not_the_lines_current_notice() -> None:
    """Just after a re-judgement the old notice is not superseded yet: not handed out."""
    old = notice(sequence=1)
    assert current_notice([old], {"sequence": 2, "judgement_id": f"J-{LINE}-2"}) is None
    assert current_notice([old], {"sequence": 1}) == old
    assert current_notice([old], {"judgement_id": f"J-{LINE}"}) == old  # no sequence yet
    assert current_notice([old], {"judgement_id": f"J-{LINE}-2"}) is None
    assert current_notice([old], {}) == old


def test_history_rows_read_in_japanese_with_both_notices() -> None:
    history = [
        judged(1, "approved", 2),
        judged(
            2,
            "approved",
            3,
            criteria_version="2026-04-r1",
            judged_at="2026-12-09T16:30:00+00:00",  # 10日 01:30 in Japan
            rejudgement_reason="判定基準（とび）の訂正",
            supersedes=f"J-{LINE}",
        ),
    ]
    notices = [notice(sequence=1, superseded_by=f"RN-{LINE}-2"), notice("-2", sequence=2)]
    [row] = history_rows(history, notices)
    assert row["date_ja"] == "2026年12月10日"
    assert row["change_ja"] == "レベル2 承認 → レベル3 承認"
    assert (row["before_ja"], row["after_ja"]) == ("レベル2 承認", "レベル3 承認")
    assert row["reason"] == "判定基準（とび）の訂正"
    assert (row["criteria_before"], row["criteria_after"]) == ("2026-04", "2026-04-r1")
    assert row["notice_before"] == {"notice_id": f"RN-{LINE}", "superseded": True}
    assert row["notice_after"] == {"notice_id": f"RN-{LINE}-2", "superseded": False}


def test_history_rows_one_per_change_oldest_first_and_none_for_a_single_judgement() -> None:
    assert history_rows([]) == []
    assert history_rows([judged(1, "approved", 2)]) == []
    three = [judged(3, "rejected", 1), judged(1, "approved", 2), judged(2, "approved", 3)]
    rows = history_rows(three)  # no notices (the application's page)
    assert [r["change_ja"] for r in rows] == [
        "レベル2 承認 → レベル3 承認",
        "レベル3 承認 → レベル1 不承認",
    ]
    assert rows[0]["notice_before"] == {} and rows[1]["reason"] == ""
    pending = history_rows(three[1:], [notice(sequence=1)])  # the new notice not made yet
    assert pending[0]["notice_after"] == {}
    assert pending[0]["notice_before"] == {"notice_id": f"RN-{LINE}", "superseded": False}


def test_result_words_reuse_the_level_and_decision_labels() -> None:
    assert result_ja("approved", 3) == "レベル3 承認"
    assert result_ja("rejected", 1) == "レベル1 不承認"
    assert result_ja(None, 2) == "レベル2" and result_ja(None, None) == ""
    assert level_ja(4, colour=False) == "レベル4" and level_ja(4) == "レベル4（ゴールド）"


def test_a_judged_line_misses_its_notice_until_the_one_of_its_judgement_is_listed() -> None:
    first = {"notice_id": "RN-L", "line_id": "L", "sequence": 1}
    assert not notice_missing({"status": "waiting_ccus", "sequence": 1, "notices": []})
    assert notice_missing({"status": "completed", "sequence": 1, "notices": []})
    assert not notice_missing({"status": "completed", "sequence": 1, "notices": [first]})
    assert notice_missing({"status": "completed", "sequence": 2, "notices": [first]})
