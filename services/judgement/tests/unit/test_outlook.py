"""レベル診断 (outlook): the engine read forwards (core/outlook.py) and its HTTP routes.

The routes run on a bare FastAPI app with the judgement service on in-memory stores, the
demo feed (``judgement.feed.demo``) as snapshots and the callers' principals injected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, get_args

import httpx
import pytest
from fastapi import FastAPI

from judgement.adapters.inbound import deps, outlook_http
from judgement.adapters.inbound.http import STATUS
from judgement.adapters.outbound.judgements import JudgementRepository
from judgement.core import access, outlook
from judgement.core.models import CcusRecord
from judgement.core.service import JudgementService
from judgement.core.workers import ConsentGrant, LatestSnapshot
from judgement.criteria import default_master
from judgement.feed import demo
from judgement.feed.files import read_json
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted
from shared_kernel.infra.access_log import AccessLog
from shared_kernel.infra.http import install_error_translator
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments
from shared_kernel.principal import Principal

EMPLOYER = Principal(subject="kensetsu01", role="employer", employer_id="10000000000001")
OTHER = Principal(subject="kensetsu02", role="employer", employer_id="10000000000002")
ON = date(2026, 12, 1)
TAKEN = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
MASTER = default_master()

# README's demo table: 分野 and the level reached (without 経歴証明 where it matters)
README = {
    "99000000000001": ("鉄筋", 2),
    "99000000000002": ("電気工事", 3),
    "99000000000003": ("とび", 3),
    "99000000000004": ("鉄筋", 1),
    "99000000000005": ("建築大工", 3),
    "99000000000006": ("硝子工事", 2),
    "99000000000007": ("防水施工", 1),
    "99000000000008": ("配管", 2),
}


def _consent(worker_id: str, employer: Principal = EMPLOYER) -> Envelope:
    assert employer.employer_id
    return Envelope(
        ConsentGranted(
            consent_id=f"{employer.employer_id}-{worker_id}",
            employer_id=employer.employer_id,
            worker_id=worker_id,
            worker_name="技能者",
            worker_name_kana="ギノウシャ",
            birth_date=date(1990, 1, 1),
            scopes=["view_ccus_data", "proxy_application"],
            granted_at=datetime(2026, 11, 1, tzinfo=UTC),
            valid_until=date(2027, 11, 1),
        ),
        source="consent",
    )


class Caller:
    principal: Principal = EMPLOYER


@pytest.fixture
async def stack() -> AsyncIterator[tuple[httpx.AsyncClient, Caller, SimpleNamespace]]:
    service = JudgementService(
        Repository(MemoryDocuments(), LatestSnapshot),
        MemoryDocuments(),
        JudgementRepository(MemoryDocuments()),
        MASTER,
        policy="auto",
        wait_days=7,
        consents=Repository(MemoryDocuments(), ConsentGrant),
        clock=lambda: datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
    )
    for snapshot in read_json(str(demo.path()), now=TAKEN):
        await service.on_snapshot(Envelope(snapshot, source="ccus"))
    for worker_id in README:
        await service.on_consent_granted(_consent(worker_id))
    log_docs = MemoryDocuments()
    container = SimpleNamespace(
        master=MASTER,
        service=service,
        access_log=AccessLog(
            log_docs, {**access.PURPOSES, **outlook.PURPOSES}, linked=access.LINKED
        ),
        log_docs=log_docs,
    )
    app = FastAPI()
    app.include_router(outlook_http.router)
    app.dependency_overrides[deps.wiring] = lambda: container
    install_error_translator(app, STATUS)

    caller = Caller()
    for alias in (outlook_http.EmployerOrEvaluator, outlook_http.Employer):
        app.dependency_overrides[get_args(alias)[1].dependency] = lambda: caller.principal
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://judgement") as client:
        yield client, caller, container


async def test_the_demo_workers_reach_the_readme_levels_with_their_shortfall(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace],
) -> None:
    client, _, container = stack
    for worker_id, (trade, level) in README.items():
        response = await client.get(f"/workers/{worker_id}/outlook", params={"on": ON})
        assert response.status_code == 200, response.text
        body = response.json()
        found = {o["trade"]: o for o in body["outlooks"]}
        if trade not in found:  # no 職種 code names the 分野: asked for
            assert body["trades_from"] == "none" and body["message_ja"]
            response = await client.get(
                f"/workers/{worker_id}/outlook", params={"on": ON, "trade": trade}
            )
            found = {o["trade"]: o for o in response.json()["outlooks"]}
        else:
            assert body["trades_from"] == "occupation"
        got = found[trade]
        assert got["level_today"] == level, (worker_id, got["level_today"])
        assert got["next_levels"][0]["level"] == max(level, 1) + 1 or worker_id.endswith("04")
        assert not got["next_levels"][0]["met"]
        assert got["main_shortfall_ja"], worker_id
    # every answer is in the access log, under the worker
    logged = await container.log_docs.find({"action": "worker_outlook"})
    assert {w for d in logged for w in d["worker_ids"]} == set(README)


async def _one(client: httpx.AsyncClient, worker_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/workers/{worker_id}/outlook", params={"on": ON, **params})
    assert response.status_code == 200, response.text
    outlooks: list[dict[str, Any]] = response.json()["outlooks"]
    return outlooks[0]


def _criterion(found: dict[str, Any], kind: str, level: int | None = None) -> dict[str, Any]:
    block = (
        found["next_levels"][0]
        if level is None
        else next(b for b in found["next_levels"] if b["level"] == level)
    )
    return next(c for c in block["criteria"] if c["kind"] == kind)


async def test_the_shortfalls_of_the_demo_workers(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace],
) -> None:
    client, _, _ = stack
    # 髙橋 (鉄筋 2): level 3 needs 1級鉄筋施工技能士 (2級 held does not do), days, 職長/班長
    takahashi = await _one(client, "99000000000001", trade="鉄筋")
    quals = _criterion(takahashi, "qualification")
    assert not quals["met"] and quals["status_ja"] == "不足"
    assert [m["item"] for m in quals["missing"]] == ["1級鉄筋施工技能士"]
    days = _criterion(takahashi, "days")
    assert days["shortfall_days"] == 1505 - days["actual"] > 0
    assert days["ccus_days"] == days["actual"] and days["other_occupation_days"] == 0
    assert takahashi["expected_month"] is not None  # he works: a month is expected
    assert takahashi["pace"]["work_days_per_month"] > 0
    # 𠮷野 (電気工事 3): level 4 needs one of three items, with their CCUS codes
    yoshino = await _one(client, "99000000000002")
    missing = _criterion(yoshino, "qualification")["missing"]
    kikan = next(m for m in missing if m["item"] == "登録電気工事基幹技能者")
    assert kikan["codes"] == ["00001"]
    assert {a["item"] for a in kikan["alternatives"]} >= {"優秀施工者国土交通大臣顕彰"}
    assert yoshino["days"]["occupation_codes"] == ["09-01", "09-10"]
    # 髙﨑 (とび 3 without 経歴証明, 4 with it): the certified days warn about 2029-03-31
    takasaki = await _one(client, "99000000000003")
    assert takasaki["level_today"] == 3
    assert _criterion(takasaki, "days")["shortfall_days"] > 0
    certified = await _one(
        client,
        "99000000000003",
        career_start="1987-04-01",
        career_end="2019-06-03",
        foreman_months=120,
    )
    assert certified["level_today"] == 4 and certified["next_levels"] == []
    assert "career_certification_until" in [w["kind"] for w in certified["warnings"]]
    # 佐藤: 簡略型, not judgeable until 詳細型
    sato = await _one(client, "99000000000004", trade="鉄筋")
    assert sato["level_today"] == 1 and not sato["can_apply_now"]
    assert sato["warnings"][0]["kind"] == "simple_registration"
    assert _criterion(sato, "registration_type")["status_ja"] == "不足"
    # 濵田: 玉掛け技能講習 under 49999 is flagged
    hamada = await _one(client, "99000000000006", trade="硝子工事")
    assert hamada["level_today"] == 2 and hamada["can_apply_now"]
    assert "misregistered_code" in [w["kind"] for w in hamada["warnings"]]
    # 中村 (防水施工 1, 2 with 経歴証明)
    nakamura = await _one(
        client,
        "99000000000007",
        trade="防水施工",
        career_start="2020-04-01",
        career_end="2024-06-10",
    )
    assert nakamura["level_today"] == 2


async def test_unknown_unconsented_and_untabled(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace],
) -> None:
    client, caller, _ = stack
    assert (await client.get("/workers/99000000009999/outlook")).status_code == 404
    caller.principal = OTHER
    response = await client.get("/workers/99000000000001/outlook")
    assert response.status_code == 404 and response.json()["code"] == "ccus_not_found"
    assert (await client.get("/outlook")).json() == []
    caller.principal = EMPLOYER
    # a 分野 the master knows without a judgeable table: says so and names its body
    untabled = next(t for t in MASTER.trades.values() if not t.judgeable)
    found = await _one(client, "99000000000001", trade=untabled.name)
    assert not found["judgeable"] and found["bodies_ja"] in found["message_ja"]


async def test_the_list_of_consented_workers(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace],
) -> None:
    client, _, _ = stack
    rows = (await client.get("/outlook", params={"on": ON})).json()
    assert {r["worker_id"] for r in rows} == set(README)
    by_trade = {(r["worker_id"], r["trade"]): r for r in rows}
    assert by_trade[("99000000000002", "電気工事")]["level_today"] == 3
    assert by_trade[("99000000000002", "電気工事")]["next_level"] == 4
    assert by_trade[("99000000000005", "建築大工")]["can_apply_now"]
    unknown = [r for r in rows if r["trade"] is None]
    assert {r["worker_id"] for r in unknown} == {
        "99000000000001",
        "99000000000004",
        "99000000000006",
        "99000000000007",
        "99000000000008",
    }
    rows = (await client.get("/outlook", params={"on": ON, "trade": "鉄筋"})).json()
    assert all(r["trade"] == "鉄筋" for r in rows) and len(rows) == len(README)


async def test_the_list_is_each_workers_outlook_in_a_few_reads(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``outlooks_of`` answers what ``outlook_of`` answers per worker, with a few reads
    whatever the number of workers (an employer has 1,000): not a round trip per worker."""
    _, _, container = stack
    service = container.service
    ids = await service.consented_workers(EMPLOYER.employer_id)
    one_by_one = [await service.outlook_of(EMPLOYER, w, None, ON, None) for w in ids]
    service._records.clear()  # the records read too
    reads: list[str] = []
    for name, store in (
        ("workers", service.workers.store),
        ("snapshots", service.snapshots),
        ("judgements", service.judgements.store),
    ):
        for method in ("get", "find"):
            original = getattr(store, method)

            def counted(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
                reads.append(_name)
                return _original(*args, **kw)

            monkeypatch.setattr(store, method, counted)
    assert await service.outlooks_of(EMPLOYER, ids, None, ON) == one_by_one
    assert sorted(reads) == ["judgements", "snapshots", "workers"]


async def test_a_stale_snapshot_is_dated_and_warned(
    stack: tuple[httpx.AsyncClient, Caller, SimpleNamespace],
) -> None:
    client, _, _ = stack
    later = ON + timedelta(days=45)
    body = (
        await client.get("/workers/99000000000002/outlook", params={"on": later.isoformat()})
    ).json()
    assert body["snapshot"]["stale"] and body["snapshot"]["taken_on"] == "2026-11-21"
    assert body["warnings"][0]["kind"] == "stale_snapshot"
    assert "2026-11-21" in body["warnings"][0]["message_ja"]


# --------------------------------------------------------------------------- unit


def _steady(days_before: int, per_month: int, until: date) -> CcusRecord:
    """``days_before`` earlier days, then ``per_month`` days in each of the last 12 months."""
    history: list[dict[str, Any]] = []
    for back in range(12):
        month = outlook.add_months(until.replace(day=1), -back)
        history.extend({"date": month.replace(day=d).isoformat()} for d in range(1, per_month + 1))
    first = outlook.add_months(until.replace(day=1), -12)
    history.extend(
        {"date": (first - timedelta(days=1 + i)).isoformat()} for i in range(days_before)
    )
    return CcusRecord.model_validate(
        {
            "worker_id": "99000000000100",
            "registration_type": "詳細型",
            "registered_on": "2018-01-01",
            "qualifications": [
                {"code": "40040", "name": "玉掛け技能講習", "acquired_on": "2010-01-01"}
            ],
            "work_history": history,
        }
    )


def test_600_of_645_days_at_15_a_month_is_expected_three_months_out() -> None:
    on = date(2026, 11, 30)
    record = _steady(600 - 180, 15, on)
    found = outlook.outlook(record, MASTER, "鉄筋", on)
    assert found["days"]["total"] == 600 and found["level_today"] == 1
    assert found["pace"]["work_days_per_month"] == 15.0
    level2 = found["next_levels"][0]
    assert level2["level"] == 2
    assert _criterion(found, "days")["shortfall_days"] == 45
    assert level2["expected_month"] == "2027-02" and found["expected_month"] == "2027-02"
    assert found["main_shortfall_ja"] == "就業日数あと45日"


def test_no_expected_month_when_the_pace_is_zero() -> None:
    on = date(2026, 11, 30)
    record = _steady(600, 0, on)
    found = outlook.outlook(record, MASTER, "鉄筋", on)
    assert found["pace"]["work_days_per_month"] == 0
    assert found["expected_month"] is None
    assert "0日" in found["next_levels"][0]["expected_note_ja"]


def test_add_months_clamps_the_day() -> None:
    assert outlook.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert outlook.add_months(date(2026, 1, 31), -2) == date(2025, 11, 30)
