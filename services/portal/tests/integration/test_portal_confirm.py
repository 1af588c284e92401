"""The 代行申請 confirm page (issue 25): lines that will certainly be rejected are shown with
the fee they would cost, 申請 needs an explicit confirmation for them (or they leave the draft
in one click), and an empty draft has no active 申請 button. The application service is
scripted; its words (``flag_ja``, the warning's message) are shown as they are."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import HTML, Portal, csrf_of, login, reply

APPLICATION = "AP-20261129-ABC123"
ACCEPT = "不承認となる見込みの技能者も申請する（手数料がかかります）"


def line(number: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "line_id": f"{APPLICATION}-0{number}",
        "worker_id": f"9900000000000{number}",
        "worker_name": name,
        "trade": "鉄筋",
        "requested_level": 2,
        "warnings": [],
        "preview": None,
        "fee_yen": None,
        **extra,
    }


SIMPLE = line(
    2,
    "乙 簡略",
    warnings=[
        {
            "field": "worker_id",
            "code": "simple_registration",
            "message": "この技能者はCCUSに簡略型で登録されているため、レベル判定を受けられません",
        }
    ],
)
SHORT = line(
    3,
    "丙 不足",
    preview={
        "likely_rejected": True,
        "flag_ja": "このままでは不承認となる見込みです",
        "unmet": ["就業日数が不足しています（あと45日）"],
    },
)
FINE = line(1, "甲 充足", preview={"likely_rejected": False, "unmet": []})


def draft(*lines: dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": APPLICATION,
        "status": "draft",
        "status_ja": "下書き",
        "editable": True,
        "declarations": {},
        "declarations_ja": {},
        "fee_total_yen": 4000 * len(lines),
        "lines": list(lines),
    }


def script(services: Any, application: dict[str, Any]) -> list[str]:
    """The draft behind GET; a submission and line deletions are recorded."""
    submitted: list[str] = []
    state = {"application": application}
    services.routes[("GET", "/options")] = reply(
        200, {"fee_today": {"fee_yen": 4000}, "management_required_levels": [3, 4]}
    )
    services.routes[("GET", f"/applications/{APPLICATION}")] = lambda *_: reply(
        200, state["application"]
    )

    def submit(*_: Any) -> httpx.Response:
        submitted.append("submit")
        return reply(201, {"application_id": APPLICATION, "status": "submitted"})

    services.routes[("POST", f"/applications/{APPLICATION}/submit")] = submit
    for each in application["lines"]:
        path = f"/applications/{APPLICATION}/lines/{each['line_id']}"

        def remove(*_: Any, gone: str = each["line_id"]) -> httpx.Response:
            submitted.append(f"delete {gone}")
            app = state["application"]
            state["application"] = {
                **app,
                "lines": [x for x in app["lines"] if x["line_id"] != gone],
            }
            return reply(200, state["application"])

        services.routes[("DELETE", path)] = remove
    return submitted


async def test_lines_that_will_be_rejected_are_shown_with_their_fee_and_need_a_confirmation(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    calls = script(services, draft(FINE, SIMPLE, SHORT))
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    assert page.status_code == 200, page.text
    assert "不承認となる見込みの技能者がいます（2名）" in page.text
    assert "簡略型で登録されているため" in page.text
    assert "このままでは不承認となる見込みです（就業日数が不足しています（あと45日））" in page.text
    assert "8,000円" in page.text  # the two doomed lines' fee
    assert ACCEPT in page.text and 'name="accept_rejected" value="on" required' in page.text
    assert "見込みのない技能者を外す" in page.text

    token = csrf_of(page)
    form = {"csrf_token": token, "idempotency_key": "k-1"}
    refused = await client.post(f"/applications/{APPLICATION}/submit", data=form, headers=HTML)
    assert refused.status_code == 422
    assert "不承認となる見込みの技能者が含まれています" in refused.text
    assert calls == []  # nothing filed without the confirmation

    done = await client.post(
        f"/applications/{APPLICATION}/submit",
        data={**form, "accept_rejected": "on"},
        headers=HTML,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/done")
    assert calls == ["submit"]


async def test_one_click_drops_the_doomed_lines_from_the_draft(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    calls = script(services, draft(FINE, SIMPLE, SHORT))
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    dropped = await client.post(
        f"/applications/{APPLICATION}/drop-rejected",
        data={"csrf_token": csrf_of(page)},
        headers=HTML,
    )
    assert dropped.status_code == 303 and dropped.headers["location"].endswith("/confirm")
    assert calls == [f"delete {SIMPLE['line_id']}", f"delete {SHORT['line_id']}"]
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    assert "乙 簡略さん、丙 不足さん" in page.text  # the flash
    assert (
        "accept_rejected" not in page.text and "不承認となる見込みの技能者がいます" not in page.text
    )
    done = await client.post(
        f"/applications/{APPLICATION}/submit",
        data={"csrf_token": csrf_of(page), "idempotency_key": "k-2"},
        headers=HTML,
    )
    assert done.status_code == 303 and calls[-1] == "submit"


async def test_an_empty_draft_has_no_active_submit_button(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    calls = script(services, draft())
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    assert page.status_code == 200
    assert '<button type="button" class="button button--large" disabled' in page.text
    assert '<button type="submit" class="button button--large">申請</button>' not in page.text
    refused = await client.post(
        f"/applications/{APPLICATION}/submit",
        data={"csrf_token": csrf_of(page), "idempotency_key": "k-3"},
        headers=HTML,
    )
    assert refused.status_code == 422 and "技能者が1名もいないため申請できません" in refused.text
    assert calls == []


async def test_confirm_previews_the_lines_without_one_first(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    script(services, draft(FINE, line(4, "丁 未確認")))
    previewed: list[str] = []

    def preview(method: str, url: str, headers: httpx.Headers, body: bytes | None) -> Any:
        previewed.append(url.rsplit("/", 2)[-2])
        return reply(200, {"likely_rejected": False})

    services.routes[("PATCH", f"/applications/{APPLICATION}")] = reply(200, draft(FINE))
    services.routes[("POST", f"/applications/{APPLICATION}/lines/{APPLICATION}-04/preview")] = (
        preview
    )
    page = await client.get(f"/applications/{APPLICATION}", headers=HTML)
    moved = await client.post(
        f"/applications/{APPLICATION}",
        data={"csrf_token": csrf_of(page), "action": "confirm"},
        headers=HTML,
    )
    assert moved.status_code == 303 and moved.headers["location"].endswith("/confirm")
    assert previewed == [f"{APPLICATION}-04"]
