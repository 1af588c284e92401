"""The list read model: one small summary per application, in its employer's document (pure).

The lists (``GET /applications``, the portal's menu banner of drafts) read the summaries
only, never whole applications: FerretDB's cost is per stored element read (bench/README.md;
an application is ~7 KB, decoding 100 of them for one list took ~100 ms of FerretDB's
CPU). An employer's summaries are one document of the ``employer_summaries`` collection
(``_id``: the employer id) holding them as JSON text (``summaries_json``: application id →
``applications.summary_entry``), read by ``_id`` in one look-up (~3 ms for 100).

Written by the aggregate's own save path: :class:`Summarised` is the applications'
repository as the service sees it; after each write of an application it puts the
application's new summary into its employer's document, by ``_id`` + version (retried on
concurrent writes). Each summary carries the aggregate's ``version`` and is replaced only by
a newer one, so writes arriving out of order change nothing and rewriting is idempotent.
A crash between the two writes leaves one summary a version behind: the next write of the
application — or any ``update`` of it that changes nothing, e.g. a redelivered event or a
retried request — rewrites it (``update`` always checks), and the migration
``0004-employer-summaries`` rebuilds every one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from application.core import applications
from application.core.applications import Application, View
from application.core.fees import FeeRule
from shared_kernel.aggregate import Aggregate, Aggregates
from shared_kernel.context import get_logger
from shared_kernel.errors import StaleVersion
from shared_kernel.events import Envelope

log = get_logger(__name__)

ATTEMPTS = 5
"""Rounds of ``Aggregates.update`` (each retrying on concurrent writes) before a summary is
left for the application's next write."""


class EmployerSummaries(Aggregate):
    """The summaries of one employer's applications (``_id``: the employer id)."""

    summaries_json: str = "{}"
    """application id → ``applications.summary_entry`` (with the application's ``version``),
    as JSON text: never queried, read whole (one element instead of ~15 per application)."""

    def entries(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = json.loads(self.summaries_json)
        return found


def with_summary(
    doc: EmployerSummaries | None, app: Application
) -> tuple[EmployerSummaries, list[Envelope]] | None:
    """The employer's document with ``app``'s summary, unless it holds this version or a
    newer one already (``None``: nothing to write)."""
    entries = doc.entries() if doc is not None else {}
    held = entries.get(app.id)
    if held is not None and int(held.get("version", 0)) >= app.version:
        return None
    entries[app.id] = applications.summary_entry(app)
    text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if doc is None:
        return EmployerSummaries(id=app.employer_id, summaries_json=text), []
    return doc.model_copy(update={"summaries_json": text}), []


def with_summaries(
    doc: EmployerSummaries | None, apps: Sequence[Application]
) -> tuple[EmployerSummaries, list[Envelope]] | None:
    """``with_summary`` for several applications of one employer at once (the migration)."""
    changed = None
    for app in apps:
        outcome = with_summary(doc, app)
        if outcome is not None:
            doc, _ = outcome
            changed = outcome
    return changed


def listed(
    doc: EmployerSummaries | None, status: str | None, fee_today: FeeRule | None
) -> list[View]:
    """The list's answer: the employer's applications of ``status`` (every one but the
    deleted drafts when ``None``), newest first."""
    if doc is None:
        return []
    chosen = [
        (app_id, entry)
        for app_id, entry in doc.entries().items()
        if (entry["status"] == status if status else entry["status"] != applications.DELETED)
    ]
    chosen.sort(key=lambda found: float(found[1]["created_ts"]), reverse=True)
    return [applications.summary_view(app_id, doc.id, entry, fee_today) for app_id, entry in chosen]


def results(doc: EmployerSummaries | None, application_id: str | None) -> list[View] | None:
    """The submitted lines of the employer's applications (or of one), for the result list
    (レベル判定結果確認), by line id; ``None`` when ``application_id`` is not one of the
    employer's (a deleted draft neither)."""
    entries = doc.entries() if doc is not None else {}
    if application_id is not None:
        entry = entries.get(application_id)
        if entry is None or entry["status"] == applications.DELETED:
            return None
        entries = {application_id: entry}
    found = [
        {**line, "application_id": app_id}
        for app_id, entry in entries.items()
        for line in entry.get("lines", [])
    ]
    return sorted(found, key=lambda line: str(line["line_id"]))


class Summarised:
    """The applications (``Aggregates[Application]``) whose every write also writes the
    application's summary (``with_summary``) into ``summaries``."""

    def __init__(
        self, applications: Aggregates[Application], summaries: Aggregates[EmployerSummaries]
    ) -> None:
        self.applications = applications
        self.summaries = summaries

    async def summarise(self, app: Application) -> None:
        """Put ``app``'s summary in its employer's document (idempotent). A write that keeps
        losing to concurrent ones is left for the application's next write, logged."""
        for _ in range(ATTEMPTS):
            try:
                await self.summaries.update(app.employer_id, lambda doc: with_summary(doc, app))
                return
            except StaleVersion:
                continue
        log.warning("application.summary_deferred", application_id=app.id)

    async def get(self, aggregate_id: str) -> Application | None:
        return await self.applications.get(aggregate_id)

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
    ) -> list[Application]:
        return await self.applications.find(flt, sort=sort, limit=limit)

    async def insert(
        self,
        aggregate: Application,
        events: Sequence[Envelope] = (),
        *,
        applied_event_id: str | None = None,
    ) -> Application:
        stored = await self.applications.insert(
            aggregate, events, applied_event_id=applied_event_id
        )
        await self.summarise(stored)
        return stored

    async def save(
        self,
        aggregate: Application,
        events: Sequence[Envelope] = (),
        *,
        applied_event_id: str | None = None,
    ) -> Application:
        stored = await self.applications.save(aggregate, events, applied_event_id=applied_event_id)
        await self.summarise(stored)
        return stored

    async def update(
        self,
        aggregate_id: str,
        change: Callable[[Application | None], tuple[Application, Sequence[Envelope]] | None],
        *,
        applied_event_id: str | None = None,
    ) -> Application | None:
        stored = await self.applications.update(
            aggregate_id, change, applied_event_id=applied_event_id
        )
        if stored is not None:  # also when nothing changed: heals a summary left behind
            await self.summarise(stored)
        return stored
