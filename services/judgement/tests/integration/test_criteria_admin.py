"""基準管理 over HTTP with the real database and Kafka: draft → submit → approve, and every
judgement process — the one that published and a second instance on the same database —
judging with the new table without a restart; the refusals; re-judgement on approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx

from judgement.config import Settings
from judgement.inject import create_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    CriteriaPublished,
    JudgementCompletedV2,
    RejudgementPlanned,
)
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

from .test_judging_flow import EMPLOYER, application, snapshot

TEKKIN = "鉄筋@2019-10-08"
CORRECTED = "鉄筋@2019-10-08-r2"


def own_settings(base: ServiceSettings, **overrides: Any) -> Settings:
    return isolated(
        Settings,
        topic_prefix=base.topic_prefix,
        db_name=base.db_name,
        consumer_backoff_seconds=0.05,
        outbox_poll_seconds=0.2,
        criteria_poll_seconds=0.3,
        **overrides,
    )


@asynccontextmanager
async def instance(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """One judgement service process (HTTP app, consumers, relay, poll) in this process."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://j") as client,
    ):
        yield client


def headers(
    settings: Settings, subject: str, role: str, trades: tuple[str, ...] | None = None
) -> dict[str, str]:
    principal = Principal(subject=subject, role=role, trades=trades)  # type: ignore[arg-type]
    token = signed_token(principal)
    return {"Authorization": f"Bearer {token}"}


def preview_request(days: int) -> dict[str, Any]:
    """A §5 request of a 鉄筋 worker with 玉掛け and ``days`` work days (level 2 asked)."""
    ccus = snapshot("10000000000099", days=days).model_dump(mode="json")
    body = {k: ccus[k] for k in ("worker_id", "registered_on", "qualifications")}
    body["registration_type"] = "詳細型"
    body["work_history"] = [
        {"date": r["date"], "site_id": r["site_id"], "occupation": r["occupation_code"]}
        for r in ccus["work_history"]
    ]
    return {"trade": "鉄筋", "requested_level": 2, "application_date": "2026-11-20", "ccus": body}


async def level2_days(client: httpx.AsyncClient) -> int:
    detail = (await client.get("/trades/鉄筋")).json()
    return int(detail["levels"][0]["days"])


async def corrected_table(client: httpx.AsyncClient, days: int) -> dict[str, Any]:
    version = (await client.get(f"/criteria/versions/{quote(TEKKIN)}")).json()
    table = version["table"]
    table["levels"]["2"]["days"] = days
    return table


