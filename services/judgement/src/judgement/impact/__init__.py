"""影響確認 (criteria impact preview) in the judgement service: the job, its storage, the
compact snapshot mirror it reads, and its HTTP routes (``judgement.impact.http``).

The pure part is ``judgement.core.impact``; the job is ``judgement.impact.job``; the mirror
of every worker's latest snapshot in compact form is ``judgement.impact.snapshots``.
:func:`attach` wires them into a service's runtime (called at the end of ``inject.wire``);
criteria administration provides the drafted masters through the :class:`DraftMasters`
port (``attach(..., drafts=…)``, or ``jobs_for(runtime).drafts = …``).
"""

from __future__ import annotations

from typing import Protocol

from judgement.impact.job import (
    ROWS_RETENTION,
    DraftMasters,
    DraftMastersUnavailable,
    DraftNotUsable,
    ImpactAudit,
    ImpactJobs,
    NoDraftMasters,
    UnknownDraft,
)
from judgement.impact.snapshots import MIRROR, MirroredSnapshots
from judgement.ports.documents import Snapshots
from shared_kernel.infra.runtime import Runtime

__all__ = [
    "DraftMasters",
    "DraftMastersUnavailable",
    "DraftNotUsable",
    "ImpactJobs",
    "UnknownDraft",
    "attach",
    "jobs_for",
]

_ATTACHED: dict[int, ImpactJobs] = {}


class _HasSnapshots(Protocol):
    snapshots: Snapshots


def attach(
    runtime: Runtime,
    service: _HasSnapshots,
    *,
    drafts: DraftMasters | None = None,
    audit: ImpactAudit | None = None,
) -> ImpactJobs:
    """Wire the impact preview into a judgement service's runtime.

    * ``service.snapshots`` (``ccus_snapshots``) is wrapped so that every stored snapshot is
      mirrored in ``ccus_compact`` (the latest per worker, compact);
    * ``criteria_impacts`` (the jobs) and ``criteria_impact_rows`` (their CSV rows, kept
      :data:`ROWS_RETENTION`) are declared with the fields they are read by;
    * the jobs run in a background task of the service (``ImpactJobs.serve``).
    """
    from shared_kernel.infra.mongo import DocumentStore

    for name, fields in (
        (MIRROR, ()),
        ("criteria_impacts", ("status",)),
        ("criteria_impact_rows", ("impact_id",)),
    ):
        runtime.index(name, *fields)
    mirror = DocumentStore(runtime.db, MIRROR)
    service.snapshots = MirroredSnapshots(service.snapshots, mirror)
    runtime.retain("criteria_impact_rows", "at", ROWS_RETENTION)
    jobs = ImpactJobs(
        runtime.db,
        DocumentStore(runtime.db, "criteria_impacts"),
        DocumentStore(runtime.db, "criteria_impact_rows"),
        mirror,
        drafts or NoDraftMasters(DocumentStore(runtime.db, "criteria_drafts")),
        audit=audit,
    )
    key = id(runtime)
    _ATTACHED[key] = jobs

    async def serve() -> None:
        try:
            await jobs.serve()
        finally:
            _ATTACHED.pop(key, None)

    runtime.background(serve)
    return jobs


def jobs_for(runtime: Runtime) -> ImpactJobs:
    """The impact jobs :func:`attach` wired into ``runtime``."""
    return _ATTACHED[id(runtime)]
