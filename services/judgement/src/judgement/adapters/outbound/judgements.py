"""The typed stores of a line's judgements (``judgements``, ``rejudgements``).

``Repository`` over a document store, with the projections lists read: the partial
documents are loaded into their own read models (``JudgementSummary``,
``RejudgementSummary``), never into a partial aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from judgement.core.lines import JudgementLine, JudgementSummary, Rejudgement, RejudgementSummary
from shared_kernel.documents import Documents
from shared_kernel.infra.mongo import BOOKKEEPING
from shared_kernel.infra.repository import Repository

M = TypeVar("M", bound=BaseModel)

SUMMARY_FIELDS = {
    "request": 0,
    "line": 0,
    **dict.fromkeys(BOOKKEEPING, 0),
}
"""What a list of judgements reads of each line (not the request nor the line itself)."""
REJUDGEMENT_SUMMARY = {"request_json": 0, "event_json": 0, **dict.fromkeys(BOOKKEEPING, 0)}
"""What a list leaves out of a stored re-judgement (the parts only the detail shows)."""


def _load(model: type[M], doc: Mapping[str, Any]) -> M:
    return model.model_validate({k: v for k, v in doc.items() if k not in BOOKKEEPING})


class JudgementRepository(Repository[JudgementLine]):
    def __init__(self, store: Documents) -> None:
        super().__init__(store, JudgementLine)

    async def summaries(self, flt: Mapping[str, Any]) -> list[JudgementSummary]:
        found = await self.store.find(flt, projection=SUMMARY_FIELDS)
        return [_load(JudgementSummary, doc) for doc in found]

    async def exists(self, flt: Mapping[str, Any]) -> bool:
        return bool(await self.store.find(flt, projection={"_id": 1}, limit=1))

    async def trades(self, flt: Mapping[str, Any]) -> list[str]:
        found = await self.store.find(flt, projection={"trade": 1})
        return [str(doc["trade"]) for doc in found if doc.get("trade")]

    async def worker_trades(self, flt: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = await self.store.find(flt, projection={"worker_id": 1, "trade": 1})
        return [(str(doc["worker_id"]), str(doc["trade"])) for doc in found if doc.get("trade")]


class RejudgementRepository:
    def __init__(self, store: Documents) -> None:
        self.store = store

    async def find(self, flt: Mapping[str, Any]) -> list[Rejudgement]:
        return [_load(Rejudgement, doc) for doc in await self.store.find(flt)]

    async def summaries(self, flt: Mapping[str, Any]) -> list[RejudgementSummary]:
        found = await self.store.find(flt, projection=REJUDGEMENT_SUMMARY)
        return [_load(RejudgementSummary, doc) for doc in found]
