"""The consent service's read model of CCUS workers (from CcusWorkerSnapshot events).

Only what the checks need is kept: name, kana, birth date, registration type (no work
history, no qualifications). The newest snapshot (by ``taken_at``) wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared_kernel.aggregate import Aggregate, StoredDate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import CcusWorkerSnapshot

COLLECTION = "ccus_workers"


class CcusWorker(Aggregate):
    """One worker as CCUS last reported him (``_id`` = 技能者ID)."""

    worker_id: str
    name: str
    name_kana: str
    birth_date: StoredDate
    registration_type: Literal["detailed", "simple"]
    taken_at: datetime


def record(snapshot: CcusWorkerSnapshot) -> CcusWorker:
    return CcusWorker(
        id=snapshot.worker_id, **snapshot.model_dump(include=set(CcusWorker.model_fields))
    )


def keep_newest(
    snapshot: CcusWorkerSnapshot, stored: CcusWorker | None
) -> tuple[CcusWorker, list[Envelope]] | None:
    """The new record, or ``None`` when the stored one is as new or newer."""
    if stored is not None and stored.taken_at >= snapshot.taken_at:
        return None
    return record(snapshot), []
