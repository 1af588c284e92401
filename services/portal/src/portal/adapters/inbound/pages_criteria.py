"""基準管理 pages (roles ``criteria_editor`` and ``criteria_approver``, docs/criteria-admin.md):
the menu, the criteria master list, a 分野's table with its history and YAML export, the
audit trail. The drafts are in ``pages_criteria_drafts``, the approvals in
``pages_criteria_approvals``.

Every page calls the judgement service's ``/criteria/…`` API with the user's token; the
service decides who may do what (an editor only his 分野: 403 → the portal's 403 page) and
words every refusal in Japanese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound.deps import PortalDep
from portal.adapters.inbound.web import (
    TEMPLATES,
    login_as,
    render,
    session_of,
    user_api,
)
from portal.adapters.outbound.services import (
    Forbidden,
    NotFound,
    ServiceError,
    UserApi,
    error_of,
    json_of,
)
from portal.core import criteria as core

router = APIRouter()
STAFF = ("criteria_editor", "criteria_approver")
EDITOR = "criteria_editor"
APPROVER = "criteria_approver"
JUDGEMENT = "judgement"

TEMPLATES.env.filters.update(
    version_label=core.version_label,
    relabel=core.relabel,
    num=core.number,
    trade_status_ja=core.trade_status_ja,
    days_text=core.days_text,
    draft_kind_ja=core.draft_kind_ja,
)
TEMPLATES.env.globals.update(
    version_name=core.version_name,
    GROUP_KIND_JA=core.GROUP_KIND_JA,
    CRITERIA_MARK=core.MARK,
    CRITERIA_CATEGORIES=core.CATEGORIES,
    FOREMAN_SCOPES=core.FOREMAN_SCOPES,
    AUDIT_ACTION_JA=core.AUDIT_ACTION_JA,
    CRITERIA_ROLE_JA=core.ROLE_JA,
    TRADE_STATUS_HINT=core.TRADE_STATUS_HINT,
)


def q(value: str) -> str:
    """A path segment for the service (分野 names, draft and version ids)."""
    return quote(value, safe="@")


async def call(
    api: UserApi,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: Mapping[str, Any] | None = None,
    content: bytes | None = None,
    headers: Sequence[tuple[str, str]] = (),
    inline: Sequence[str] = (),
) -> Any:
    """One call to the judgement service's criteria API: the JSON of a 2xx answer.

    A refusal the page shows itself raises :class:`ServiceError` (every 4xx but 401/403/404,
    and a 403/404/503 whose ``code`` is in ``inline``: 「自分の下書きは承認できません」, a
    preview not started yet, another publication in progress); the others become the portal's
    pages (403, 404, 503 service unavailable)."""
    reply = await api.call(
        JUDGEMENT, method, path, params=params, json=body, content=content, headers=headers
    )
    if reply.ok:
        return json_of(JUDGEMENT, reply)
    try:
        data = reply.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and str(data.get("code")) in inline:
        raise ServiceError(
            reply.status,
            str(data.get("code")),
            core.relabel(data.get("message") or "処理できませんでした。"),
            body=data,
        )
    failure = error_of(JUDGEMENT, reply)
    if isinstance(failure, ServiceError | Forbidden | NotFound):
        failure.message = core.relabel(failure.message)  # version ids as staff read them
    raise failure


def problems_of(failure: ServiceError) -> list[dict[str, Any]]:
    """The service's ``problems`` of a refusal (messages with version ids relabelled)."""
    problems = failure.body.get("problems")
    if not isinstance(problems, list):
        return []
    return [
        {**p, "message_ja": core.relabel(p.get("message_ja"))}
        for p in problems
        if isinstance(p, dict)
    ]


async def my_trades(api: UserApi) -> tuple[list[dict[str, Any]], list[str]]:
    """Every 分野 and, for an editor, those he is bound to (the service answers
    ``pending_drafts`` for them only)."""
    trades = await call(api, "GET", "/criteria/trades")
    mine = [str(t["trade"]) for t in trades if t.get("pending_drafts") is not None]
    return trades, mine


# --- 基準管理メニュー -------------------------------------------------------------------------


@router.get(
    "/criteria", summary="基準管理メニュー", response_model=None, dependencies=[login_as(*STAFF)]
)
async def menu(request: Request, portal: PortalDep) -> Response:
    session = session_of(request)
    api = user_api(request, portal)
    trades, mine = await my_trades(api)
    context: dict[str, Any] = {"trades": trades}
    if session.role == EDITOR:
        drafts = await call(api, "GET", "/criteria/drafts")
        context.update(
            mine=[t for t in trades if t["trade"] in mine],
            open_drafts=[d for d in drafts if d.get("status") in ("draft", "returned")],
            submitted=[d for d in drafts if d.get("status") == "submitted"],
        )
    else:
        queue = await call(api, "GET", "/criteria/drafts", params={"status": "submitted"})
        context.update(queue=queue)
    return render(request, "criteria_menu.html", context)


