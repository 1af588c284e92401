"""The master in force in one judgement process, composed from the database.

The master in force = the packaged settings, trades and catalogue + the qualifications the
published versions added + for each (trade, effective date) the published table with the
highest revision (``criteria_versions``) + the extra master files of
``JUDGEMENT_CRITERIA_EXTRA`` on top. The packaged tables are only the seed of
``criteria_versions`` (revision 1, ``published_by: seed``), inserted at start-up where
missing — so a fresh database starts with them and a later release's new packaged table
arrives too, while a published correction always wins (a higher revision).

Every reader (the event handlers, the re-judgement consumer, the HTTP routes) reads
:attr:`MasterSource.master`. It is rebuilt whenever ``criteria_state.generation`` moves:
polled every ``criteria_poll_seconds`` by a background job, checked before every
re-judgement request, and rebuilt at once by the process that publishes. A master that
does not build (published data clashing with an extra file) is logged and the previous one
kept; with none built yet, readers get :class:`CriteriaUnavailable` (HTTP 503; a consumer
retries the message later, never dead-letters it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pymongo.errors import ConnectionFailure

from judgement.core.criteria_admin import (
    SEED_PUBLISHER,
    CriteriaVersion,
    seed_versions,
    table_document,
    version_documents,
)
from judgement.core.errors import MasterError
from judgement.core.master import Master, TableSpec, build_master
from judgement.ports.criteria import CriteriaStore, VersionExists
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
Documents = Sequence[tuple[str, Mapping[str, Any]]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class CriteriaUnavailable(ConnectionFailure):
    """The master in force cannot be built now (its database unreachable, or published data
    that does not build): not the request's fault — HTTP 503, a consumer retries later."""


class MasterSource:
    def __init__(
        self,
        store: CriteriaStore,
        base: Documents,
        packaged_tables: Sequence[TableSpec],
        extras: Documents = (),
        *,
        poll_seconds: float = 3.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.base = list(base)
        self.packaged_tables = list(packaged_tables)
        self.extras = list(extras)
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.generation = -1
        self.versions: list[CriteriaVersion] = []
        self._master: Master | None = None
        self._seeded = False
        self._lock = asyncio.Lock()

    # readers -------------------------------------------------------------------------
    @property
    def master(self) -> Master:
        if self._master is None:
            raise CriteriaUnavailable("the criteria master in force is not loaded yet")
        return self._master

    @property
    def loaded(self) -> bool:
        return self._master is not None

    async def current(self) -> Master:
        """The master as last built (built now if never yet)."""
        if self._master is None:
            await self.reload()
        return self.master

    async def fresh(self) -> Master:
        """The master after checking the generation (one read by ``_id``)."""
        if self._master is None:
            return await self.reload()
        if await self.store.generation() != self.generation:
            return await self.reload()
        return self.master

    # building ------------------------------------------------------------------------
    def documents(
        self, versions: Sequence[CriteriaVersion], *, leave_out: tuple[str, date] | None = None
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """The master's documents with ``versions`` published (without the table at
        ``leave_out``: the one a draft replaces)."""
        return [*self.base, *version_documents(versions, leave_out=leave_out), *self.extras]

    async def reload(self) -> Master:
        """Rebuild from the database (seeding it first, once per process)."""
        async with self._lock:
            try:
                if not self._seeded:
                    await self.seed()
                generation = await self.store.generation()
                versions = await self.store.versions()
            except ConnectionFailure as exc:
                if self._master is not None:
                    raise
                raise CriteriaUnavailable(f"criteria store unreachable: {exc!r}") from exc
            if (
                self._master is not None
                and generation == self.generation
                and len(versions) == len(self.versions)
            ):
                return self._master
            try:
                master = build_master(self.documents(versions))
            except MasterError as exc:
                log.error("criteria.master_failed", generation=generation, error=str(exc)[:500])
                if self._master is None:
                    raise CriteriaUnavailable(f"the master in force does not build: {exc}") from exc
                return self._master
            self._master, self.generation, self.versions = master, generation, versions
            log.info("criteria.master_loaded", generation=generation, versions=len(versions))
            return master

    async def seed(self) -> int:
        """Insert the packaged tables missing from ``criteria_versions`` (revision 1)."""
        stored = {v.id: v for v in await self.store.versions()}
        inserted = 0
        for version in seed_versions(self.packaged_tables, self.clock()):
            held = stored.get(version.id)
            if held is None:
                try:
                    await self.store.insert_version(version)
                    inserted += 1
                except VersionExists:
                    pass  # another process seeded it meanwhile
            elif held.published_by == SEED_PUBLISHER and table_document(
                held.table
            ) != table_document(version.table):
                # a published version never changes: correct it through a draft instead
                log.warning("criteria.seed_differs", version=version.id)
        if inserted:
            await self.store.bump_generation(None)
            log.info("criteria.seeded", versions=inserted)
        self._seeded = True
        return inserted

    async def poll(self) -> None:
        """Background job: follow the published generation."""
        while True:
            try:
                await self.fresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("criteria.poll_failed", error=repr(exc)[:300])
            await asyncio.sleep(self.poll_seconds)
