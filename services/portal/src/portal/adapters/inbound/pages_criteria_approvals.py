"""基準管理: approvals (role ``criteria_approver``, docs/criteria-admin.md) — the queue of
submitted drafts, a draft with its table, 差分 and 影響確認, 承認 (effective date, reason,
re-judgement) and 差戻し (reason required).

The four-eyes rule is the service's: an approver who drafted the table is refused (403
``own_draft``), and the page says so in Japanese instead of the 403 page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.pages_criteria import APPROVER, call, problems_of, q
from portal.adapters.inbound.pages_criteria_drafts import catalogue, impact_of
from portal.adapters.outbound.services import ServiceError
from portal.core import criteria as core
from shared_kernel.time import JST

router = APIRouter(dependencies=[web.login_as(APPROVER)])
INLINE = ("own_draft", "publication_busy")
APPROVE_FIELDS = {
    "reason_required": "reason",
    "effective_from_past": "effective_from",
    "correction_date_fixed": "effective_from",
    "rejudge_needs_correction": "rejudge",
}


def _today() -> str:
    return datetime.now(JST).date().isoformat()


@router.get("/criteria/approvals", summary="承認待ちの下書き", response_model=None)
async def queue(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    submitted = await call(api, "GET", "/criteria/drafts", params={"status": "submitted"})
    submitted.sort(key=lambda d: str(d.get("submitted_at") or ""))
    decided = await call(api, "GET", "/criteria/drafts", params={"status": "approved"})
    returned = await call(api, "GET", "/criteria/drafts", params={"status": "returned"})
    recent = sorted(
        [*decided, *returned], key=lambda d: str(d.get("decided_at") or ""), reverse=True
    )[:10]
    return web.render(request, "criteria_approvals.html", {"queue": submitted, "recent": recent})


async def _approval_page(
    request: Request,
    portal: Portal,
    draft_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    problems: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    api = web.user_api(request, portal)
    draft = await call(api, "GET", f"/criteria/drafts/{q(draft_id)}")
    diff = await call(api, "GET", f"/criteria/drafts/{q(draft_id)}/diff")
    impact = await impact_of(api, draft_id)
    known = await catalogue(api, core.TableForm.from_draft(draft))
    defaults = {"effective_from": max(str(draft.get("effective_from") or ""), _today())}
    if draft.get("corrects"):
        defaults["effective_from"] = str(draft.get("effective_from") or "")
    return web.render(
        request,
        "criteria_approval.html",
        {
            "draft": draft,
            "diff": diff,
            "groups": core.diff_groups(diff.get("changes") or []),
            "impact": impact,
            "percent": core.percent(impact.get("done"), impact.get("total")) if impact else None,
            "levels_view": core.levels_view(draft.get("table") or {}, known),
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "form_errors": form_errors or [],
            "problems": problems or draft.get("problems") or [],
            "today": _today(),
            "tab": "approval",
        },
        status_code=status_code,
    )


@router.get("/criteria/approvals/{draft_id}", summary="下書きの承認", response_model=None)
async def approval(request: Request, portal: PortalDep, draft_id: str) -> Response:
    return await _approval_page(request, portal, draft_id)


def _refusal(
    failure: ServiceError, fields: dict[str, str]
) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    errors: dict[str, str] = {}
    loose: list[str] = []
    problems = problems_of(failure)
    for problem in problems:
        path = str(problem.get("path") or "")
        message = str(problem.get("message_ja") or "")
        if path in fields:
            errors[fields[path]] = message
    field = APPROVE_FIELDS.get(failure.code)
    field = fields.get(field, field) if field else None  # the return form's own name
    if field and field in fields.values():
        errors.setdefault(field, failure.message)
    elif not errors:
        loose.append(failure.message)
    return errors, loose, [] if errors else problems


@router.post("/criteria/approvals/{draft_id}/approve", response_model=None)
async def approve(request: Request, portal: PortalDep, draft_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    api = web.user_api(request, portal)
    body: dict[str, Any] = {
        "reason": values.get("reason", ""),
        "rejudge": values.get("rejudge") == "on",
    }
    draft = await call(api, "GET", f"/criteria/drafts/{q(draft_id)}")
    if not draft.get("corrects"):
        body["effective_from"] = values.get("effective_from") or None
    try:
        done = await call(
            api, "POST", f"/criteria/drafts/{q(draft_id)}/approve", body=body, inline=INLINE
        )
    except ServiceError as failure:
        errors, loose, problems = _refusal(
            failure,
            {"reason": "reason", "effective_from": "effective_from", "rejudge": "rejudge"},
        )
        return await _approval_page(
            request, portal, draft_id, values, errors, loose, problems, failure.status
        )
    version = done.get("version") or {}
    name = core.version_name(
        version.get("trade"), version.get("effective_from"), version.get("revision")
    )
    flash = web.session_of(request).add_flash
    flash("success", f"{name}を承認し、公開しました。この基準で判定されます。")
    rejudge = done.get("rejudge")
    if isinstance(rejudge, dict):
        if rejudge.get("status") == "failed":
            flash(
                "error",
                "公開しましたが、再判定を開始できませんでした"
                f"（再判定の実行番号 {rejudge.get('run_id')}）。運用担当に再開を依頼してください。",
            )
        else:
            skipped = rejudge.get("skipped")
            if isinstance(skipped, dict):
                skipped = sum(v for v in skipped.values() if isinstance(v, int))
            flash(
                "info",
                f"再判定を開始しました：対象 {rejudge.get('selected', 0)}件"
                f"（対象外 {skipped or 0}件、事業者 {rejudge.get('employers', 0)}社）。",
            )
    return web.redirect(f"/criteria/trades/{q(str(version.get('trade') or draft.get('trade')))}")


@router.post("/criteria/approvals/{draft_id}/return", response_model=None)
async def return_draft(request: Request, portal: PortalDep, draft_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    api = web.user_api(request, portal)
    try:
        await call(
            api,
            "POST",
            f"/criteria/drafts/{q(draft_id)}/return",
            body={"reason": values.get("return_reason", "")},
            inline=INLINE,
        )
    except ServiceError as failure:
        errors, loose, problems = _refusal(failure, {"reason": "return_reason"})
        if failure.code == "validation_error" and not errors:
            errors["return_reason"] = "差戻しの理由を入力してください"
        return await _approval_page(
            request, portal, draft_id, values, errors, loose, problems, failure.status
        )
    web.session_of(request).add_flash(
        "success", "下書きを差し戻しました。作成者に理由が表示されます。"
    )
    return web.redirect("/criteria/approvals")
