"""Data migrations of the judgement service (run by ``python -m judgement migrate`` and at
start-up): each rewrites the documents of an older storage format into the current one, so
that the core reads one format only. Idempotent: a document already current is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from judgement.core import judging
from judgement.core.models import EvaluationResult
from judgement.ports.documents import Document, Documents
from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.runtime import Runtime


async def rewrite(
    store: Documents,
    selection: Mapping[str, Any],
    convert: Callable[[Document], Document | None],
) -> int:
    """Rewrite each selected document with ``convert`` (``None``: nothing to do); how many."""
    rewritten: set[str] = set()
    for found in await store.find(selection, projection={"_id": 1}):
        await store.update(str(found["_id"]), partial(_converted, convert, rewritten))
    return len(rewritten)


def _converted(
    convert: Callable[[Document], Document | None], rewritten: set[str], current: Document | None
) -> tuple[Document, Sequence[Envelope]] | None:
    new = None if current is None else convert(current)
    if new is None:
        return None
    rewritten.add(str(new["_id"]))
    return new, []


def result_as_text(doc: Document) -> Document | None:
    """A judgement document of the first format (a nested ``result``) in the current one
    (``result_json``); ``None`` when it is current already (the migration's change)."""
    if "result" not in doc:
        return None
    rest = {k: v for k, v in doc.items() if k != "result"}
    if doc["result"] is not None and judging.RESULT_JSON not in doc:
        rest[judging.RESULT_JSON] = EvaluationResult.model_validate(doc["result"]).model_dump_json()
    return rest


OLD_RESULT = {"result": {"$ne": None}}
"""Judgements of the first format: the engine's result nested (``result``)."""
OLD_CCUS = {"ccus": {"$ne": None}}
"""Snapshots of the first format: the §5 ``ccus`` part nested."""


async def judgement_result_json(runtime: Runtime) -> None:
    """Judgements judged before the result was stored as text (a nested ``result``)."""
    store = DocumentStore(runtime.db, "judgements")
    await rewrite(store, OLD_RESULT, result_as_text)


async def snapshot_ccus_json(runtime: Runtime) -> None:
    """Snapshots received before 2026-12 (the §5 ``ccus`` part nested)."""
    store = DocumentStore(runtime.db, "ccus_snapshots")
    await rewrite(store, OLD_CCUS, judging.snapshot_as_text)


async def snapshot_supersessions(runtime: Runtime) -> None:
    """The supersession records of snapshots stored before the retention sweep existed
    (``judgement.adapters.outbound.retention``): their grace period starts now."""
    from judgement.adapters.outbound.retention import SnapshotRetention

    await SnapshotRetention(runtime.db, grace=timedelta(0)).reconcile()


def declare(runtime: Runtime) -> None:
    """The judgement service's migrations, in order."""
    runtime.migration("judgement-0001-result-json", judgement_result_json)
    runtime.migration("judgement-0002-snapshot-ccus-json", snapshot_ccus_json)
    runtime.migration("judgement-0003-snapshot-supersessions", snapshot_supersessions)
