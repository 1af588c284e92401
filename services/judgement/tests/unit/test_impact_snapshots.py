"""The compact mirror of every worker's newest snapshot (``judgement.impact.snapshots``):
written beside each stored snapshot, newest ``taken_at`` first, also when the snapshot was
stored already (a redelivered event after a crash); the re-judgement request line can carry
the compact form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from judgement.core import compact, judging
from judgement.feed.synthetic import generate
from judgement.impact.snapshots import MirroredSnapshots
from judgement.rejudge import planning
from shared_kernel.errors import AlreadyExists
from shared_kernel.infra.mongo import Change, Document


class Memory:
    """An in-memory ``Documents``: insert refuses a taken ``_id``, update applies a change."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def get(self, doc_id: str) -> Document | None:
        return self.docs.get(doc_id)

    async def insert(
        self, doc: Document, events: Sequence[Any] = (), *, applied_event_id: str | None = None
    ) -> Document:
        if doc["_id"] in self.docs:
            raise AlreadyExists(doc["_id"])
        self.docs[doc["_id"]] = dict(doc)
        return doc

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
    ) -> list[Document]:
        return list(self.docs.values())

    async def update(
        self,
        doc_id: str,
        change: Change,
        *,
        applied_event_id: str | None = None,
        attempts: int = 10,
    ) -> Document | None:
        outcome = change(self.docs.get(doc_id))
        if outcome is None:
            return self.docs.get(doc_id)
        self.docs[doc_id] = {**outcome[0], "_id": doc_id}
        return self.docs[doc_id]


def snapshots(day: int) -> list[Any]:
    workers = generate(2, seed="mirror", as_of=date(2026, 11, day))
    taken = datetime(2026, 11, day, tzinfo=UTC)
    return [w.snapshot.model_copy(update={"taken_at": taken}) for w in workers]


async def test_every_stored_snapshot_is_mirrored_newest_first() -> None:
    stored, mirror = Memory(), Memory()
    store = MirroredSnapshots(stored, mirror)
    newer, older = snapshots(20)[0], snapshots(10)[0]
    await store.insert(judging.snapshot_version_doc(newer))
    await store.insert(judging.snapshot_version_doc(older))  # arrives late: not the newest
    kept = mirror.docs[newer.worker_id]
    assert kept["snapshot_id"] == judging.snapshot_id(newer)
    assert compact.decode(kept["ccus_compact"]) == judging.snapshot_compact(newer)
    assert len(stored.docs) == 2
    assert await store.get(judging.snapshot_id(older)) is not None


async def test_a_snapshot_stored_before_a_crash_is_mirrored_when_redelivered() -> None:
    stored, mirror = Memory(), Memory()
    snapshot = snapshots(20)[1]
    doc = judging.snapshot_version_doc(snapshot)
    await stored.insert(doc)  # stored, then the process died before mirroring
    with pytest.raises(AlreadyExists):
        await MirroredSnapshots(stored, mirror).insert(doc)
    assert mirror.docs[snapshot.worker_id]["snapshot_id"] == doc["_id"]


def test_a_rejudgement_request_line_can_carry_the_compact_form() -> None:
    snapshot = snapshots(20)[0]
    stored = judging.snapshot_version_doc(snapshot)
    doc = {
        "_id": "L-1-1",
        "judgement_id": "J-L-1-1",
        "application_id": "L-1",
        "employer_id": "12345678901234",
        "application_date": "2026-11-20",
        "snapshot_id": stored["_id"],
        "line": {
            "line_id": "L-1-1",
            "worker_id": snapshot.worker_id,
            "worker_name": snapshot.name,
            "worker_name_kana": snapshot.name_kana,
            "birth_date": snapshot.birth_date.isoformat(),
            "trade": "とび",
            "requested_level": 2,
            "fee_yen": 0,
        },
    }
    line = planning.request_line(
        doc, stored["ccus_json"], ccus_compact=judging.stored_compact_text(stored)
    )
    assert line.ccus_compact == stored["ccus_compact"]
    assert planning.request_line(doc, stored["ccus_json"]).ccus_compact is None
