"""The application service end to end in one process: real Kafka, real database.

The judgement service runs in-process too (its own app, consumer and relay), standing in
for the remote service behind ``httpx.ASGITransport``; consent events and CCUS snapshots
are published as the consent service and the CCUS feed would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from application.adapters.outbound.judgement_http import HttpJudgement
from application.config import Settings
from application.inject import Container, create_app
from judgement.config import Settings as JudgementSettings
from judgement.inject import create_app as create_judgement_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusQualification,
    CcusWorkerSnapshot,
    CcusWorkRecord,
    ConsentGranted,
    ConsentRejected,
    JudgementStarted,
)
from shared_kernel.infra.kafka import EventPublisher
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import (
    Expected,
    eventually,
    expect_events,
    isolated,
    judgement_completed,
    publisher,
    signed_token,
)
from shared_kernel.principal import Principal

EMPLOYER = "10000000000001"
OTHER_EMPLOYER = "10000000000002"
ADDRESS = {
    "postal_code": "１００－０００１",
    "prefecture": "東京都",
    "city_address": "千代田区千代田1-1",
    "building": "髙橋ビル3階",
    "addressee": "株式会社髙橋建設 総務部",
    "phone": "03-1234-5678",
}
DECLARED = {"career_certified": True, "card_issuance_consented": True}


def snapshot(worker_id: str, *, days: int) -> CcusWorkerSnapshot:
    """A 鉄筋 worker registered 2020-04-01 with 玉掛け (2015-05-01) and ``days`` work days."""
    start = date(2020, 4, 1)
    return CcusWorkerSnapshot(
        worker_id=worker_id,
        taken_at=datetime(2026, 11, 1, tzinfo=UTC),
        registration_type="detailed",
        registered_on=start,
        name="髙橋 健太",
        name_kana="タカハシ ケンタ",
        birth_date=date(1994, 7, 15),
        qualifications=[
            CcusQualification(code="40040", name="玉掛け技能講習", acquired_on=date(2015, 5, 1))
        ],
        work_history=[
            CcusWorkRecord(date=start + timedelta(days=n), site_id="S1") for n in range(days)
        ],
    )


def consent(
    worker_id: str,
    name: str,
    *,
    employer_id: str = EMPLOYER,
    granted_at: datetime | None = None,
) -> Envelope:
    return Envelope(
        ConsentGranted(
            consent_id=f"{employer_id}-{worker_id}",
            employer_id=employer_id,
            worker_id=worker_id,
            worker_name=name,
            worker_name_kana="タカハシ ケンタ",
            birth_date=date(1994, 7, 15),
            scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
            granted_at=granted_at or datetime.now(UTC) - timedelta(days=1),
            valid_until=date.today() + timedelta(days=300),
        ),
        source="consent",
    )


@dataclass
class Stack:
    settings: Settings
    client: httpx.AsyncClient
    container: Container
    publish: EventPublisher

    def headers(self, employer_id: str = EMPLOYER, **extra: str) -> dict[str, str]:
        principal = Principal(
            subject=f"login{employer_id[-4:]}", role="employer", employer_id=employer_id
        )
        return {"Authorization": f"Bearer {signed_token(principal)}", **extra}

    async def get(self, path: str, employer_id: str = EMPLOYER, **params: str) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(employer_id), params=params)

    async def post(
        self, path: str, body: Any = None, employer_id: str = EMPLOYER, **headers: str
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers(employer_id, **headers))

    async def draft(self, *lines: dict[str, Any]) -> str:
        created = await self.post(
            "/applications", {"delivery_address": ADDRESS, "declarations": DECLARED}
        )
        assert created.status_code == 201, created.text
        app_id = str(created.json()["application_id"])
        for line in lines:
            added = await self.post(f"/applications/{app_id}/lines", line)
            assert added.status_code == 201, added.text
        return app_id

    async def status(self, app_id: str) -> str:
        return str((await self.get(f"/applications/{app_id}")).json()["status"])


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def stack(
    base: ServiceSettings, *, judgement: bool = True, **overrides: Any
) -> AsyncIterator[Stack]:
    settings = isolated(
        Settings,
        topic_prefix=base.topic_prefix,
        db_name=base.db_name,
        consumer_backoff_seconds=0.05,
        outbox_poll_seconds=0.2,
        **overrides,
    )
    judgement_app = create_judgement_app(
        isolated(
            JudgementSettings,
            topic_prefix=base.topic_prefix,
            db_name=base.db_name + "_j",
            review_policy="auto",
            outbox_poll_seconds=0.2,
        )
    )
    client = HttpJudgement(
        settings.judgement_url if not judgement else "http://judgement",
        transport=httpx.ASGITransport(app=judgement_app) if judgement else None,
        timeout=2.0,
    )
    app = create_app(settings, judgement=client)
    async with (
        running(judgement_app) if judgement else _nothing(),
        running(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://application"
        ) as http,
        publisher(settings) as publish,
    ):
        try:
            yield Stack(settings, http, app.state.container, publish)
        finally:
            await client.aclose()
            if judgement:
                mongo = app.state.container.runtime.mongo
                await mongo.drop_database(base.db_name + "_j")


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


async def test_consent_to_judgement_with_a_retried_submission(
    settings: ServiceSettings, db: object
) -> None:
    async with stack(settings) as s:
        await s.publish(Envelope(snapshot("99100000000001", days=700), source="ccus"))
        await s.publish(Envelope(snapshot("99100000000002", days=100), source="ccus"))
        await s.publish(consent("99100000000001", "髙橋 健太"))
        await s.publish(consent("99100000000002", "𠮷野 翔太"))

        async def ready() -> bool:
            workers = (await s.get("/workers")).json()
            if len(workers) != 2:
                return False
            for worker in ("99100000000001", "99100000000002"):  # snapshots in the judgement
                prefill = await s.get(f"/workers/{worker}/career-prefill")
                if prefill.status_code != 200 or not prefill.json()["ccus_available"]:
                    return False
            return True

        await eventually(ready)
        workers = (await s.get("/workers")).json()
        assert [(w["worker_id"], w["worker_name"]) for w in workers] == [
            ("99100000000001", "髙橋 健太"),
            ("99100000000002", "𠮷野 翔太"),
        ]
        options = (await s.get("/options")).json()
        assert {"鉄筋", "とび", "電気工事"} <= set(options["trades"]) and "左官" not in options[
            "trades"
        ]
        assert len(options["prefectures"]) == 47 and options["fee_today"]["fee_yen"] == 4000
        # the rules of the form are the criteria master's, as the judgement service publishes them
        assert options["career_rules"] == {
            "cap_from": "2024-04-01",
            "cap_end": "2024-03-31",
            "none_from": "2029-04-01",
        }
        assert options["management_required_levels"] == [3, 4]

        # draft: the address may be incomplete while drafting, never malformed
        created = await s.post("/applications", {"delivery_address": {"prefecture": "東京都"}})
        assert created.status_code == 201
        app_id = created.json()["application_id"]
        assert created.json()["status_ja"] == "下書き"
        bad = await s.client.patch(
            f"/applications/{app_id}",
            json={"delivery_address": {**ADDRESS, "postal_code": "100-001"}},
            headers=s.headers(),
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "delivery_address.postal_code"
        patched = await s.client.patch(
            f"/applications/{app_id}",
            json={"delivery_address": ADDRESS, "declarations": DECLARED},
            headers=s.headers(),
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["delivery_address"]["postal_code"] == "100-0001"

        # 技能者追加: the period is prefilled from CCUS when left out
        added = await s.post(
            f"/applications/{app_id}/lines",
            {"worker_id": "99100000000001", "trade": "鉄筋", "requested_level": 2},
        )
        assert added.status_code == 201, added.text
        line = added.json()
        assert line["career_period"] == {"start": "2015-05-01", "end": "2020-04-01"}
        assert line["career_prefill"]["notes"] == [
            {"field": "start", "reason_ja": "起算点はCCUSに登録された最も古い資格の取得日です"},
            {"field": "end", "reason_ja": "終着点はCCUS技能者登録日です"},
        ]
        assert (line["worker_name"], line["birth_date"]) == ("髙橋 健太", "1994-07-15")
        missing = await s.post(
            f"/applications/{app_id}/lines",
            {"worker_id": "99100000000002", "trade": "鉄筋", "requested_level": 3},
        )
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["foreman", "leader"]
        second = await s.post(
            f"/applications/{app_id}/lines",
            {
                "worker_id": "99100000000002",
                "trade": "鉄筋",
                "requested_level": 3,
                "career_period": None,
                "foreman": {"years": 0, "months": 0},
                "leader": {"years": 0, "months": 0},
            },
        )
        assert second.status_code == 201, second.text
        line_b = second.json()["line_id"]
        assert line_b == f"{app_id}-02"
        # what the draft would cost if submitted today (the portal shows it)
        assert (await s.get(f"/applications/{app_id}")).json()["fee_total_yen"] == 8000

        # preview: the second line will clearly fail; it is flagged, not blocked
        preview = await s.post(f"/applications/{app_id}/lines/{line_b}/preview")
        assert preview.status_code == 200, preview.text
        assert preview.json()["decision"] == "rejected"
        assert preview.json()["flag_ja"] == "このままでは不承認となる見込みです"
        ok = await s.post(f"/applications/{app_id}/lines/{app_id}-01/preview")
        assert (ok.json()["decision"], ok.json()["flag_ja"]) == ("approved", None)

        # submit: the key is required; the same key submits once however often it is sent
        no_key = await s.post(f"/applications/{app_id}/submit")
        assert no_key.status_code == 400 and no_key.json()["code"] == "idempotency_key_required"
        submit = f"/applications/{app_id}/submit"
        key = {"Idempotency-Key": "3f0e8a4c-0b1d-4c55-9d7e-2b7f9f1d8a10"}
        expected = [
            Expected(ApplicationSubmitted, {"application_id": app_id, "fee_total_yen": 8000})
        ]
        async with expect_events(s.settings, expected, settle=1.5) as recorded:
            first = await s.client.post(submit, headers=s.headers(**key))
            retries = await asyncio.gather(
                s.client.post(submit, headers=s.headers(**key)),
                s.client.post(submit, headers=s.headers(**key)),
            )
        assert first.status_code == 200, first.text
        assert first.headers["Idempotent-Replayed"] == "false"
        for retry in retries:
            assert retry.status_code == 200
            assert retry.headers["Idempotent-Replayed"] == "true"
            assert retry.json() == first.json()
        event = recorded.envelopes[0].event
        assert isinstance(event, ApplicationSubmitted)
        assert [
            (x.line_id, x.requested_level, x.foreman_months, x.fee_yen) for x in event.lines
        ] == [
            (f"{app_id}-01", 2, 0, 4000),
            (line_b, 3, 0, 4000),
        ]
        assert event.lines[0].career_start == date(2015, 5, 1)
        assert first.json()["status_ja"] == "申請済"

        # frozen
        frozen = await s.client.patch(
            f"/applications/{app_id}", json={"declarations": DECLARED}, headers=s.headers()
        )
        assert frozen.status_code == 409 and frozen.json()["code"] == "not_editable"
        more = await s.post(f"/applications/{app_id}/lines", {"worker_id": "99100000000001"})
        assert more.status_code == 409
        other_key = await s.post(submit, **{"Idempotency-Key": "another"})
        assert other_key.status_code == 409 and other_key.json()["code"] == "already_submitted"

        # the judgement service judges both lines: 判定完了 (承認 / 不承認)
        async def completed() -> bool:
            return await s.status(app_id) == "completed"

        await eventually(completed)
        detail = (await s.get(f"/applications/{app_id}")).json()
        assert [(x["status_ja"], x["eligible_level"]) for x in detail["lines"]] == [
            ("判定完了（承認）", 2),
            ("判定完了（不承認）", 1),  # 100 CCUS days and no 経歴証明
        ]
        assert (detail["approved_count"], detail["rejected_count"]) == (1, 1)
        withdraw = await s.post(f"/applications/{app_id}/withdraw", {"reason": "誤り"})
        assert withdraw.status_code == 409 and withdraw.json()["code"] == "judgement_started"
        assert (
            withdraw.json()["message"] == "判定が開始されているため、この申請は取下げできません。"
        )
        # the consents ended with the judgements (as in the consent service)
        assert (await s.get("/workers")).json() == []

        # a duplicate JudgementCompletedV2 (redelivered, or another copy of sequence 1) changes
        # nothing
        store = s.container.service.applications
        before = await store.get(app_id)
        assert before is not None
        duplicate = Envelope(
            judgement_completed(
                application_id=app_id,
                line_id=line_b,
                employer_id=EMPLOYER,
                worker_id="99100000000002",
                worker_name="𠮷野 翔太",
                requested_level=3,
                eligible_level=3,
            ),
            source="judgement",
        )
        await s.publish(duplicate)
        await s.publish(duplicate)
        consumer = s.container.runtime.consumer
        await eventually(lambda: consumer.inbox.seen(consumer.group, duplicate.id))
        after = await store.get(app_id)
        assert after is not None
        assert after.version == before.version
        assert after.lines == before.lines


async def test_a_rejudgement_replaces_the_result_and_ends_no_consent(
    settings: ServiceSettings, db: object
) -> None:
    worker = "99500000000001"
    async with stack(settings) as s:
        await s.publish(Envelope(snapshot(worker, days=700), source="ccus"))
        await s.publish(consent(worker, "髙橋 健太"))

        async def ready() -> bool:
            if len((await s.get("/workers")).json()) != 1:
                return False
            prefill = await s.get(f"/workers/{worker}/career-prefill")
            return prefill.status_code == 200 and bool(prefill.json()["ccus_available"])

        await eventually(ready)
        app_id = await s.draft({"worker_id": worker, "trade": "鉄筋", "requested_level": 2})
        done = await s.post(f"/applications/{app_id}/submit", **{"Idempotency-Key": app_id})
        assert done.status_code == 200, done.text

        # the judgement service judges the line (its first judgement): 判定完了（承認）, and
        # the worker's consent ends with it
        async def completed() -> bool:
            return await s.status(app_id) == "completed"

        await eventually(completed)
        first = (await s.get(f"/applications/{app_id}")).json()
        line = first["lines"][0]
        assert (line["status_ja"], line["eligible_level"], line["judgement_sequence"]) == (
            "判定完了（承認）",
            2,
            1,
        )
        assert [(e["sequence"], e["judgement_id"]) for e in line["judgement_history"]] == [
            (1, line["judgement_id"])
        ]
        assert (await s.get("/workers")).json() == []

        # the worker consents again (for his next application) …
        await s.publish(consent(worker, "髙橋 健太", granted_at=datetime.now(UTC)))

        async def consented_again() -> bool:
            return len((await s.get("/workers")).json()) == 1

        await eventually(consented_again)

        # … and the line is judged again (再判定) after that grant, as the judgement service
        # publishes it: same event type and topic, a higher sequence, judged now
        rejudgement = Envelope(
            judgement_completed(
                judgement_id=f"{line['judgement_id']}-R1",
                application_id=app_id,
                line_id=line["line_id"],
                employer_id=EMPLOYER,
                worker_id=worker,
                worker_name="髙橋 健太",
                decision="rejected",
                eligible_level=1,
                criteria_version="鉄筋@2026-12-01",
                messages=["判定基準の訂正に伴う再判定です（鉄筋の基準訂正）"],
                sequence=2,
                supersedes=line["judgement_id"],
                previous_decision="approved",
                previous_eligible_level=2,
                rejudgement_run_id="R1",
                rejudgement_reason="鉄筋の基準訂正",
            ),
            source="judgement",
        )
        await s.publish(rejudgement)
        consumer = s.container.runtime.consumer
        await eventually(lambda: consumer.inbox.seen(consumer.group, rejudgement.id))
        detail = (await s.get(f"/applications/{app_id}")).json()
        current = detail["lines"][0]
        assert (current["status_ja"], current["decision"], current["eligible_level"]) == (
            "判定完了（不承認）",
            "rejected",
            1,
        )
        assert (current["judgement_id"], current["judgement_sequence"]) == (
            f"{line['judgement_id']}-R1",
            2,
        )
        assert (current["supersedes"], current["rejudgement_reason"]) == (
            line["judgement_id"],
            "鉄筋の基準訂正",
        )
        assert current["criteria_version"] == "鉄筋@2026-12-01"
        assert [
            (e["sequence"], e["decision_ja"], e["eligible_level"], e["supersedes"])
            for e in current["judgement_history"]
        ] == [(1, "承認", 2, None), (2, "不承認", 1, line["judgement_id"])]
        # what the first completion did is not done again
        assert (detail["status"], detail["completed_at"]) == ("completed", first["completed_at"])
        summary = (await s.get("/applications", status="completed")).json()[0]
        assert (summary["approved_count"], summary["rejected_count"]) == (0, 1)
        # the consent granted after the first judgement is still valid
        assert [w["worker_id"] for w in (await s.get("/workers")).json()] == [worker]

        # redelivered, or the first judgement again (a copy with another id): nothing changes
        store = s.container.service.applications
        before = await store.get(app_id)
        assert before is not None
        stale = Envelope(
            rejudgement.event.model_copy(  # type: ignore[attr-defined]
                update={
                    "judgement_id": line["judgement_id"],
                    "decision": "approved",
                    "eligible_level": 2,
                    "sequence": 1,
                    "supersedes": None,
                    "previous_decision": None,
                    "previous_eligible_level": None,
                    "rejudgement_run_id": None,
                    "rejudgement_reason": None,
                    "judged_at": datetime.fromisoformat(line["judged_at"]),
                }
            ),
            source="judgement",
        )
        await s.publish(rejudgement)
        await s.publish(stale)
        await eventually(lambda: consumer.inbox.seen(consumer.group, stale.id))
        after = await store.get(app_id)
        assert after is not None
        assert after.lines == before.lines
        assert after.status == before.status
        assert [w["worker_id"] for w in (await s.get("/workers")).json()] == [worker]


async def test_started_judging_withdrawal_and_rejected_consents(
    settings: ServiceSettings, db: object
) -> None:
    async with stack(settings) as s:
        for worker in ("99200000000001", "99200000000002", "99200000000003"):
            await s.publish(consent(worker, "髙﨑 誠"))
        rejection = Envelope(
            ConsentRejected(
                consent_id=f"{EMPLOYER}-99200000000003",
                employer_id=EMPLOYER,
                worker_id="99200000000003",
                reason="署名がありません",
                rejected_at=datetime.now(UTC),
            ),
            source="consent",
        )
        await s.publish(rejection)
        consumer = s.container.runtime.consumer
        await eventually(lambda: consumer.inbox.seen(consumer.group, rejection.id))

        async def two_workers() -> bool:
            found = (await s.get("/workers")).json()
            return [w["worker_id"] for w in found] == ["99200000000001", "99200000000002"]

        await eventually(two_workers)
        refused = await s.post(
            "/applications",
            {"delivery_address": ADDRESS, "declarations": DECLARED},
        )
        rejected_line = await s.post(
            f"/applications/{refused.json()['application_id']}/lines",
            {"worker_id": "99200000000003", "trade": "鉄筋", "requested_level": 2},
        )
        assert rejected_line.status_code == 422
        assert rejected_line.json()["errors"][0]["code"] == "consent_required"

        # no CCUS data yet: the line can be added (no prefill) and waits in the judgement
        line = {"worker_id": "99200000000001", "trade": "鉄筋", "requested_level": 2}
        first = await s.draft(line)
        shown = (await s.get(f"/applications/{first}")).json()["lines"][0]
        assert shown["career_period"] is None
        assert "CCUSデータがまだ届いていない" in shown["career_prefill"]["notes"][0]["reason_ja"]
        no_ccus = await s.post(f"/applications/{first}/lines/{first}-01/preview")
        assert no_ccus.status_code == 422 and no_ccus.json()["code"] == "ccus_not_found"
        second = await s.draft({**line, "worker_id": "99200000000002"})
        for app_id in (first, second):
            done = await s.post(f"/applications/{app_id}/submit", **{"Idempotency-Key": app_id})
            assert done.status_code == 200, done.text

        # withdrawal before judging starts: allowed, ApplicationWithdrawn
        expected = [
            Expected(ApplicationWithdrawn, {"application_id": first, "line_ids": [f"{first}-01"]})
        ]
        async with expect_events(s.settings, expected):
            withdrawn = await s.post(f"/applications/{first}/withdraw", {"reason": "技能者の退職"})
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status_ja"] == "取下げ"
        again = await s.post(f"/applications/{first}/withdraw")
        assert again.status_code == 409 and again.json()["code"] == "already_withdrawn"

        # JudgementStarted → 判定中, and no withdrawal any more
        line_id = f"{second}-01"
        await s.publish(
            Envelope(
                JudgementStarted(
                    judgement_id=f"J-{line_id}",
                    application_id=second,
                    line_id=line_id,
                    employer_id=EMPLOYER,
                    worker_id="99200000000002",
                    started_at=datetime.now(UTC),
                ),
                source="judgement",
            )
        )

        async def judging() -> bool:
            return await s.status(second) == "judging"

        await eventually(judging)
        view = (await s.get(f"/applications/{second}")).json()
        assert (view["status_ja"], view["lines"][0]["status_ja"]) == ("判定中", "判定中")
        late = await s.post(f"/applications/{second}/withdraw")
        assert late.status_code == 409 and late.json()["code"] == "judgement_started"
        assert [
            a["application_id"] for a in (await s.get("/applications", status="withdrawn")).json()
        ] == [first]
        assert [
            a["application_id"] for a in (await s.get("/applications", status="judging")).json()
        ] == [second]
        invalid = await s.get("/applications", status="unknown")
        assert invalid.status_code == 422


async def test_draft_reminder_once_and_isolation(settings: ServiceSettings, db: object) -> None:
    async with stack(settings, draft_reminder_after_hours=0, draft_reminder_sweep_seconds=0.2) as s:
        await s.publish(Envelope(snapshot("99300000000001", days=10), source="ccus"))
        await s.publish(consent("99300000000001", "山﨑 隆"))
        await s.publish(consent("99300000000001", "山﨑 隆", employer_id=OTHER_EMPLOYER))

        async def consented() -> bool:
            return (
                len((await s.get("/workers")).json()) == 1
                and len((await s.get("/workers", employer_id=OTHER_EMPLOYER)).json()) == 1
            )

        await eventually(consented)
        expected = [Expected(ApplicationDraftReminder, {"line_count": 1, "employer_id": EMPLOYER})]
        async with expect_events(s.settings, expected, settle=2.0) as recorded:
            empty = await s.draft()  # no lines: no reminder
            app_id = await s.draft(
                {"worker_id": "99300000000001", "trade": "鉄筋", "requested_level": 2}
            )
        assert recorded.envelopes[0].event.application_id == app_id  # type: ignore[attr-defined]
        drafts = (await s.get("/applications", status="draft")).json()
        assert [d["application_id"] for d in drafts] == [app_id, empty]
        assert drafts[0]["attention_ja"].startswith("申請ボタンが押されていません")
        assert drafts[0]["last_reminded_at"] is not None and drafts[1]["attention_ja"] is None

        # another employer: its list is empty and every route answers 404
        other = OTHER_EMPLOYER
        assert (await s.get("/applications", employer_id=other)).json() == []
        line = f"/applications/{app_id}/lines/{app_id}-01"
        headers = s.headers(other, **{"Idempotency-Key": "k-1"})
        answers = [
            await s.get(f"/applications/{app_id}", employer_id=other),
            await s.client.patch(f"/applications/{app_id}", json={}, headers=headers),
            await s.client.delete(f"/applications/{app_id}", headers=headers),
            await s.post(
                f"/applications/{app_id}/lines",
                {"worker_id": "99300000000001", "trade": "鉄筋", "requested_level": 2},
                employer_id=other,
            ),
            await s.client.put(
                line,
                json={"worker_id": "99300000000001", "trade": "鉄筋", "requested_level": 2},
                headers=headers,
            ),
            await s.client.delete(line, headers=headers),
            await s.post(f"{line}/preview", employer_id=other),
            await s.client.post(f"/applications/{app_id}/submit", headers=headers),
            await s.post(f"/applications/{app_id}/withdraw", employer_id=other),
        ]
        assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "not_found")] * 9
        mine = (await s.get(f"/applications/{app_id}")).json()
        assert mine["status"] == "draft" and len(mine["lines"]) == 1
        assert (await s.client.get("/applications")).status_code == 401

        # a draft is deleted (and disappears), not withdrawn
        deleted = await s.client.delete(f"/applications/{empty}", headers=s.headers())
        assert deleted.status_code == 204
        assert (await s.get(f"/applications/{empty}")).status_code == 404


async def test_a_judgement_outage_is_a_503_in_japanese(
    settings: ServiceSettings, db: object
) -> None:
    async with stack(settings, judgement=False, judgement_url="http://127.0.0.1:9") as s:
        await s.publish(consent("99400000000001", "濵田 由美"))

        async def consented() -> bool:
            return len((await s.get("/workers")).json()) == 1

        await eventually(consented)
        app_id = await s.draft()
        line = {"worker_id": "99400000000001", "trade": "硝子工事", "requested_level": 2}
        answers = [
            await s.post(f"/applications/{app_id}/lines", line),
            await s.get("/options"),
            await s.get("/workers/99400000000001/career-prefill"),
        ]
        for answer in answers:
            assert answer.status_code == 503
            assert answer.json() == {
                "code": "judgement_unavailable",
                "message": "判定サービスに接続できないため、処理できませんでした。"
                "しばらくしてから再度お試しください。",
            }
        assert (await s.get(f"/applications/{app_id}")).json()["lines"] == []
        submit = await s.post(f"/applications/{app_id}/submit", **{"Idempotency-Key": "k-1"})
        assert submit.status_code == 503 and submit.json()["code"] == "judgement_unavailable"
