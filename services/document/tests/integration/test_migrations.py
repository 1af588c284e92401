"""``python -m document migrate``: notices issued before re-judgements existed get the
fields the core's ``Notice`` reads (one reader), once."""

from __future__ import annotations

from typing import Any

from document.adapters.outbound.migrations import NOTICE_SEQUENCE, REJUDGEMENT_FIELDS
from document.config import Settings
from document.inject import NOTICES, wire
from shared_kernel.infra.runtime import migrate
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated, wired

from ..unit.test_lineage import STORED


def before_rejudgements() -> dict[str, Any]:
    """A notice as stored before re-judgements existed (no sequence, no supersedes)."""
    old = {**STORED, "_id": "RN-AP-1-1", "line_id": "AP-1-1", "issued_on": "2026-11-21"}
    assert not set(REJUDGEMENT_FIELDS) & set(old)
    return {**old, "version": 2}


async def test_migrate_numbers_the_notices_issued_before_rejudgements(
    settings: ServiceSettings, db: object
) -> None:
    s = isolated(Settings, topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    async with wired(s, wire) as (runtime, container):
        await runtime.db[NOTICES].insert_one(before_rejudgements())
        assert NOTICE_SEQUENCE in await migrate(runtime)
        raw = await runtime.db[NOTICES].find_one({"_id": "RN-AP-1-1"})
        assert raw is not None and raw["sequence"] == 1 and raw["version"] == 3
        assert all(field in raw for field in REJUDGEMENT_FIELDS)
        notice = await container.service.notices.get("RN-AP-1-1")
        assert notice is not None and (notice.sequence, notice.supersedes_notice_id) == (1, None)
        assert await migrate(runtime) == []  # once
