"""The consent service's read model of CCUS workers (from CcusWorkerSnapshot events).

Only what the checks need is kept: name, kana, birth date, registration type (no work
history, no qualifications). The newest snapshot (by ``taken_at``) wins.
"""

from __future__ import annotations

from typing import Any

from shared_kernel.events.catalogue import CcusWorkerSnapshot

Doc = dict[str, Any]


def record(snapshot: CcusWorkerSnapshot) -> Doc:
    return {
        "_id": snapshot.worker_id,
        "worker_id": snapshot.worker_id,
        "name": snapshot.name,
        "name_kana": snapshot.name_kana,
        "birth_date": snapshot.birth_date.isoformat(),
        "registration_type": snapshot.registration_type,
        "taken_at": snapshot.taken_at,
    }


def keep_newest(snapshot: CcusWorkerSnapshot, stored: Doc | None) -> tuple[Doc, list[Any]] | None:
    """The new record, or ``None`` when the stored one is as new or newer."""
    if stored is not None and stored["taken_at"] >= snapshot.taken_at:
        return None
    return record(snapshot), []
