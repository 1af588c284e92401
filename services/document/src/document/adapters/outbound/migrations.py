"""Data migrations of the document service (``python -m document migrate``)."""

from __future__ import annotations

from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import Document, DocumentStore

NOTICE_SEQUENCE = "0001-notice-sequence"
REJUDGEMENT_FIELDS = {
    "sequence": 1,
    "supersedes_notice_id": None,
    "supersedes_judgement_id": None,
    "rejudgement_run_id": None,
    "rejudgement_reason": None,
}
"""What a notice issued before re-judgements existed gets: it is its line's first."""


async def number_first_notices(notices: DocumentStore) -> int:
    """``0001-notice-sequence``: notices stored without ``sequence`` (nor the fields of a
    re-judgement) get them; returns how many were rewritten. Idempotent."""
    rewritten = 0
    for old in await notices.find({"sequence": {"$exists": False}}):

        def numbered(doc: Document | None) -> tuple[Document, list[Envelope]] | None:
            if doc is None or "sequence" in doc:
                return None
            return {**REJUDGEMENT_FIELDS, **doc}, []

        await notices.update(old["_id"], numbered)
        rewritten += 1
    return rewritten
