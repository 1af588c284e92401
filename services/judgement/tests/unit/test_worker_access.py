"""Who may read a worker's CCUS data: the consent read model (ConsentGranted / Rejected)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from judgement.adapters.outbound.judgements import JudgementRepository
from judgement.core.service import JudgementService
from judgement.core.workers import ConsentGrant, LatestSnapshot
from judgement.criteria import default_master
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted, ConsentRejected
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments

EMPLOYER, OTHER, WORKER = "10000000000001", "10000000000002", "99000000000001"
GRANTED_AT = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def service() -> JudgementService:
    return JudgementService(
        Repository(MemoryDocuments(), LatestSnapshot),
        MemoryDocuments(),
        JudgementRepository(MemoryDocuments()),
        default_master(),
        policy="auto",
        wait_days=7,
        consents=Repository(MemoryDocuments(), ConsentGrant),
    )


def granted(at: datetime = GRANTED_AT) -> Envelope:
    return Envelope(
        ConsentGranted(
            consent_id=f"{EMPLOYER}-{WORKER}",
            employer_id=EMPLOYER,
            worker_id=WORKER,
            worker_name="髙橋 健太",
            worker_name_kana="タカハシ ケンタ",
            birth_date=date(1994, 7, 15),
            scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
            granted_at=at,
            valid_until=date(2027, 11, 1),
        ),
        source="consent",
    )


def rejected(at: datetime) -> Envelope:
    return Envelope(
        ConsentRejected(
            consent_id=f"{EMPLOYER}-{WORKER}",
            employer_id=EMPLOYER,
            worker_id=WORKER,
            reason="同意書の署名がありません",
            rejected_at=at,
        ),
        source="consent",
    )


async def test_only_the_consented_employer_reads_the_worker() -> None:
    judging = service()
    assert not await judging.may_read_worker(EMPLOYER, WORKER)
    await judging.on_consent_granted(granted())
    assert await judging.may_read_worker(EMPLOYER, WORKER)
    assert not await judging.may_read_worker(OTHER, WORKER)
    assert not await judging.may_read_worker(None, WORKER)
    assert not await judging.may_read_worker(EMPLOYER, "99000000000002")


async def test_a_rejection_after_the_grant_withdraws_it_and_a_new_grant_restores_it() -> None:
    judging = service()
    await judging.on_consent_granted(granted())
    await judging.on_consent_rejected(rejected(GRANTED_AT - timedelta(days=1)))  # older
    assert await judging.may_read_worker(EMPLOYER, WORKER)
    await judging.on_consent_rejected(rejected(GRANTED_AT + timedelta(days=1)))
    assert not await judging.may_read_worker(EMPLOYER, WORKER)
    await judging.on_consent_granted(granted(GRANTED_AT - timedelta(days=3)))  # stale
    assert not await judging.may_read_worker(EMPLOYER, WORKER)
    await judging.on_consent_granted(granted(GRANTED_AT + timedelta(days=2)))
    assert await judging.may_read_worker(EMPLOYER, WORKER)


async def test_a_rejection_without_a_grant_changes_nothing() -> None:
    judging = service()
    await judging.on_consent_rejected(rejected(GRANTED_AT))
    assert not await judging.may_read_worker(EMPLOYER, WORKER)
    assert isinstance(judging.consents, Repository)
    assert isinstance(judging.consents.store, MemoryDocuments) and not judging.consents.store.docs
