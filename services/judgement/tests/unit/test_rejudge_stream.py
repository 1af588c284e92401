"""The re-judgement run joins the pass over the judgements and the compact mirror as both
arrive; lines whose snapshot the mirror lacks are read from ccus_snapshots after both."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from judgement.core import judging
from judgement.rejudge import planning

from .test_impact_snapshots import snapshots


def judgement(n: int, snapshot_id: str, worker_id: str) -> dict[str, Any]:
    return {
        "_id": f"L-{n}-1",
        "judgement_id": f"J-L-{n}-1",
        "application_id": f"L-{n}",
        "employer_id": "12345678901234",
        "application_date": "2026-11-20",
        "snapshot_id": snapshot_id,
        "line": {
            "line_id": f"L-{n}-1",
            "worker_id": worker_id,
            "worker_name": "試験 太郎",
            "worker_name_kana": "シケン タロウ",
            "birth_date": "1980-01-01",
            "trade": "とび",
            "requested_level": 2,
            "fee_yen": 0,
        },
        planning.CURRENT: None,
    }


class Snapshots:
    def __init__(self, stored: list[dict[str, Any]]) -> None:
        self.stored = {d["_id"]: d for d in stored}

    async def find_one(self, flt: dict[str, Any], projection: Any = None) -> Any:
        return self.stored.get(flt["_id"])


async def collect(
    feed: planning.Feed, stored: list[dict[str, Any]]
) -> tuple[list[Any], Counter[str]]:
    missing = Counter[str]()
    lines = [line async for line in planning._lines(Snapshots(stored), feed, missing)]
    return lines, missing


def test_lines_wait_for_their_form_or_go_at_once_and_the_rest_is_read_after() -> None:
    docs = [judging.snapshot_version_doc(s) for s in [*snapshots(3), snapshots(4)[0]]]
    forms = {d["_id"]: d["ccus_compact"] for d in docs}
    first, second, third = docs
    feed: planning.Feed = asyncio.Queue()
    feed.put_nowait((planning.LINE, judgement(1, first["_id"], first["worker_id"])))
    feed.put_nowait((planning.FORM, (first["_id"], forms[first["_id"]])))  # after its line
    feed.put_nowait((planning.FORM, (second["_id"], forms[second["_id"]])))
    feed.put_nowait((planning.LINE, judgement(2, second["_id"], second["worker_id"])))
    feed.put_nowait((planning.LINE, judgement(3, third["_id"], third["worker_id"])))  # no form
    feed.put_nowait((planning.LINE, judgement(4, "gone@2026", "99999999999999")))  # none at all
    feed.put_nowait((planning.END, planning.LINE))
    feed.put_nowait((planning.END, planning.FORM))
    lines, missing = asyncio.run(collect(feed, [third]))
    assert [line.line_id for line in lines] == ["L-1-1", "L-2-1", "L-3-1"]
    assert [line.ccus_compact for line in lines] == [forms[d["_id"]] for d in docs]
    assert all(line.ccus_json == "" for line in lines)
    assert missing == Counter({"gone@2026": 1})