async def test_draft_submit_approve_reaches_every_process_without_restart(
    settings: ServiceSettings, db: object
) -> None:
    own = own_settings(settings)
    editor = headers(own, "zentekkin01", "criteria_editor", ("鉄筋",))
    tobi_editor = headers(own, "tobi01", "criteria_editor", ("とび",))
    approver = headers(own, "mlit01", "criteria_approver")
    same_person = headers(own, "zentekkin01", "criteria_approver")
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(instance(own))
        second = await stack.enter_async_context(instance(own_settings(settings)))

        listed = (await first.get("/criteria/trades")).json()
        assert len(listed) == 48
        tekkin = next(t for t in listed if t["trade"] == "鉄筋")
        assert (tekkin["status"], tekkin["version"], tekkin["revision"]) == ("judgeable", TEKKIN, 1)
        assert tekkin["pending_drafts"] is None  # anonymous
        survey = next(t for t in listed if t["trade"] == "建築測量")
        assert (survey["status"], survey["version"]) == ("partial", None)
        read = (await first.get("/criteria/trades/鉄筋")).json()
        assert read["levels"][2]["qualifications"]["kind"] == "any_of"
        assert read["versions"][0]["published_by"] == "seed" and read["versions"][0]["in_force"]
        assert await level2_days(second) == 645
        assert (await second.post("/preview", json=preview_request(645))).json()[
            "decision"
        ] == "approved"

        table = await corrected_table(first, 700)
        other = await first.post(
            "/criteria/drafts",
            json={"trade": "鉄筋", "effective_from": "2019-10-08", "table": table},
            headers=tobi_editor,
        )
        assert other.status_code == 403 and other.json()["code"] == "other_trade"
        assert (await first.post("/criteria/drafts", json={"trade": "鉄筋"})).status_code == 401
        created = await first.post(
            "/criteria/drafts",
            json={"trade": "鉄筋", "effective_from": "2019-10-08", "table": table},
            headers=editor,
        )
        assert created.status_code == 201, created.text
        draft = created.json()
        assert (draft["corrects"], draft["version"], draft["problems"]) == (TEKKIN, 1, [])
        draft_url = f"/criteria/drafts/{draft['draft_id']}"

        # a save over a version someone else saved meanwhile: 409, nothing stored, echoed
        ok = await first.put(draft_url, json={"version": 1, "table": table}, headers=editor)
        assert ok.status_code == 200 and ok.json()["version"] == 2
        bad_table = {**table, "notes": "古い画面からの保存"}
        stale = await second.put(draft_url, json={"version": 1, "table": bad_table}, headers=editor)
        assert stale.status_code == 409
        answer = stale.json()
        assert answer["code"] == "stale_draft"
        assert "あなたが編集を始めた版（1）の後に、他の方が版2を保存しています" in answer["message"]
        assert (answer["your_version"], answer["current_version"]) == (1, 2)
        assert answer["rejected"]["table"]["notes"] == "古い画面からの保存"
        stored = (await first.get(draft_url, headers=editor)).json()
        assert stored["version"] == 2 and "notes" not in stored["table"]

        # a problem is named with its field and a Japanese message
        broken = {
            **table,
            "levels": {
                **table["levels"],
                "3": {**table["levels"]["3"], "foreman": {"scope": "職長又は班長", "days": 0}},
            },
        }
        wrong = await first.put(draft_url, json={"version": 2, "table": broken}, headers=editor)
        assert wrong.json()["problems"] == [
            {
                "path": "levels.3.foreman.days",
                "message_ja": "レベル3の職長日数は1以上の整数で入力してください",
                "kind": "invalid",
            }
        ]
        refused = await first.post(f"{draft_url}/submit", headers=editor)
        assert refused.status_code == 422 and refused.json()["code"] == "has_problems"
        unreadable = await first.put(
            draft_url,
            json={"version": 3, "table": {"levels": {"2": {"days": "七百"}}}},
            headers=editor,
        )
        assert unreadable.status_code == 422
        assert (
            unreadable.json()["problems"][0]["message_ja"]
            == "レベル2の就業日数は0以上の整数で入力してください"
        )
        await first.put(draft_url, json={"version": 3, "table": table}, headers=editor)

        diff = (await first.get(f"{draft_url}/diff", headers=approver)).json()
        assert diff["against"] == TEKKIN
        assert [c["summary_ja"] for c in diff["changes"]] == ["レベル2の就業日数：645日 → 700日"]
        assert (await first.post(f"{draft_url}/submit", headers=editor)).json()[
            "status"
        ] == "submitted"
        assert (await first.get("/criteria/drafts", headers=tobi_editor)).json() == []

        own_approval = await first.post(
            f"{draft_url}/approve", json={"reason": "x", "rejudge": False}, headers=same_person
        )
        assert own_approval.status_code == 403 and own_approval.json()["code"] == "own_draft"
        assert (
            await first.post(f"{draft_url}/approve", json={"reason": "x"}, headers=editor)
        ).status_code == 403

        expected = [
            Expected(
                CriteriaPublished,
                {"trade": "鉄筋", "version": CORRECTED, "revision": 2, "approved_by": "mlit01"},
            )
        ]
        async with expect_events(settings, expected) as recorded:
            approved = await first.post(
                f"{draft_url}/approve",
                json={"reason": "L2日数の転記誤りの訂正", "rejudge": False},
                headers=approver,
            )
            assert approved.status_code == 200, approved.text
        event = recorded.envelopes[0].event
        assert isinstance(event, CriteriaPublished)
        assert (event.drafted_by, event.effective_from.isoformat()) == ("zentekkin01", "2019-10-08")
        assert approved.json()["version"]["version_id"] == CORRECTED

        # the publishing process judges with it at once …
        assert await level2_days(first) == 700
        result = (await first.post("/preview", json=preview_request(645))).json()
        assert (result["decision"], result["criteria_version"]) == ("rejected", CORRECTED)

        # … and the other process within its poll interval, without a restart
        async def second_follows() -> bool:
            return await level2_days(second) == 700

        await eventually(second_follows)
        result = (await second.post("/preview", json=preview_request(645))).json()
        assert (result["decision"], result["criteria_version"]) == ("rejected", CORRECTED)

        # a published version never changes
        again = await first.post(f"{draft_url}/approve", json={"reason": "x"}, headers=approver)
        assert again.status_code == 409 and again.json()["code"] == "published_immutable"
        edit = await first.put(draft_url, json={"version": 5, "table": table}, headers=editor)
        assert edit.status_code == 409
        put = await first.put(f"/criteria/versions/{quote(CORRECTED)}", headers=approver)
        assert put.status_code == 409 and put.json()["code"] == "published_immutable"

        # the export round-trips through upload (a correction of r2 that changes nothing)
        exported = await first.get(f"/criteria/versions/{quote(CORRECTED)}.yaml")
        assert exported.headers["content-type"].startswith("application/yaml")
        uploaded = await first.post(
            "/criteria/drafts/upload",
            content=exported.content,
            headers={**editor, "Content-Type": "application/yaml"},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert (uploaded.json()["corrects"], uploaded.json()["problems"]) == (CORRECTED, [])
        copy_url = f"/criteria/drafts/{uploaded.json()['draft_id']}"
        assert (await first.get(f"{copy_url}/diff", headers=editor)).json()["changes"] == []
        unchanged = await first.post(f"{copy_url}/submit", headers=editor)
        assert unchanged.status_code == 422 and unchanged.json()["code"] == "no_changes"

        # uploads that are refused store nothing
        drafts_before = len((await first.get("/criteria/drafts", headers=approver)).json())
        bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
        for body, status, code in (
            (bomb, 422, "yaml_anchor"),
            (b"x" * (1024 * 1024 + 1), 413, "payload_too_large"),
            (exported.content.replace(b"\xe7\x8e\x89\xe6\x8e\x9b", b"\xe7\x8e\x89X"), 422, None),
        ):
            answer = await first.post(
                "/criteria/drafts/upload",
                content=body,
                headers={**editor, "Content-Type": "application/yaml"},
            )
            assert answer.status_code == status, answer.text
            assert code is None or answer.json()["code"] == code
        assert len((await first.get("/criteria/drafts", headers=approver)).json()) == drafts_before

        trail = (
            await first.get("/criteria/audit", params={"trade": "鉄筋"}, headers=approver)
        ).json()
        actions = [e["action"] for e in trail]
        assert actions[:4] == ["draft_created", "draft_saved", "draft_saved", "draft_saved"]
        assert {"submitted", "approved", "published"} <= set(actions)
        assert all(set(e) >= {"actor", "role", "at", "trade"} for e in trail)
        assert (await first.get("/criteria/audit", headers=editor)).status_code == 403
        pending = (await first.get("/criteria/trades", headers=approver)).json()
        assert next(t for t in pending if t["trade"] == "鉄筋")["pending_drafts"] == 1


async def test_approval_with_rejudge_judges_the_affected_lines_again(
    settings: ServiceSettings, db: object
) -> None:
    own = own_settings(settings, review_policy="auto")
    editor = headers(own, "zentekkin01", "criteria_editor", ("鉄筋",))
    approver = headers(own, "mlit01", "criteria_approver")
    async with instance(own) as client, publisher(settings) as publish:
        await publish(Envelope(snapshot("10000000000031", days=645), source="ccus"))
        await publish(Envelope(snapshot("10000000000032", days=800), source="ccus"))

        evaluator = headers(own, "hyoka01", "evaluator")

        async def has_snapshots() -> bool:
            found = await client.get("/workers/10000000000032/ccus", headers=evaluator)
            return found.status_code == 200

        await eventually(has_snapshots)
        first = [
            Expected(
                JudgementCompletedV2, {"line_id": "C-1-1", "decision": "approved", "sequence": 1}
            ),
            Expected(
                JudgementCompletedV2, {"line_id": "C-1-2", "decision": "approved", "sequence": 1}
            ),
        ]
        async with expect_events(settings, first):
            await publish(application("C-1", "10000000000031", "10000000000032"))
        # a line of the 分野 judged by another table (another effective date) is left alone
        container = client._transport.app.state.container  # type: ignore[attr-defined]
        judged = await container.service.judgements.get("C-1-2")
        other = judged.model_copy(
            update={"id": "C-9-1", "criteria_version": "鉄筋@2018-04-01", "version": 0}
        )
        await container.service.judgements.insert(other)

        table = await corrected_table(client, 700)
        draft = (
            await client.post(
                "/criteria/drafts",
                json={"trade": "鉄筋", "effective_from": "2019-10-08", "table": table},
                headers=editor,
            )
        ).json()
        url = f"/criteria/drafts/{draft['draft_id']}"
        assert (await client.post(f"{url}/submit", headers=editor)).status_code == 200
        note = "判定基準の訂正に伴う再判定です（L2日数の転記誤りの訂正）"
        expected = [
            Expected(CriteriaPublished, {"version": CORRECTED}),
            Expected(RejudgementPlanned, {"employer_id": EMPLOYER}),
            Expected(
                JudgementCompletedV2,
                {
                    "line_id": "C-1-1",
                    "sequence": 2,
                    "decision": "rejected",
                    "eligible_level": 1,
                    "criteria_version": CORRECTED,
                    "supersedes": "J-C-1-1",
                    "rejudgement_reason": "L2日数の転記誤りの訂正",
                },
            ),
            Expected(
                JudgementCompletedV2,
                {
                    "line_id": "C-1-2",
                    "sequence": 2,
                    "decision": "approved",
                    "criteria_version": CORRECTED,
                },
            ),
        ]
        async with expect_events(settings, expected) as recorded:
            approved = await client.post(
                f"{url}/approve",
                json={"reason": "L2日数の転記誤りの訂正", "rejudge": True},
                headers=approver,
            )
            assert approved.status_code == 200, approved.text
        run = approved.json()["rejudge"]
        assert (run["status"], run["selected"], run["criteria_versions"]) == (
            "started",
            2,
            [TEKKIN],
        )
        completed = [
            e.event for e in recorded.envelopes if isinstance(e.event, JudgementCompletedV2)
        ]
        assert all(e.messages[-1] == note for e in completed)
        assert approved.json()["draft"]["rejudge_run_id"] == run["run_id"]
        assert run["skipped"] == {"judged_by_other_table": 1}
        runs = container.runtime.db["rejudge_runs"]
        recorded_run = await runs.find_one({"_id": run["run_id"]})
        assert recorded_run is not None
        assert (recorded_run["reason"], recorded_run["requested_by"]) == (
            "L2日数の転記誤りの訂正",
            "mlit01",
        )
        assert recorded_run["criteria_version"] == CORRECTED
        current = (await client.get("/judgements/C-1-1", headers=evaluator)).json()
        assert (current["sequence"], current["decision"]) == (2, "rejected")
