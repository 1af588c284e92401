"""``python -m consent migrate``: an older stored format is rewritten into the one the
core's models read (one reader), once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from consent.config import Settings
from consent.core import consents
from consent.core.ccus import CcusWorker
from consent.core.consents import Policy
from consent.core.validation import SCOPES, Application, Worker
from consent.inject import wire
from shared_kernel.infra.runtime import migrate
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated, wired

EMPLOYER, WORKER_ID = "11111111111111", "22222222222222"
FILED = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)
UPDATED = datetime(2025, 4, 2, 1, 0, tzinfo=UTC)


def before_submitted_at() -> dict[str, object]:
    """A consent as stored before ``submitted_at`` existed."""
    worker = Worker(0, WORKER_ID, "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1))
    consent, _ = consents.file(
        None,
        employer_id=EMPLOYER,
        application=Application({"employer_name": "株式会社髙橋建設"}, [worker], list(SCOPES)),
        worker=worker,
        ccus=CcusWorker(
            id=WORKER_ID,
            worker_id=WORKER_ID,
            name="山田 太郎",
            name_kana="ヤマダ タロウ",
            birth_date=date(1980, 4, 1),
            registration_type="detailed",
            taken_at=FILED,
        ),
        warnings=[],
        actor="kensetsu01",
        now=FILED,
        policy=Policy(),
    )
    doc = consent.to_document()
    del doc["submitted_at"]
    return {**doc, "updated_at": UPDATED, "version": 3}


async def test_migrate_gives_older_consents_their_submission_time(
    settings: ServiceSettings, db: object
) -> None:
    s = isolated(Settings, topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    async with wired(s, wire) as (runtime, container):
        old = before_submitted_at()
        await runtime.db[consents.COLLECTION].insert_one(old)
        assert "0002-consent-submitted-at" in await migrate(runtime)
        consent = await container.service.consents.get(str(old["_id"]))
        assert consent is not None
        assert consent.submitted_at == UPDATED  # what the review queue sorted it by
        assert consent.version == 4
        assert await migrate(runtime) == []  # once
