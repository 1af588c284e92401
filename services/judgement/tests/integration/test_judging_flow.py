"""The judgement service end to end in one process: real Kafka, real database.

Snapshots and applications are published as the CCUS feed and the application service
would; the service's own consumer, stores and relay run as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import REGISTRY

from judgement.config import Settings
from judgement.core import judging
from judgement.inject import Container, create_app, wire
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusQualification,
    CcusWorkerSnapshot,
    CcusWorkRecord,
    JudgementCompletedV2,
    JudgementStarted,
    PartnerJudgementCompleted,
)
from shared_kernel.infra.service import prepare
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import (
    Expected,
    eventually,
    expect_events,
    isolated,
    publisher,
    signed_token,
)
from shared_kernel.principal import Principal

EMPLOYER = "12345678901234"


def snapshot(
    worker_id: str, *, days: int, taken_at: datetime | None = None, simple: bool = False
) -> CcusWorkerSnapshot:
    """A 鉄筋 worker registered 2020-04-01 with 玉掛け and ``days`` distinct work days."""
    start = date(2020, 4, 1)
    return CcusWorkerSnapshot(
        worker_id=worker_id,
        taken_at=taken_at or datetime(2026, 11, 1, tzinfo=UTC),
        registration_type="simple" if simple else "detailed",
        registered_on=start,
        name="髙﨑 𠮷男",
        name_kana="タカサキ ヨシオ",
        birth_date=date(1980, 4, 1),
        qualifications=[
            CcusQualification(code="40040", name="玉掛け技能講習", acquired_on=date(2015, 5, 1))
        ],
        work_history=[
            CcusWorkRecord(date=start + timedelta(days=n), site_id="S1") for n in range(days)
        ],
    )


def application(app_id: str, *workers: str, level: int = 2) -> Envelope:
    return Envelope(
        ApplicationSubmitted(
            application_id=app_id,
            employer_id=EMPLOYER,
            application_date=date(2026, 11, 20),
            submitted_at=datetime(2026, 11, 20, tzinfo=UTC),
            fee_total_yen=4000 * len(workers),
            lines=[
                ApplicationLine(
                    line_id=f"{app_id}-{n}",
                    worker_id=worker,
                    worker_name="髙﨑 𠮷男",
                    worker_name_kana="タカサキ ヨシオ",
                    birth_date=date(1980, 4, 1),
                    trade="鉄筋",
                    requested_level=level,
                    fee_yen=4000,
                )
                for n, worker in enumerate(workers, 1)
            ],
        ),
        source="application",
    )


@asynccontextmanager
async def judgement_service(base: ServiceSettings, **overrides: Any) -> AsyncIterator[Container]:
    settings = isolated(
        Settings,
        topic_prefix=base.topic_prefix,
        db_name=base.db_name,
        consumer_backoff_seconds=0.05,
        outbox_poll_seconds=0.2,
        **overrides,
    )
    async with prepare(settings, wire) as container:
        await container.masters.current()  # the master in force, built from the database
        yield container


async def test_snapshot_then_application_is_judged_once(
    settings: ServiceSettings, db: object
) -> None:
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        await publish(Envelope(snapshot("10000000000001", days=645), source="ccus"))
        await publish(Envelope(snapshot("10000000000002", days=644), source="ccus"))
        await eventually(lambda: svc.service.ccus_summary("10000000000002"))
        submitted = application("A-1", "10000000000001", "10000000000002")
        labels = {
            "trade": "鉄筋",
            "requested_level": "2",
            "eligible_level": "2",
            "decision": "approved",
        }
        before = REGISTRY.get_sample_value("judgements_completed_total", labels) or 0.0
        expected = [
            Expected(
                JudgementCompletedV2,
                {"line_id": "A-1-1", "decision": "approved", "eligible_level": 2},
            ),
            Expected(
                JudgementCompletedV2,
                {"line_id": "A-1-2", "decision": "rejected", "eligible_level": 1},
            ),
            # the partners' view of each, once (docs/events.md)
            Expected(PartnerJudgementCompleted, {"line_id": "A-1-1", "decision": "approved"}),
            Expected(PartnerJudgementCompleted, {"line_id": "A-1-2", "decision": "rejected"}),
        ]
        async with expect_events(settings, expected) as recorded:
            await publish(submitted)
            await publish(submitted)  # redelivered
            # a second event for the same lines (e.g. a replayed copy with a new id)
            await publish(application("A-1", "10000000000001", "10000000000002"))
        rejected = next(
            e
            for e in recorded.envelopes
            if e.event.line_id == "A-1-2" and isinstance(e.event, JudgementCompletedV2)  # type: ignore[attr-defined]
        )
        assert any("645" in m for m in rejected.event.messages)  # type: ignore[attr-defined]
        assert {h["ce_correlationid"] for h in recorded.headers} == {submitted.correlation_id}
        assert REGISTRY.get_sample_value("judgements_completed_total", labels) == before + 1
        stored = await svc.service.judgements.get("A-1-1")
        assert stored is not None
        assert stored.criteria_version is not None
        assert stored.criteria_version.startswith("鉄筋@")
        assert judging.result_of(stored)["days"]["ccus"] == 645  # type: ignore[index]
        # reproducible: the stored input and the snapshot it cites give the same result
        assert stored.snapshot_id == "10000000000001@2026-11-01T00:00:00+00:00"
        _, again = await svc.service.reproduce("A-1-1")
        assert again.model_dump(mode="json") == judging.result_of(stored)


async def test_application_waits_for_its_snapshot(settings: ServiceSettings, db: object) -> None:
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        await publish(application("A-2", "10000000000003"))

        async def waiting() -> bool:
            doc = await svc.service.judgements.get("A-2-1")
            return doc is not None and doc.status == "waiting_ccus"

        await eventually(waiting)
        newer = snapshot("10000000000003", days=700, taken_at=datetime(2026, 11, 10, tzinfo=UTC))
        older = snapshot("10000000000003", days=10, taken_at=datetime(2026, 10, 1, tzinfo=UTC))
        expected = [Expected(JudgementCompletedV2, {"line_id": "A-2-1", "decision": "approved"})]
        async with expect_events(settings, expected):
            await publish(Envelope(newer, source="ccus"))
        stale = Envelope(older, source="ccus")
        await publish(stale)  # never overwrites the newer one
        consumer = svc.runtime.consumer
        await eventually(lambda: consumer.inbox.seen(consumer.group, stale.id))
        latest = await svc.service.workers.get("10000000000003")
        assert latest is not None and latest.taken_at == newer.taken_at
        assert latest.summary["work_days"] == 700


async def test_missing_ccus_data_expires_as_rejected(settings: ServiceSettings, db: object) -> None:
    async with judgement_service(settings, ccus_wait_days=0, expiry_sweep_seconds=0.2) as svc:
        expected = [Expected(JudgementCompletedV2, {"line_id": "A-3-1", "decision": "rejected"})]
        async with expect_events(settings, expected) as recorded, publisher(settings) as publish:
            await publish(application("A-3", "10000000000004"))
        assert "CCUSの技能者データを受信できなかった" in recorded.envelopes[0].event.messages[0]  # type: ignore[attr-defined]
        done = await svc.service.judgements.get("A-3-1")
        assert done is not None and done.status == "completed"


async def test_review_queue_over_http(settings: ServiceSettings, db: object) -> None:
    judgement_settings = isolated(
        Settings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        review_policy="review_all",
        outbox_poll_seconds=0.2,
    )
    app = create_app(judgement_settings)
    evaluator = {
        "Authorization": "Bearer " + signed_token(Principal(subject="hyoka01", role="evaluator"))
    }
    employer = {
        "Authorization": "Bearer "
        + signed_token(Principal(subject="kensetsu01", role="employer", employer_id=EMPLOYER))
    }
    other = {
        "Authorization": "Bearer "
        + signed_token(
            Principal(subject="other0001", role="employer", employer_id="99999999999999")
        )
    }
    async with app.router.lifespan_context(app), publisher(settings) as publish:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://judgement"
        )
        await publish(Envelope(snapshot("10000000000005", days=700), source="ccus"))
        await publish(Envelope(snapshot("10000000000006", days=700), source="ccus"))
        await eventually(lambda: _has_snapshot(client, "10000000000006", evaluator))
        # a worker's CCUS data (personal data) only for an employer with his consent or a
        # judgement of him: a guessed 技能者ID answers as an unknown one
        assert (
            await client.get("/workers/10000000000006/ccus", headers=employer)
        ).status_code == 404
        await publish(application("A-4", "10000000000005", "10000000000006", level=3))

        async def queued() -> bool:
            return len((await client.get("/reviews", headers=evaluator)).json()) == 2

        await eventually(queued)
        assert (await client.get("/reviews", headers=employer)).status_code == 403
        assert (await client.get("/reviews")).status_code == 401
        mine = (
            await client.get("/judgements", params={"application_id": "A-4"}, headers=employer)
        ).json()
        assert [j["status_ja"] for j in mine] == ["審査待ち", "審査待ち"]
        assert (await client.get("/judgements", headers=other)).json() == []
        assert (await client.get("/judgements/A-4-1", headers=other)).status_code == 404
        ccus = "/workers/10000000000006/ccus"
        assert (await client.get(ccus, headers=employer)).status_code == 200
        assert (await client.get(ccus, headers=other)).status_code == 404

        no_reason = await client.post(
            "/judgements/A-4-2/review",
            json={"action": "override", "eligible_level": 3},
            headers=evaluator,
        )
        assert no_reason.status_code == 422
        assert no_reason.json()["message"] == "判定を変更する場合は理由を入力してください。"
        expected = [
            Expected(
                JudgementCompletedV2,
                {"line_id": "A-4-1", "decision": "rejected", "eligible_level": 2},
            ),
            Expected(
                JudgementCompletedV2,
                {"line_id": "A-4-2", "decision": "approved", "eligible_level": 3},
            ),
        ]
        async with expect_events(settings, expected):
            confirmed = await client.post(
                "/judgements/A-4-1/review", json={"action": "confirm"}, headers=evaluator
            )
            assert confirmed.status_code == 200, confirmed.text
            overridden = await client.post(
                "/judgements/A-4-2/review",
                json={
                    "action": "override",
                    "eligible_level": 3,
                    "reason": "1級鉄筋施工技能士の合格証を確認",
                },
                headers=evaluator,
            )
            assert overridden.json()["status_ja"] == "判定完了"
        again = await client.post(
            "/judgements/A-4-1/review", json={"action": "confirm"}, headers=evaluator
        )
        assert again.status_code == 409
        await client.aclose()


async def _has_snapshot(client: httpx.AsyncClient, worker_id: str, headers: dict[str, str]) -> bool:
    return (await client.get(f"/workers/{worker_id}/ccus", headers=headers)).status_code == 200


async def test_master_and_preview_endpoints(settings: ServiceSettings, db: object) -> None:
    app = create_app(
        isolated(Settings, topic_prefix=settings.topic_prefix, db_name=settings.db_name)
    )
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://judgement"
        )
        trades = (await client.get("/trades")).json()
        assert len(trades) == 48  # the 49 分野 of trades.md, less the one whose name is unknown
        assert {t["name"] for t in trades if t["judgeable"]} >= {"鉄筋", "電気工事", "とび"}
        level3 = (await client.get("/trades/鉄筋")).json()["levels"][1]
        assert (level3["level"], level3["days"], level3["foreman_days"]) == (3, 1505, 645)
        request = {
            "trade": "鉄筋",
            "requested_level": 2,
            "application_date": "2026-11-01",
            "ccus": snapshot("10000000000007", days=645).model_dump(mode="json")
            | {"registration_type": "詳細型"},
        }
        request["ccus"] = {
            k: request["ccus"][k]
            for k in (
                "worker_id",
                "registration_type",
                "registered_on",
                "qualifications",
                "work_history",
            )
        }
        for record in request["ccus"]["work_history"]:
            record["occupation"] = record.pop("occupation_code")
        result = (await client.post("/preview", json=request)).json()
        assert (result["decision"], result["eligible_level"]) == ("approved", 2)
        unknown = await client.post("/preview", json={**request, "trade": "左官"})
        assert unknown.status_code == 422
        assert "この分野の判定基準はまだ登録されていません" in unknown.json()["message"]
        assert (
            await client.post("/preview", json={**request, "requested_level": 5})
        ).status_code == 422
        await client.aclose()


async def test_judgement_started_and_withdrawal_before_it(
    settings: ServiceSettings, db: object
) -> None:
    async with (
        judgement_service(settings, review_policy="auto") as svc,
        publisher(settings) as publish,
    ):
        # a line waiting for CCUS data can be withdrawn; it is then never judged
        await publish(application("A-5", "10000000000008"))

        async def waiting() -> bool:
            return await svc.service.judgements.get("A-5-1") is not None

        await eventually(waiting)
        withdrawn = ApplicationWithdrawn(
            application_id="A-5",
            employer_id=EMPLOYER,
            line_ids=["A-5-1"],
            withdrawn_at=datetime(2026, 11, 21, tzinfo=UTC),
        )
        await publish(Envelope(withdrawn, source="application"))

        async def dropped() -> bool:
            doc = await svc.service.judgements.get("A-5-1")
            return doc is not None and doc.status == "withdrawn"

        await eventually(dropped)
        expected = [Expected(JudgementStarted, {"line_id": "A-6-1"})]
        async with expect_events(settings, expected) as recorded:
            await publish(Envelope(snapshot("10000000000008", days=700), source="ccus"))
            await publish(application("A-6", "10000000000008"))
        # the withdrawn line stayed withdrawn when its worker's snapshot arrived
        kept = await svc.service.judgements.get("A-5-1")
        assert kept is not None and kept.status == "withdrawn"
        assert [e.type for e in recorded.others] == [JudgementCompletedV2.ce_type()]


async def test_metrics_expose_the_operations_series_after_traffic(
    settings: ServiceSettings, db: object
) -> None:
    judgement_settings = isolated(
        Settings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        review_policy="auto",
        outbox_poll_seconds=0.2,
        lag_poll_seconds=0.3,
    )
    app = create_app(judgement_settings)
    async with app.router.lifespan_context(app), publisher(settings) as publish:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://j")
        await publish(Envelope(snapshot("10000000000009", days=700), source="ccus"))
        expected = [Expected(JudgementCompletedV2, {"line_id": "A-7-1"})]
        async with expect_events(settings, expected):
            await publish(application("A-7", "10000000000009"))
        assert (await client.get("/trades")).status_code == 200
        group = settings.topic_prefix + "judgement"

        def has(text: str, name: str, *labels: str) -> bool:
            return any(
                line.startswith(name + "{") and all(label in line for label in labels)
                for line in text.splitlines()
            )

        async def exported() -> bool:
            text = (await client.get("/metrics")).text
            return has(text, "kafka_consumer_lag_total", f'group="{group}"')

        await eventually(exported)
        text = (await client.get("/metrics")).text
        for name, *labels in (
            ("http_requests_total", 'route="/trades"', 'status="200"'),
            ("http_request_duration_seconds_bucket", 'route="/trades"'),
            ("events_consumed_total", f'group="{group}"', 'outcome="handled"'),
            ("event_handler_duration_seconds_bucket", f'group="{group}"'),
            ("kafka_consumer_lag", f'group="{group}"', 'partition="0"'),
            ("kafka_consumer_lag_measured_timestamp_seconds", f'group="{group}"'),
            ("outbox_pending_events", 'collection="judgements"'),
            ("outbox_oldest_pending_age_seconds", 'collection="judgements"'),
            ("outbox_published_total", 'collection="judgements"'),
            ("judgements_completed_total", 'decision="approved"', 'eligible_level="2"'),
            ("events_published_total", 'type="jp.ccus.level.judgement.completed.v2"'),
        ):
            assert has(text, name, *labels), (name, labels)
        await client.aclose()
