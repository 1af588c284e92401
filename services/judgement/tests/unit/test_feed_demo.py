"""The curated demo workers: the file matches its design and each reaches its level."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from judgement.core.engine import evaluate
from judgement.core.master import Master
from judgement.core.models import EvaluationRequest
from judgement.feed import demo
from judgement.feed.cli import demo_path
from judgement.feed.files import read_snapshots
from shared_kernel.events.catalogue import CcusWorkerSnapshot

DOC = Path(__file__).resolve().parents[4] / "docs" / "ccus-feed.md"
CCUS_FIELDS = {"worker_id", "registration_type", "registered_on", "qualifications", "work_history"}


def designs() -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = json.loads(demo_path().read_text(encoding="utf-8"))
    return content


def snapshots() -> list[CcusWorkerSnapshot]:
    return list(read_snapshots([str(demo_path())], now=datetime.now(UTC)))


def test_the_packaged_file_is_what_the_design_builds() -> None:
    assert demo_path() == demo.path()
    assert demo_path().read_text(encoding="utf-8") == demo.render(demo.build()), (
        "demo_workers.json is stale: run"
        ' uv run python -c "from judgement.feed.demo import write; write()"'
    )


def test_the_demo_set() -> None:
    workers = snapshots()
    assert 5 <= len(workers) <= 8
    assert len({w.worker_id for w in workers}) == len(workers)
    assert {d["_demo"]["trade"] for d in designs()} >= {"鉄筋", "電気工事", "とび"}
    assert any(w.registration_type == "simple" for w in workers)
    assert any("𠮷" in w.name for w in workers) and any("髙﨑" in w.name for w in workers)


def judge(
    snapshot: CcusWorkerSnapshot,
    design: dict[str, Any],
    master: Master,
    application_date: str,
    certification: dict[str, Any] | None,
) -> Any:
    body: dict[str, Any] = {
        "trade": design["trade"],
        "requested_level": max(2, design["level"]),
        "application_date": application_date,
        "ccus": snapshot.model_dump(mode="json", include=CCUS_FIELDS),
    }
    if certification is not None:
        body["career_certification"] = certification
    return evaluate(EvaluationRequest.model_validate(body), master)


@pytest.mark.parametrize("application_date", ["2026-12-01", "2027-09-30"])
def test_each_demo_worker_reaches_its_documented_level(
    master: Master, application_date: str
) -> None:
    for snapshot, raw in zip(snapshots(), designs(), strict=True):
        design = raw["_demo"]
        certification = design.get("career_certification")
        result = judge(snapshot, design, master, application_date, certification)
        assert result.eligible_level == design["level"], (snapshot.worker_id, result.criteria)
        expected = "approved" if design["level"] >= 2 else "rejected"
        assert result.decision == expected
        assert [w.kind for w in result.warnings] == design.get("warnings", [])
        if certification is not None:
            alone = judge(snapshot, design, master, application_date, None)
            assert alone.eligible_level == design["level_without_certification"]


def test_the_demo_workers_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for snapshot, raw in zip(snapshots(), designs(), strict=True):
        prefix = f"| {snapshot.worker_id} |"
        row = next((line for line in text.splitlines() if line.startswith(prefix)), "")
        assert snapshot.name_kana in row, snapshot.worker_id
        assert snapshot.birth_date.isoformat() in row
        assert raw["_demo"]["trade"] in row
