"""Data migrations of the consent service (``python -m consent migrate``): each rewrites an
older stored format into the one the core's models read, so the core has one reader."""

from __future__ import annotations

from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import Document, DocumentStore


async def submitted_at_everywhere(consents: DocumentStore) -> int:
    """``0002-consent-submitted-at``: consents stored before ``submitted_at`` existed get
    their ``updated_at`` as their submission (what the review queue sorted them by);
    returns how many were rewritten. Idempotent: a consent that has it is left alone."""
    rewritten = 0
    for old in await consents.find({"submitted_at": {"$exists": False}}):

        def backfill(doc: Document | None) -> tuple[Document, list[Envelope]] | None:
            if doc is None or "submitted_at" in doc:
                return None
            return {**doc, "submitted_at": doc["updated_at"]}, []

        await consents.update(old["_id"], backfill)
        rewritten += 1
    return rewritten
