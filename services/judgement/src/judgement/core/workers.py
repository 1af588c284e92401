"""What the judgement service keeps per worker (typed aggregates, pure).

* :class:`LatestSnapshot` (``ccus_workers``, ``_id`` = 技能者ID): the pointer to the worker's
  newest CCUS snapshot and the summary other services read;
* :class:`ConsentGrant` (``consents``, ``_id`` = ``<employer>-<worker>``): an employer may
  read the worker's CCUS data (ConsentGranted, until ConsentRejected).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared_kernel.aggregate import Aggregate
from shared_kernel.events.catalogue import CcusWorkerSnapshot, ConsentGranted, ConsentRejected
from shared_kernel.time import as_utc


class LatestSnapshot(Aggregate):
    taken_at: datetime
    snapshot_id: str
    summary: dict[str, Any]

    def replaced_by(self, snapshot: CcusWorkerSnapshot) -> bool:
        """Whether ``snapshot`` should replace this one (an older one never does)."""
        return snapshot.taken_at > as_utc(self.taken_at)


class ConsentGrant(Aggregate):
    employer_id: str
    worker_id: str
    consent_id: str
    granted_at: datetime
    withdrawn: bool = False

    @staticmethod
    def key(employer_id: str, worker_id: str) -> str:
        return f"{employer_id}-{worker_id}"

    @classmethod
    def granted(cls, event: ConsentGranted) -> ConsentGrant:
        return cls(
            id=cls.key(event.employer_id, event.worker_id),
            employer_id=event.employer_id,
            worker_id=event.worker_id,
            consent_id=event.consent_id,
            granted_at=event.granted_at,
        )

    def superseded_by(self, event: ConsentGranted) -> bool:
        """Whether ``event`` is a newer grant than this one (a redelivered older one is not)."""
        return event.granted_at > as_utc(self.granted_at)

    def rejected(self, event: ConsentRejected) -> ConsentGrant | None:
        """The grant withdrawn by ``event`` (``None``: the rejection predates this grant)."""
        if as_utc(self.granted_at) > event.rejected_at:
            return None
        return self.model_copy(update={"withdrawn": True})