# --- 基準マスタ一覧 -----------------------------------------------------------------------------


@router.get(
    "/criteria/trades",
    summary="基準マスタ一覧",
    response_model=None,
    dependencies=[login_as(*STAFF)],
)
async def trade_list(request: Request, portal: PortalDep, status: str = "") -> Response:
    trades, mine = await my_trades(user_api(request, portal))
    counts = {key: sum(1 for t in trades if t.get("status") == key) for key in core.TRADE_STATUS_JA}
    shown = [t for t in trades if not status or t.get("status") == status]
    return render(
        request,
        "criteria_trades.html",
        {
            "trades": shown,
            "all_count": len(trades),
            "counts": counts,
            "status": status if status in core.TRADE_STATUS_JA else "",
            "statuses": core.TRADE_STATUS_JA,
            "mine": mine,
        },
    )


# --- 分野の判定基準 ---------------------------------------------------------------------------


@router.get(
    "/criteria/trades/{trade}",
    summary="分野の判定基準",
    response_model=None,
    dependencies=[login_as(*STAFF)],
)
async def trade_detail(request: Request, portal: PortalDep, trade: str, on: str = "") -> Response:
    session = session_of(request)
    api = user_api(request, portal)
    notice = None
    detail = None
    if on:
        try:
            detail = await call(api, "GET", f"/criteria/trades/{q(trade)}", params={"on": on})
        except ServiceError as failure:
            notice = "日付は「2026-04-01」の形で入力してください。今日の基準を表示しています。"
            if problems_of(failure):
                notice = (
                    f"{problems_of(failure)[0].get('message_ja')}。今日の基準を表示しています。"
                )
            on = ""
    if detail is None:
        detail = await call(api, "GET", f"/criteria/trades/{q(trade)}")
    versions = sorted(
        detail.get("versions") or [],
        key=lambda v: (str(v.get("effective_from")), int(v.get("revision") or 1)),
        reverse=True,
    )
    in_force = next((v for v in versions if v.get("in_force")), None)
    editable = session.role == EDITOR and detail.get("pending_drafts") is not None
    drafts: list[dict[str, Any]] = []
    if detail.get("pending_drafts"):
        listed = await call(api, "GET", "/criteria/drafts", params={"trade": detail["trade"]})
        drafts = [d for d in listed if d.get("status") in ("draft", "submitted", "returned")]
    return render(
        request,
        "criteria_trade.html",
        {
            "t": detail,
            "versions": versions,
            "in_force": in_force,
            "editable": editable,
            "drafts": drafts,
            "on": on,
            "notice": notice,
        },
    )


# --- YAML export ------------------------------------------------------------------------------


@router.get(
    "/criteria/versions/{version_id}.yaml",
    summary="判定基準の版をYAMLで出力",
    response_model=None,
    dependencies=[login_as(*STAFF)],
)
async def version_yaml(request: Request, portal: PortalDep, version_id: str) -> Response:
    reply = await user_api(request, portal).call(
        JUDGEMENT,
        "GET",
        f"/criteria/versions/{q(version_id)}.yaml",
        headers=[("Accept", "application/yaml")],
    )
    if not reply.ok:
        raise error_of(JUDGEMENT, reply)
    name = quote(f"{version_id}.yaml")
    return Response(
        reply.body,
        media_type="application/yaml; charset=utf-8",
        headers={
            "Content-Disposition": reply.header("content-disposition")
            or f"attachment; filename*=UTF-8''{name}",
            "Cache-Control": "no-store",
        },
    )


# --- 監査ログ ---------------------------------------------------------------------------------


@router.get(
    "/criteria/audit",
    summary="基準管理の監査ログ",
    response_model=None,
    dependencies=[login_as(APPROVER)],
)
async def audit(request: Request, portal: PortalDep, trade: str = "") -> Response:
    api = user_api(request, portal)
    entries = await call(api, "GET", "/criteria/audit", params={"trade": trade or None})
    trades, _ = await my_trades(api)
    return render(
        request,
        "criteria_audit.html",
        {
            "entries": list(reversed(entries)),
            "trade": trade,
            "trades": [t["trade"] for t in trades],
        },
    )
