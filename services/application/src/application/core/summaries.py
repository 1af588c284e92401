"""The list read model: one small summary document per application (pure).

The lists (``GET /applications``, the portal's draft banner, the result list ``GET
/results``) read the summaries only, never whole applications: FerretDB's cost is per
stored element read (bench/README.md; an application is ~7 KB, decoding 100 of them for one
list took ~100 ms of FerretDB's CPU). An application's summary is one document of the
``application_summaries`` collection (``_id``: the application id) with the two fields the
lists filter on (``employer_id``, ``status``) and the rest as JSON text (``summary_json``:
``applications.summary_entry``): a few elements instead of hundreds.

Written by the aggregate's own save path: :class:`Summarised` is the applications'
repository as the service sees it; after each write of an application it writes the
application's summary by ``_id`` + version. The summary carries the aggregate's ``version``
and is replaced only by a newer one, so writes arriving out of order change nothing and
rewriting is idempotent. A crash between the two writes leaves the summary a version
behind: the next write of the application — or any ``update`` of it that changes nothing,
e.g. a redelivered event or a retried request — rewrites it (``update`` always checks), and
the migration ``0004-application-summaries`` rebuilds every one.

Read path: the lists read only the three fields they use (``LISTED``, a projection: FerretDB
sends no more) as :class:`Row` s — plain values, not validated again: the documents are this
service's own writes, validated when written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


class ApplicationSummary(Aggregate):
    """What the lists show of one application (``_id``: the application id)."""

    employer_id: str
    status: str
    application_version: int
    summary_json: str
    """``applications.summary_entry`` as JSON text: never queried, read whole."""

    def entry(self) -> dict[str, Any]:
        return _entry(self.summary_json)


def _entry(summary_json: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(summary_json)
    return found


class Listed(Protocol):
    """A summary as the lists read it: a stored :class:`ApplicationSummary` or a :class:`Row`."""

    @property
    def id(self) -> str: ...

    @property
    def employer_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    def entry(self) -> dict[str, Any]: ...


LISTED = {"employer_id": 1, "status": 1, "summary_json": 1}
"""The fields of a summary document the lists read (and ``_id``)."""


@dataclass(frozen=True)
class Row:
    """The listed fields of one summary document (``LISTED``)."""

    id: str
    employer_id: str
    status: str
    summary_json: str

    def entry(self) -> dict[str, Any]:
        return _entry(self.summary_json)


def row(doc: Mapping[str, Any]) -> Row:
    """The :class:`Row` of a summary document read with the ``LISTED`` projection."""
    return Row(
        id=str(doc["_id"]),
        employer_id=str(doc["employer_id"]),
        status=str(doc["status"]),
        summary_json=str(doc["summary_json"]),
    )


def with_summary(
    doc: ApplicationSummary | None, app: Application
) -> tuple[ApplicationSummary, list[Envelope]] | None:
    """``app``'s summary, unless the stored one is of this version or a newer one
    (``None``: nothing to write)."""
    if doc is not None and doc.application_version >= app.version:
        return None
    text = json.dumps(applications.summary_entry(app), ensure_ascii=False, separators=(",", ":"))
    fields = {
        "employer_id": app.employer_id,
        "status": app.status,
        "application_version": app.version,
        "summary_json": text,
    }
    if doc is None:
        return ApplicationSummary(id=app.id, **fields), []
    return doc.model_copy(update=fields), []


def listed(docs: Iterable[Listed], status: str | None, fee_today: FeeRule | None) -> list[View]:
    """The list's answer: the applications of ``status`` (every one but the deleted drafts
    when ``None``), newest first."""
    chosen = [
        (doc, doc.entry())
        for doc in docs
        if (doc.status == status if status else doc.status != applications.DELETED)
    ]
    chosen.sort(key=lambda found: float(found[1]["created_ts"]), reverse=True)
    return [
        applications.summary_view(doc.id, doc.employer_id, entry, fee_today)
        for doc, entry in chosen
    ]


def results(docs: Iterable[Listed]) -> list[View]:
    """The submitted lines of the applications, for the result list (レベル判定結果確認),
    by line id."""
    found = [
        {**line, "application_id": doc.id}
        for doc in docs
        if doc.status != applications.DELETED
        for line in doc.entry().get("lines", [])
    ]
    return sorted(found, key=lambda line: str(line["line_id"]))


class Summarised:
    """The applications (``Aggregates[Application]``) whose every write also writes the
    application's summary (``with_summary``) into ``summaries``."""

    def __init__(
        self, applications: Aggregates[Application], summaries: Aggregates[ApplicationSummary]
    ) -> None:
        self.applications = applications
        self.summaries = summaries

    async def summarise(self, app: Application) -> None:
        """Write ``app``'s summary (idempotent). A write that keeps losing to concurrent ones
        is left for the application's next write, logged."""
        for _ in range(ATTEMPTS):
            try:
                await self.summaries.update(app.id, lambda doc: with_summary(doc, app))
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
