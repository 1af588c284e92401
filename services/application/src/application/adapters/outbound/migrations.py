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

``0004-application-summaries`` writes the list read model (``core.summaries``): each
application's summary document, from the applications stored (a summary is replaced only
by a newer version's, so it may run while the service writes, be interrupted and run
again).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from pydantic_core import to_json

from application.core.applications import Application
from application.core.summaries import ApplicationSummary, with_summary
from shared_kernel.events import Envelope
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import Runtime

APPLICATIONS = "applications"
SUMMARIES = "application_summaries"
NAME = "0002-applications-current-format"
KEY_NAME = "0003-submission-key"
SUMMARIES_NAME = "0004-application-summaries"


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


async def build_summaries(runtime: Runtime) -> None:
    applications = Repository(DocumentStore(runtime.db, APPLICATIONS), Application)
    summaries = Repository(DocumentStore(runtime.db, SUMMARIES), ApplicationSummary)
    for app in await applications.find({}):
        await summaries.update(app.id, partial(_with, app))


def _with(
    app: Application, doc: ApplicationSummary | None
) -> tuple[ApplicationSummary, list[Envelope]] | None:
    return with_summary(doc, app)
