"""基準管理: drafts (docs/criteria-admin.md) — the list, a new draft, the YAML upload, the
structured form (save, submit, withdraw), the 差分 and the 影響確認.

The form works without JavaScript: every button posts the whole form; the structural ones
(search the catalogue, add an item, add a group, remove …) only re-render it with the change
(nothing is saved until 「保存」), so that what the editor typed is never lost. A stale save
(409) shows the stored version beside the editor's input, which stays in the form.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from portal.adapters.inbound import web
from portal.adapters.inbound.body_limit import CRITERIA_YAML_BYTES
from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.pages_criteria import (
    APPROVER,
    EDITOR,
    JUDGEMENT,
    STAFF,
    call,
    problems_of,
    q,
)
from portal.adapters.outbound.services import Forbidden, ServiceError, UserApi, error_of
from portal.core import criteria as core

router = APIRouter()
EDITABLE = ("draft", "returned")
SEARCH_LIMIT = 30
NOT_STARTED = "impact_not_found"
YAML_TYPE = "application/yaml"


async def catalogue(api: UserApi, form: core.TableForm | None = None) -> dict[str, Any]:
    items = await call(api, "GET", "/criteria/qualifications")
    return core.catalogue_of(items, form.proposals() if form else ())


async def search_results(api: UserApi, form: core.TableForm) -> dict[str, list[dict[str, Any]]]:
    """The catalogue's answer for every search box the editor filled in (and the draft's
    own proposed qualifications that match)."""
    results: dict[str, list[dict[str, Any]]] = {}
    for target, text in form.searches.items():
        found = await call(api, "GET", "/criteria/qualifications", params={"q": text.strip()[:100]})
        proposed = core.search_proposals(form, text)
        names = {p["name"] for p in proposed}
        results[target] = [*proposed, *(f for f in found if f.get("name") not in names)][
            :SEARCH_LIMIT
        ]
    return results


# --- 下書き一覧 --------------------------------------------------------------------------------


@router.get(
    "/criteria/drafts",
    summary="判定基準の下書き一覧",
    response_model=None,
    dependencies=[web.login_as(*STAFF)],
)
async def draft_list(
    request: Request, portal: PortalDep, trade: str = "", status: str = ""
) -> Response:
    statuses = core.DRAFT_STATUS_JA
    params = {"trade": trade or None, "status": status if status in statuses else None}
    drafts = await call(web.user_api(request, portal), "GET", "/criteria/drafts", params=params)
    drafts.sort(key=lambda d: str(d.get("updated_at") or ""), reverse=True)
    return web.render(
        request,
        "criteria_drafts.html",
        {"drafts": drafts, "trade": trade, "status": params["status"] or "", "statuses": statuses},
    )


# --- 下書きの作成 ------------------------------------------------------------------------------


async def _new_form(
    request: Request,
    portal: Portal,
    trade: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    api = web.user_api(request, portal)
    detail = await call(api, "GET", f"/criteria/trades/{q(trade)}")
    if detail.get("pending_drafts") is None:  # not one of the editor's 分野
        raise Forbidden(f"分野「{detail['trade']}」の基準を扱う権限がありません（担当分野のみ）。")
    latest = [v for v in detail.get("versions") or [] if v.get("latest_revision")]
    latest.sort(key=lambda v: str(v.get("effective_from")), reverse=True)
    defaults = {
        "kind": "new",
        "start": "copy" if detail.get("version") else "empty",
        "corrects": next((v["version_id"] for v in latest if v.get("in_force")), ""),
    }
    return web.render(
        request,
        "criteria_draft_new.html",
        {
            "t": detail,
            "latest": latest,
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "form_errors": form_errors or [],
        },
        status_code=status_code,
    )


@router.get(
    "/criteria/drafts/new",
    summary="下書きの作成",
    response_model=None,
    dependencies=[web.login_as(EDITOR)],
)
async def new_draft_form(request: Request, portal: PortalDep, trade: str = "") -> Response:
    if not trade:
        return web.redirect("/criteria/trades")
    return await _new_form(request, portal, trade)


@router.post("/criteria/drafts/new", response_model=None, dependencies=[web.login_as(EDITOR)])
async def new_draft(request: Request, portal: PortalDep) -> Response:
    values = web.text_fields(await web.checked_form(request))
    trade = values.get("trade", "")
    api = web.user_api(request, portal)
    body: dict[str, Any] = {"trade": trade, "table": {}, "new_qualifications": []}
    source: str | None = None
    if values.get("kind") == "correction":
        body["corrects"] = values.get("corrects") or None
        source = values.get("corrects") or None
    else:
        body["effective_from"] = values.get("effective_from") or None
        if values.get("start") == "copy":
            detail = await call(api, "GET", f"/criteria/trades/{q(trade)}")
            source = detail.get("version")
    if source and (values.get("start") == "copy" or values.get("kind") == "correction"):
        version = await call(api, "GET", f"/criteria/versions/{q(source)}")
        body["table"] = {
            k: v
            for k, v in (version.get("table") or {}).items()
            if k not in ("trade", "effective_from", "revision")
        }
    try:
        draft = await call(api, "POST", "/criteria/drafts", body=body)
    except ServiceError as failure:
        errors = {}
        loose = []
        field = {
            "effective_from_required": "effective_from",
            "effective_from_past": "effective_from",
            "unknown_version": "corrects",
            "corrected_version_superseded": "corrects",
        }.get(failure.code)
        for problem in problems_of(failure):
            path = str(problem.get("path") or "")
            if path in ("effective_from", "corrects"):
                errors[path] = str(problem.get("message_ja"))
            else:
                loose.append(str(problem.get("message_ja")))
        if field:
            errors.setdefault(field, failure.message)
        elif not errors:
            loose.insert(0, failure.message)
        return await _new_form(request, portal, trade, values, errors, loose, failure.status)
    web.session_of(request).add_flash(
        "success", f"下書き（{draft['draft_id']}）を作成しました。内容を入力して保存してください。"
    )
    return web.redirect(f"/criteria/drafts/{q(draft['draft_id'])}")


# --- YAML upload ------------------------------------------------------------------------------


@router.get(
    "/criteria/drafts/upload",
    summary="判定基準の表（YAML）のアップロード",
    response_model=None,
    dependencies=[web.login_as(EDITOR)],
)
async def upload_form(request: Request) -> Response:
    return web.render(request, "criteria_upload.html", {"limit": CRITERIA_YAML_BYTES})


@router.post("/criteria/drafts/upload", response_model=None, dependencies=[web.login_as(EDITOR)])
async def upload(request: Request, portal: PortalDep) -> Response:
    form = await web.checked_form(request)
    upload_file = form.get("file")
    context: dict[str, Any] = {"limit": CRITERIA_YAML_BYTES}
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        context["form_errors"] = ["アップロードするファイル（YAML）を選んでください。"]
        return web.render(request, "criteria_upload.html", context, status_code=422)
    data = await upload_file.read(CRITERIA_YAML_BYTES + 1)
    context["filename"] = upload_file.filename
    if len(data) > CRITERIA_YAML_BYTES:
        context["form_errors"] = ["アップロードできるファイルは1MBまでです。"]
        return web.render(request, "criteria_upload.html", context, status_code=413)
    try:
        draft = await call(
            web.user_api(request, portal),
            "POST",
            "/criteria/drafts/upload",
            content=data,
            headers=[("Content-Type", YAML_TYPE)],
        )
    except ServiceError as failure:
        context["form_errors"] = [failure.message]
        context["problems"] = problems_of(failure)
        return web.render(request, "criteria_upload.html", context, status_code=failure.status)
    web.session_of(request).add_flash(
        "success",
        f"「{upload_file.filename}」から下書き（{draft['draft_id']}）を作成しました。"
        "内容を確認してください。",
    )
    return web.redirect(f"/criteria/drafts/{q(draft['draft_id'])}")


# --- 下書き（入力フォーム） ---------------------------------------------------------------------


async def _draft_page(
    request: Request,
    portal: Portal,
    draft: dict[str, Any],
    form: core.TableForm,
    *,
    problems: list[dict[str, Any]] | None = None,
    note: str | None = None,
    message: str | None = None,
    stale: dict[str, Any] | None = None,
    unsaved: bool = False,
    status_code: int = 200,
) -> Response:
    session = web.session_of(request)
    api = web.user_api(request, portal)
    editable = session.role == EDITOR and draft.get("status") in EDITABLE
    known = await catalogue(api, form)
    errors, loose = core.place_problems(problems or [], form)
    if message:
        loose.insert(0, message)
    context = {
        "draft": draft,
        "form": form,
        "fvals": form.flat(),
        "editable": editable,
        "catalogue": known,
        "results": await search_results(api, form) if editable else {},
        "errors": errors,
        "form_errors": loose,
        "note": note,
        "unsaved": unsaved,
        "stale": stale,
        "levels_view": core.levels_view(draft.get("table") or {}, known),
        "problems": draft.get("problems") or [],
        "tab": "edit",
    }
    if stale:
        context["stale_levels"] = core.levels_view(stale.get("table") or {}, known)
        context["mine_levels"] = core.levels_view(form.table(), known)
    return web.render(request, "criteria_draft.html", context, status_code=status_code)


async def _draft(api: UserApi, draft_id: str) -> dict[str, Any]:
    draft: dict[str, Any] = await call(api, "GET", f"/criteria/drafts/{q(draft_id)}")
    return draft


@router.get(
    "/criteria/drafts/{draft_id}",
    summary="判定基準の下書き",
    response_model=None,
    dependencies=[web.login_as(*STAFF)],
)
async def draft_page(request: Request, portal: PortalDep, draft_id: str) -> Response:
    draft = await _draft(web.user_api(request, portal), draft_id)
    form = core.TableForm.from_draft(draft)
    return await _draft_page(request, portal, draft, form, problems=draft.get("problems") or [])


@router.post(
    "/criteria/drafts/{draft_id}", response_model=None, dependencies=[web.login_as(EDITOR)]
)
async def draft_post(request: Request, portal: PortalDep, draft_id: str) -> Response:
    fields = web.text_fields(await web.checked_form(request))
    api = web.user_api(request, portal)
    draft = await _draft(api, draft_id)
    form = core.TableForm.from_fields(fields)
    action = fields.get("action") or "refresh"
    if action not in ("save", "submit", "overwrite"):
        note = form.apply(action, fields)
        return await _draft_page(request, portal, draft, form, note=note, unsaved=True)
    try:
        started = int(fields.get("current_version" if action == "overwrite" else "version", ""))
    except ValueError:
        started = int(draft.get("version") or 0)
    body: dict[str, Any] = {
        "version": started,
        "table": form.table(),
        "new_qualifications": form.qualifications(),
    }
    if not draft.get("corrects") and form.effective_from.strip():
        body["effective_from"] = form.effective_from.strip()
    path = f"/criteria/drafts/{q(draft_id)}"
    try:
        saved = await call(api, "PUT", path, body=body)
    except ServiceError as failure:
        if failure.code == "stale_draft":
            current = await _draft(api, draft_id)
            return await _draft_page(
                request,
                portal,
                draft,
                form,
                message=failure.message,
                stale={**current, **failure.body},
                unsaved=True,
                status_code=409,
            )
        return await _draft_page(
            request,
            portal,
            draft,
            form,
            problems=problems_of(failure),
            message=failure.message,
            unsaved=True,
            status_code=failure.status,
        )
    flash = web.session_of(request).add_flash
    if action != "submit":
        flash("success", f"下書きを保存しました（版{saved.get('version')}）。")
        return web.redirect(path)
    try:
        await call(api, "POST", f"{path}/submit")
    except ServiceError as failure:
        return await _draft_page(
            request,
            portal,
            saved,
            core.TableForm.from_draft(saved),
            problems=problems_of(failure) or saved.get("problems") or [],
            message=f"保存しましたが、承認依頼はできませんでした。{failure.message}",
            status_code=failure.status,
        )
    flash("success", "下書きを保存し、承認を依頼しました。承認者の確認をお待ちください。")
    return web.redirect(path)


@router.post(
    "/criteria/drafts/{draft_id}/withdraw", response_model=None, dependencies=[web.login_as(EDITOR)]
)
async def withdraw(request: Request, portal: PortalDep, draft_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    api = web.user_api(request, portal)
    path = f"/criteria/drafts/{q(draft_id)}"
    if values.get("confirm") != "yes":
        draft = await _draft(api, draft_id)
        return await _draft_page(
            request,
            portal,
            draft,
            core.TableForm.from_draft(draft),
            problems=draft.get("problems") or [],
            message="取り下げる場合は「この下書きを取り下げることを確認しました」にチェックしてください。",
            status_code=422,
        )
    try:
        await call(api, "POST", f"{path}/withdraw")
    except ServiceError as failure:
        web.session_of(request).add_flash("error", failure.message)
        return web.redirect(path)
    web.session_of(request).add_flash("success", "下書きを取り下げました。")
    return web.redirect(path)


# --- 差分 ---------------------------------------------------------------------------------------


@router.get(
    "/criteria/drafts/{draft_id}/diff",
    summary="下書きと公開中の版の差分",
    response_model=None,
    dependencies=[web.login_as(*STAFF)],
)
async def diff_page(request: Request, portal: PortalDep, draft_id: str) -> Response:
    api = web.user_api(request, portal)
    draft = await _draft(api, draft_id)
    diff = await call(api, "GET", f"/criteria/drafts/{q(draft_id)}/diff")
    return web.render(
        request,
        "criteria_diff.html",
        {
            "draft": draft,
            "diff": diff,
            "groups": core.diff_groups(diff.get("changes") or []),
            "tab": "diff",
        },
    )


# --- 影響確認 -----------------------------------------------------------------------------------


async def impact_of(api: UserApi, draft_id: str) -> dict[str, Any] | None:
    """The draft's impact preview, ``None`` before one was started."""
    try:
        found: dict[str, Any] = await call(
            api, "GET", f"/criteria/drafts/{q(draft_id)}/impact", inline=(NOT_STARTED,)
        )
    except ServiceError as failure:
        if failure.code == NOT_STARTED:
            return None
        raise
    return found


