"""Evaluator pages (role ``evaluator``): the consent review queue and the judgement review queue.

* 個人情報利用申請の審査: consent service ``GET /reviews``; the signed form is opened
  through the portal; 承認 (``POST /consents/{id}/approve`` with the form the evaluator saw)
  or 差戻し with a required reason (``POST /consents/{id}/return``).
* 判定結果の審査: judgement service ``GET /reviews``; 確認 (confirm the engine's result) or
  変更 (override the level, with a required reason): ``POST /judgements/{id}/review``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.pages_results import line_detail
from portal.adapters.outbound.services import (
    ServiceError,
    ServiceUnavailable,
    UserApi,
    error_of,
    json_of,
)

router = APIRouter(dependencies=[web.login_as("evaluator")])


async def _count(api: UserApi, service: str) -> int | None:
    try:
        return len(await api.get(service, "/reviews"))
    except (ServiceUnavailable, ServiceError):
        return None


@router.get("/review", summary="審査メニュー", response_model=None)
async def review_menu(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    return web.render(
        request,
        "review_menu.html",
        {"consents": await _count(api, "consent"), "judgements": await _count(api, "judgement")},
    )


# --- 個人情報利用申請の審査 ----------------------------------------------------------------


async def consent_queue(
    request: Request,
    portal: Portal,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    api = web.user_api(request, portal)
    queue = await api.get("consent", "/reviews")
    incomplete = await api.get("consent", "/reviews", include_incomplete="true")
    waiting = [c for c in incomplete if not c.get("complete")]
    return web.render(
        request,
        "review_consents.html",
        {
            "queue": queue,
            "waiting": waiting,
            "item_errors": errors or {},
            "item_values": values or {},
        },
        status_code=status_code,
    )


@router.get("/review/consents", summary="個人情報利用申請の審査", response_model=None)
async def consent_reviews(request: Request, portal: PortalDep) -> Response:
    return await consent_queue(request, portal)


@router.post("/review/consents/{consent_id}", response_model=None)
async def decide_consent(request: Request, portal: PortalDep, consent_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    action = values.get("action")
    api = web.user_api(request, portal)
    path = f"/consents/{quote(consent_id, safe='')}"
    body: dict[str, Any]
    if action == "approve":
        path, body = f"{path}/approve", {"signed_form_id": values.get("signed_form_id") or None}
    else:
        path, body = f"{path}/return", {"reason": values.get("reason", "")}
    reply = await api.call("consent", "POST", path, json=body)
    if not reply.ok:
        failure = error_of("consent", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        errors = {consent_id: failure.fields or {"form": failure.message}}
        return await consent_queue(
            request, portal, errors, {consent_id: values}, status_code=failure.status
        )
    result = json_of("consent", reply)
    verb = "承認しました" if action == "approve" else "差し戻しました"
    web.session_of(request).add_flash(
        "success", f"{result.get('worker_name', '')}さんの個人情報利用申請を{verb}。"
    )
    return web.redirect("/review/consents")


# --- 判定結果の審査 -------------------------------------------------------------------------


async def judgement_queue(
    request: Request,
    portal: Portal,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    api = web.user_api(request, portal)
    queue = await api.get("judgement", "/reviews")
    details = [await line_detail(api, str(item["line_id"])) for item in queue]
    return web.render(
        request,
        "review_judgements.html",
        {"items": details, "item_errors": errors or {}, "item_values": values or {}},
        status_code=status_code,
    )


@router.get("/review/judgements", summary="判定結果の審査", response_model=None)
async def judgement_reviews(request: Request, portal: PortalDep) -> Response:
    return await judgement_queue(request, portal)


@router.post("/review/judgements/{line_id}", response_model=None)
async def decide_judgement(request: Request, portal: PortalDep, line_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    action = values.get("action")
    body: dict[str, Any] = {"action": "confirm" if action == "confirm" else "override"}
    reason = values.get("reason", "").strip()
    if reason:
        body["reason"] = reason
    if body["action"] == "override":
        level = values.get("eligible_level", "")
        body["eligible_level"] = int(level) if level.isdigit() else None
    api = web.user_api(request, portal)
    reply = await api.call(
        "judgement", "POST", f"/judgements/{quote(line_id, safe='')}/review", json=body
    )
    if not reply.ok:
        failure = error_of("judgement", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        field = {"reason_required": "reason", "level_required": "eligible_level"}.get(
            failure.code, "form"
        )
        errors = {line_id: {**failure.fields, field: failure.message}}
        return await judgement_queue(
            request, portal, errors, {line_id: values}, status_code=failure.status
        )
    result = json_of("judgement", reply)
    verb = "確定しました" if body["action"] == "confirm" else "変更して確定しました"
    web.session_of(request).add_flash(
        "success",
        f"{result.get('worker_name', '')}さんの判定を{verb}"
        f"（判定レベル{result.get('eligible_level')}）。",
    )
    return web.redirect("/review/judgements")
