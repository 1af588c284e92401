"""Which consents an evaluator bound to 分野 sees: those of workers applied for in one of
his 分野 (ApplicationSubmitted, any employer); another 分野 answers like an unknown id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from consent.core import access, consents
from consent.core.ccus import CcusWorker
from consent.core.consents import Policy
from consent.core.errors import ConsentError
from consent.core.files import FileKind
from consent.core.service import ConsentService
from consent.core.validation import SCOPES, Application, Worker
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments
from shared_kernel.principal import Principal

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
EMPLOYER, OTHER_EMPLOYER = "11111111111111", "33333333333333"
TEKKIN_WORKER, HAIKAN_WORKER, NEW_WORKER = "22222222222221", "22222222222222", "22222222222223"
UNBOUND = Principal(subject="hyoka0001", role="evaluator")
TEKKIN = Principal(subject="hyoka0002", role="evaluator", trades=("鉄筋",), body="鉄筋協会")
HAIKAN = Principal(subject="hyoka0003", role="evaluator", trades=("配管",), body="管工事協会")
POLICY = Policy(auto_approve=False, valid_days=365)


class NoFiles:
    async def put(self, data: bytes, *, filename: str, metadata: Any) -> str:
        raise AssertionError("no file is stored here")

    async def get(self, file_id: str) -> bytes | None:
        return None


def no_disarming(data: bytes, kind: FileKind, *, max_pixels: int, max_pages: int) -> bytes:
    raise AssertionError("no file is disarmed here")


def submitted(employer_id: str, *lines: tuple[str, str]) -> Envelope:
    return Envelope(
        ApplicationSubmitted(
            application_id="AP-20261120-AAAAAA",
            employer_id=employer_id,
            application_date=date(2026, 11, 20),
            submitted_at=NOW,
            fee_total_yen=0,
            lines=[
                ApplicationLine(
                    line_id=f"AP-20261120-AAAAAA-{n:02d}",
                    worker_id=worker_id,
                    worker_name="山田 太郎",
                    worker_name_kana="ヤマダ タロウ",
                    birth_date=date(1980, 4, 1),
                    trade=trade,
                    requested_level=2,
                    fee_yen=0,
                )
                for n, (worker_id, trade) in enumerate(lines, start=1)
            ],
        ),
        source="application",
    )


async def service() -> ConsentService:
    consent_docs = Repository(MemoryDocuments(), consents.Consent)
    for employer_id, worker_id in (
        (EMPLOYER, TEKKIN_WORKER),
        (EMPLOYER, HAIKAN_WORKER),
        (EMPLOYER, NEW_WORKER),
        (OTHER_EMPLOYER, HAIKAN_WORKER),  # the same worker at another employer
    ):
        worker = Worker(0, worker_id, "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1))
        doc, _ = consents.file(
            None,
            employer_id=employer_id,
            application=Application(
                employer={"employer_name": "株式会社髙橋建設", "address": "東京都千代田区1-1"},
                workers=[worker],
                scopes=list(SCOPES),
            ),
            worker=worker,
            ccus=CcusWorker(
                id=worker_id,
                worker_id=worker_id,
                name="山田 太郎",
                name_kana="ヤマダ タロウ",
                birth_date=date(1980, 4, 1),
                registration_type="detailed",
                taken_at=NOW,
            ),
            warnings=[],
            actor="kensetsu01",
            now=NOW,
            policy=POLICY,
        )
        await consent_docs.insert(doc)
    return ConsentService(
        consent_docs,
        Repository(MemoryDocuments(), CcusWorker),
        AccessLog(MemoryDocuments(), access.PURPOSES, linked=access.LINKED),
        NoFiles(),
        disarmer=no_disarming,
        policy=POLICY,
        max_upload_bytes=1024,
        clock=lambda: NOW,
        worker_trades=Repository(MemoryDocuments(), access.WorkerTrades),
    )


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["consent_id"] for d in docs]


async def test_a_consent_concerns_the_trades_its_worker_was_applied_for() -> None:
    consent = await service()
    event = submitted(EMPLOYER, (TEKKIN_WORKER, "鉄筋"), (HAIKAN_WORKER, "配管"))
    await consent.on_application_submitted(event)
    await consent.on_application_submitted(event)  # redelivered: nothing changes
    assert consent.worker_trades is not None
    known = await consent.worker_trades.get(HAIKAN_WORKER)
    assert known is not None and known.trades == ["配管"]
    later = submitted(OTHER_EMPLOYER, (HAIKAN_WORKER, "鉄筋"))
    await consent.on_application_submitted(later)
    known = await consent.worker_trades.get(HAIKAN_WORKER)
    assert known is not None and known.trades == ["配管", "鉄筋"]

    every = ids(await consent.list_consents(UNBOUND, "GET /consents"))
    assert len(every) == 4  # unbound: every consent, also of a worker never applied for
    tekkin = ids(await consent.list_consents(TEKKIN, "GET /consents"))
    haikan = ids(await consent.reviews(HAIKAN, "GET /reviews", complete_only=False))
    # the 配管 worker was later applied for in 鉄筋 (another employer): his consents are both
    assert tekkin == [
        f"{EMPLOYER}-{TEKKIN_WORKER}",
        f"{EMPLOYER}-{HAIKAN_WORKER}",
        f"{OTHER_EMPLOYER}-{HAIKAN_WORKER}",
    ]
    assert haikan == [f"{EMPLOYER}-{HAIKAN_WORKER}", f"{OTHER_EMPLOYER}-{HAIKAN_WORKER}"]
    assert f"{EMPLOYER}-{NEW_WORKER}" not in tekkin + haikan  # no line yet: no 分野


async def test_another_trades_consent_answers_like_one_that_never_existed() -> None:
    consent = await service()
    await consent.on_application_submitted(submitted(EMPLOYER, (TEKKIN_WORKER, "鉄筋")))
    mine = f"{EMPLOYER}-{TEKKIN_WORKER}"
    assert (await consent.get(TEKKIN, mine, "GET /consents/{consent_id}"))["consent_id"] == mine
    for who, consent_id in (
        (HAIKAN, mine),  # another 分野
        (TEKKIN, f"{EMPLOYER}-{NEW_WORKER}"),  # never applied for
        (HAIKAN, "99999999999999-99999999999999"),  # never existed
    ):
        for call in (
            consent.get(who, consent_id, "GET /consents/{consent_id}"),
            consent.signed_form(who, consent_id, "GET /consents/{consent_id}/signed-form"),
            consent.approve(who, consent_id, None),
            consent.return_(who, consent_id, "理由"),
        ):
            with pytest.raises(ConsentError) as refused:
                await call
            assert (refused.value.code, refused.value.message) == (
                "not_found",
                "該当する個人情報利用申請がありません。",
            ), (who.subject, consent_id)


def test_the_rule_itself() -> None:
    assert access.sees_worker(UNBOUND, [])
    assert not access.sees_worker(TEKKIN, [])
    assert access.sees_worker(TEKKIN, ["配管", "鉄筋"]) and not access.sees_worker(HAIKAN, ["鉄筋"])
    employer = Principal(subject="k", role="employer", employer_id=EMPLOYER)
    assert not access.sees_worker(employer, ["鉄筋"])  # employers: their own, by employer id
    known = access.WorkerTrades(id=HAIKAN_WORKER, trades=["鉄筋"])
    assert access.trades_added(["鉄筋"], known, worker_id=HAIKAN_WORKER) is None
    assert access.trades_added(["配管", "配管"], None, worker_id=HAIKAN_WORKER) == (
        access.WorkerTrades(id=HAIKAN_WORKER, trades=["配管"]),
        [],
    )
