"""Which notice of a line is current, derived when read (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from document.core import lineage
from document.core.lineage import Standing
from document.core.models import Notice

STORED: dict[str, Any] = {
    "code": "ABCD-EFGH-IJKL-MNOP",
    "sha256": "0" * 64,
    "signature": "1" * 64,
    "file_id": "f",
    "size": 1,
    "application_id": "AP-9",
    "judgement_id": "J-1",
    "employer_id": "10000000000002",
    "worker_id": "99000000000002",
    "trade": "配管",
    "evaluation_body": "管工事協会",
    "requested_level": 3,
    "eligible_level": 3,
    "card_colour": "シルバー",
    "decision": "approved",
    "criteria_version": "v1",
    "generated_at": datetime(2026, 11, 21, tzinfo=UTC),
}


def held(line_id: str, sequence: int | None, issued_on: str = "2026-11-21") -> Notice:
    number = f"RN-{line_id}" if sequence in (None, 1) else f"RN-{line_id}-{sequence}"
    doc: dict[str, Any] = {**STORED, "_id": number, "line_id": line_id, "issued_on": issued_on}
    if sequence is not None:
        doc["sequence"] = sequence
    return Notice.model_validate(doc)


def test_a_lone_notice_is_current() -> None:
    assert lineage.standings([held("AP-9-1", 1)]) == {
        "RN-AP-9-1": Standing(1, None, "RN-AP-9-1", "2026-11-21")
    }


def test_a_notice_issued_before_rejudgements_existed_is_the_first() -> None:
    legacy = held("AP-9-1", None)  # no sequence stored
    assert legacy.sequence == 1
    found = lineage.standings([held("AP-9-1", 2, "2026-12-01"), legacy])
    assert found["RN-AP-9-1"].superseded_by == "RN-AP-9-1-2"
    assert found["RN-AP-9-1-2"].current


def test_each_notice_is_superseded_by_the_next_and_names_the_current() -> None:
    docs = [
        held("AP-9-1", 3, "2026-12-10"),  # in any order
        held("AP-9-1", 1),
        held("AP-9-1", 2, "2026-12-01"),
        held("AP-9-2", 1),
    ]
    found = lineage.standings(docs)
    assert found["RN-AP-9-1"] == Standing(1, "RN-AP-9-1-2", "RN-AP-9-1-3", "2026-12-10")
    assert found["RN-AP-9-1-2"] == Standing(2, "RN-AP-9-1-3", "RN-AP-9-1-3", "2026-12-10")
    assert found["RN-AP-9-1-3"] == Standing(3, None, "RN-AP-9-1-3", "2026-12-10")
    assert found["RN-AP-9-2"].current  # another line is not affected
    assert [d.id for d in docs if not found[d.id].current] == ["RN-AP-9-1", "RN-AP-9-1-2"]


def test_a_gap_in_the_sequence_is_skipped() -> None:
    found = lineage.standings([held("AP-9-1", 1), held("AP-9-1", 3, "2026-12-10")])
    assert found["RN-AP-9-1"].superseded_by == "RN-AP-9-1-3"


def test_listed_by_line_then_sequence_numerically() -> None:
    docs = [
        held("AP-9-10", 1),
        held("AP-9-2", 10),
        held("AP-9-2", 2),
        held("AP-10-1", 1),
        held("AP-9-2", 1),
    ]
    assert [d.id for d in sorted(docs, key=lineage.list_order)] == [
        "RN-AP-9-2",
        "RN-AP-9-2-2",
        "RN-AP-9-2-10",
        "RN-AP-9-10",
        "RN-AP-10-1",
    ]


def test_message_of_a_superseded_notice() -> None:
    assert lineage.standing_message_ja(Standing(1, None, "RN-AP-9-1", "2026-11-21")) is None
    assert lineage.standing_message_ja(Standing(1, "RN-AP-9-1-2", "RN-AP-9-1-2", "2027-01-05")) == (
        "この結果通知書は再判定により更新されています。"
        "現在の結果通知書は通知番号 RN-AP-9-1-2（令和9年1月5日付け）です。"
    )