@router.get(
    "/criteria/drafts/{draft_id}/impact",
    summary="影響確認",
    response_model=None,
    dependencies=[web.login_as(*STAFF)],
)
async def impact_page(request: Request, portal: PortalDep, draft_id: str) -> Response:
    api = web.user_api(request, portal)
    draft = await _draft(api, draft_id)
    impact = await impact_of(api, draft_id)
    running = impact is not None and impact.get("status") in ("queued", "running")
    return web.render(
        request,
        "criteria_impact.html",
        {
            "draft": draft,
            "impact": impact,
            "running": running,
            "percent": core.percent(impact.get("done"), impact.get("total")) if impact else None,
            "tab": "impact",
        },
    )


@router.post(
    "/criteria/drafts/{draft_id}/impact", response_model=None, dependencies=[web.login_as(*STAFF)]
)
async def impact_start(request: Request, portal: PortalDep, draft_id: str) -> Response:
    await web.checked_form(request)
    path = f"/criteria/drafts/{q(draft_id)}/impact"
    try:
        await call(
            web.user_api(request, portal),
            "POST",
            path,
            inline=("impact_unavailable", "draft_not_usable", "publication_busy"),
        )
    except ServiceError as failure:
        web.session_of(request).add_flash(
            "error", f"影響確認を開始できませんでした。{failure.message}"
        )
        return web.redirect(path)
    web.session_of(request).add_flash(
        "info", "影響確認を開始しました。完了までこの画面でお待ちください。"
    )
    return web.redirect(path)


@router.get(
    "/criteria/drafts/{draft_id}/impact.csv",
    summary="影響確認の結果（CSV）",
    response_model=None,
    dependencies=[web.login_as(*STAFF)],
)
async def impact_csv(request: Request, portal: PortalDep, draft_id: str) -> Response:
    reply = await web.user_api(request, portal).call(
        JUDGEMENT,
        "GET",
        f"/criteria/drafts/{q(draft_id)}/impact.csv",
        headers=[("Accept", "text/csv")],
    )
    if not reply.ok:
        failure = error_of(JUDGEMENT, reply)
        if isinstance(failure, ServiceError):
            web.session_of(request).add_flash("error", failure.message)
            return web.redirect(f"/criteria/drafts/{q(draft_id)}/impact")
        raise failure
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "", draft_id)
    return Response(
        reply.body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="impact-{safe_id}.csv"; '
            f"filename*=UTF-8''{quote('影響確認_' + safe_id + '.csv')}",
            "Cache-Control": "no-store",
        },
    )


__all__ = ["APPROVER", "impact_of", "router"]
