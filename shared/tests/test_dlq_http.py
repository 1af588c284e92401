"""The operators' dead-letter API: list, inspect (masked) and replay, audited, operators only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted
from shared_kernel.infra.dlq import audit_db_name
from shared_kernel.infra.mongo import connect
from shared_kernel.infra.runtime import Runtime
from shared_kernel.infra.service import service_app
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_granted as granted
from shared_kernel.infra.testing import eventually, signed_token
from shared_kernel.principal import Principal


@dataclass
class Toy:
    """A consuming service whose handler fails until the fix is 'deployed'."""

    runtime: Runtime
    broken: bool = True
    handled: list[str] = field(default_factory=list)


def bearer(settings: ServiceSettings, role: str) -> dict[str, str]:
    principal = Principal(subject=f"{role}-7", role=role, employer_id=None)  # type: ignore[arg-type]
    return {"Authorization": "Bearer " + signed_token(principal)}


async def test_operator_lists_inspects_and_replays_a_dead_letter(settings: ServiceSettings) -> None:
    own = settings.model_copy(update={"consumer_backoff_seconds": 0.01, "service_name": "toy"})
    toys: list[Toy] = []

    def wire(runtime: Runtime) -> Toy:
        toy = Toy(runtime)

        async def handle(envelope: Envelope) -> None:
            if toy.broken:
                raise RuntimeError("read model schema mismatch")
            toy.handled.append(envelope.id)

        runtime.consumer.handle(ConsentGranted, handle)
        toys.append(toy)
        return toy

    app = service_app("toy", own, wire)
    operator = bearer(own, "operator")
    event = granted()
    try:
        async with app.router.lifespan_context(app):
            toy = toys[0]
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            async with client:
                await toy.runtime.publish(event)
                rows: list[dict[str, Any]] = []

                async def listed() -> bool:
                    reply = await client.get("/dead-letters", headers=operator)
                    assert reply.status_code == 200, reply.text
                    rows[:] = reply.json()
                    return len(rows) == 1

                await eventually(listed, 40)
                row = rows[0]
                assert row["ce_id"] == event.id and row["correlation_id"] == event.correlation_id
                assert row["consumer_group"] == own.topic_prefix + "toy"
                assert "read model schema mismatch" in row["error"] and row["replays"] == []
                path = f"/dead-letters/{row['topic']}/{row['partition']}/{row['offset']}"

                for role in ("employer", "evaluator"):
                    refused = await client.get("/dead-letters", headers=bearer(own, role))
                    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
                assert (await client.get(path)).status_code == 401
                assert (
                    await client.post(path + "/replay", json={"reason": "x"})
                ).status_code == 401

                shown = await client.get(path, headers=operator)
                assert shown.status_code == 200
                assert shown.json()["payload"]["worker_name"] == "***"
                assert "𠮷野" not in shown.text and "1990-02-03" not in shown.text

                blank = await client.post(path + "/replay", json={"reason": " "}, headers=operator)
                assert blank.status_code == 422 and blank.json()["code"] == "reason_required"
                missing = await client.get(
                    f"/dead-letters/{row['topic']}/{row['partition']}/99999", headers=operator
                )
                assert missing.status_code == 404
                assert missing.json()["message"] == "指定されたデッドレターは見つかりませんでした。"
                wrong = await client.get("/dead-letters/some.topic/0/0", headers=operator)
                assert (
                    wrong.status_code == 400 and wrong.json()["code"] == "not_a_dead_letter_topic"
                )
                assert toy.handled == []

                toy.broken = False  # the fix is deployed
                done = await client.post(
                    path + "/replay", json={"reason": "読み取りモデルを修正"}, headers=operator
                )
                assert done.status_code == 202, done.text
                assert done.json()["correlation_id"] == event.correlation_id
                assert done.json()["operator"] == "operator-7"
                await eventually(lambda: toy.handled == [event.id], 30)

                after = (await client.get("/dead-letters", headers=operator)).json()
                assert [r["replays"][0]["reason"] for r in after] == ["読み取りモデルを修正"]
    finally:
        mongo = connect(own.mongodb_url)
        try:
            audits = await mongo[audit_db_name(own)]["dlq_replays"].find().to_list()
            assert [(a["operator"], a["ce_id"]) for a in audits] == [("operator-7", event.id)]
        finally:
            await mongo.drop_database(audit_db_name(own))
            await mongo.drop_database(own.db_name)
            await mongo.close()
