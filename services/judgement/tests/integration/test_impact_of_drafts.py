"""影響確認 of a real stored draft: criteria administration provides the drafted master.

A 鉄筋 correction (level 2 asks 700 days instead of 645) is drafted over HTTP; its impact
preview judges the stored 鉄筋 workers under both tables: the worker with 680 days goes down,
the ones with 644 and 2,000 days stay; a draft that cannot be built is refused (422).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import CcusQualification, CcusWorkerSnapshot
from shared_kernel.infra.settings import ServiceSettings

from .test_criteria_admin import corrected_table, headers, instance, own_settings
from .test_judging_flow import snapshot


def rebar_worker(worker_id: str, days: int) -> CcusWorkerSnapshot:
    """A worker "of 鉄筋" for the preview: he holds a 鉄筋 qualification (2級鉄筋施工技能士)."""
    base = snapshot(worker_id, days=days)
    held = CcusQualification(code="19999", name="2級鉄筋施工技能士", acquired_on=date(2016, 1, 1))
    return base.model_copy(update={"qualifications": [*base.qualifications, held]})


async def _done(client: Any, draft_id: str, auth: dict[str, str]) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = (
            await client.get(f"/criteria/drafts/{draft_id}/impact", headers=auth)
        ).json()
        if body.get("status") in ("done", "failed"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"impact preview of {draft_id} not done: {body}")


async def test_the_impact_of_a_stored_draft_is_judged_with_its_table(
    settings: ServiceSettings, db: object
) -> None:
    own = own_settings(settings)
    editor = headers(own, "zentekkin01", "criteria_editor", ("鉄筋",))
    async with instance(own) as client:
        service = client._transport.app.state.container.service  # type: ignore[attr-defined]
        for worker_id, days in (
            ("10000000000201", 680),
            ("10000000000202", 644),
            ("10000000000203", 2000),
        ):
            await service.on_snapshot(Envelope(rebar_worker(worker_id, days), source="ccus"))
        table = await corrected_table(client, 700)
        created = await client.post(
            "/criteria/drafts",
            json={"trade": "鉄筋", "effective_from": "2019-10-08", "table": table},
            headers=editor,
        )
        assert created.status_code == 201, created.text
        draft_id = (
            created.json()["draft_id"] if "draft_id" in created.json() else created.json()["id"]
        )
        started = await client.post(f"/criteria/drafts/{draft_id}/impact", headers=editor)
        assert started.status_code == 202, started.text
        body = await _done(client, draft_id, editor)
        assert body["status"] == "done", body
        assert body["counts"]["down"] == 1, body["counts"]
        assert body["counts"]["down"] + body["counts"]["unchanged"] + body["counts"]["up"] == 3
        (changed,) = body["sample"]  # workers are shown masked: 1000******0201
        assert changed["worker_id"].endswith("0201") and "*" in changed["worker_id"]
        assert (changed["level_before"], changed["level_after"]) == (2, 1)

        approver = headers(own, "mlit01", "criteria_approver")
        trail = (await client.get("/criteria/audit?trade=鉄筋", headers=approver)).json()
        entries = trail["entries"] if isinstance(trail, dict) else trail
        assert any(
            e["action"] == "impact_started" and e["draft_id"] == draft_id for e in entries
        ), entries

        # a draft whose table cannot be built is refused with the reason
        broken = dict(table)
        broken["levels"] = {"2": table["levels"]["2"]}
        partial = await client.post(
            "/criteria/drafts",
            json={"trade": "鉄筋", "effective_from": "2019-10-08", "table": broken},
            headers=editor,
        )
        assert partial.status_code == 201, partial.text
        partial_id = partial.json().get("draft_id") or partial.json()["id"]
        refused = await client.post(f"/criteria/drafts/{partial_id}/impact", headers=editor)
        if refused.status_code == 202:
            refused_body = await _done(client, partial_id, editor)
            assert refused_body["status"] == "failed", refused_body
        else:
            assert refused.status_code == 422, refused.text
