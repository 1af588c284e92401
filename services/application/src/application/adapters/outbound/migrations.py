"""Data migrations of the application service (``python -m application migrate``).

``0002-applications-current-format`` rewrites the application documents stored before the
current format, so that one reader (``core.applications.Application``) reads them all:

* a submission that kept its answer as nested fields (``submission.response``) keeps it as
  JSON text (``submission.response_json``);
* a line judged before sequences and histories were kept holds its one judgement as
  sequence 1, in ``judgement_sequence`` and ``judgement_history``.

``0003-submission-key`` copies a submitted application's Idempotency-Key to the top-level
``submission_key`` (the field the submit's look-up filters on: FerretDB serves only
top-level equalities from an index).

Each document is rewritten at most once (a current one is left alone): the migration may be
interrupted and run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_json

from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.runtime import Runtime

APPLICATIONS = "applications"
NAME = "0002-applications-current-format"
KEY_NAME = "0003-submission-key"


def _current_line(line: Mapping[str, Any]) -> dict[str, Any]:
    if line.get("judgement_history") is not None:
        return dict(line)
    if line.get("judgement_sequence") is None and line.get("decision") is None:
        return dict(line)  # not judged yet: no history to write
    return {
        **line,
        "judgement_sequence": line.get("judgement_sequence") or 1,
        "judgement_history": [
            {
                "sequence": 1,
                "judgement_id": line.get("judgement_id"),
                "decision": line.get("decision"),
                "eligible_level": line.get("eligible_level"),
                "criteria_version": line.get("criteria_version"),
                "judged_at": line.get("judged_at"),
                "rejudgement_reason": None,
                "supersedes": None,
            }
        ],
    }


def upgrade(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an application document to rewrite (``$set``); empty when current."""
    changes: dict[str, Any] = {}
    submission = doc.get("submission")
    if submission and "response" in submission:
        current = {k: v for k, v in submission.items() if k != "response"}
        current["response_json"] = to_json(submission["response"]).decode()
        changes["submission"] = current
    stored = list(doc.get("lines") or [])
    current_lines = [_current_line(line) for line in stored]
    if current_lines != stored:
        changes["lines"] = current_lines
    return changes


async def upgrade_applications(runtime: Runtime) -> None:
    store = DocumentStore(runtime.db, APPLICATIONS)
    for doc in await store.find({}):
        changes = upgrade(doc)
        if changes:  # only if nobody wrote it meanwhile (else the next run does it)
            await store.set_fields(doc, changes)


async def lift_submission_keys(runtime: Runtime) -> None:
    store = DocumentStore(runtime.db, APPLICATIONS)
    fields = {"_id": 1, "version": 1, "submission": 1, "submission_key": 1}
    for doc in await store.find({}, projection=fields):
        key = (doc.get("submission") or {}).get("idempotency_key")
        if key and doc.get("submission_key") != key:
            await store.set_fields(doc, {"submission_key": key})
