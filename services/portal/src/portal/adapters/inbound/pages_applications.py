"""レベル判定代行申請 (employer): the parent screen, the worker line, confirmation, completion.

Everything is the application service's (``services/application``): the portal only shows
its answers and sends the forms.

* ``/applications`` — the employer's applications; 「新しい代行申請を作成」 opens a draft.
* ``/applications/{id}`` — the parent screen of a draft: カード送付先, the two declarations
  (経歴証明, カード発行に関する同意), the worker lines with their eligibility preview,
  「技能者追加」, 「確認画面へ」. A submitted application is shown read-only (取下げ while
  possible); each judged line shows its current result and, after a re-judgement (再判定),
  its 更新履歴 in the words of 結果確認 (``core.results.history_rows``).
* ``/applications/{id}/lines/new`` and ``…/lines/{line_id}`` — the worker line: only workers
  with a valid consent can be chosen (``GET /workers``); choosing one shows what the consent
  recorded and prefills 就業期間 from CCUS with the reasons (``GET /workers/{id}/
  career-prefill``); 分野 and レベル; 職長・班長 years and months for levels 3–4; the
  delivery address prefilled from the parent.
* ``/applications/{id}/confirm`` — everything once more and the 「申請」 button; the page
  carries a fresh ``Idempotency-Key`` so that a double click or a resent form never files
  twice.
* ``/applications/{id}/done`` — 「申請が完了しました」 with the application number.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.outbound.services import (
    NotFound,
    ServiceError,
    UserApi,
    error_of,
    json_of,
)
from portal.core.formatting import checked, doomed_lines, needs_preview, nested
from portal.core.results import history_rows

router = APIRouter(dependencies=[web.login_as("employer")])

ADDRESS_FIELDS = ("postal_code", "prefecture", "city_address", "building", "addressee", "phone")
DECLARATIONS = ("career_certified", "card_issuance_consented")
MANAGEMENT = ("foreman", "leader")
ACCEPT_REJECTED = "accept_rejected"  # the confirm page's checkbox
ACCEPT_REJECTED_JA = "不承認となる見込みの技能者も申請する（手数料がかかります）"


def app_path(application_id: str, suffix: str = "") -> str:
    return f"/applications/{quote(application_id, safe='')}{suffix}"


async def options(api: UserApi) -> dict[str, Any]:
    found = await api.get("application", "/options")
    return found if isinstance(found, dict) else {}


async def application_of(api: UserApi, application_id: str) -> dict[str, Any]:
    found = await api.get("application", app_path(application_id))
    return found if isinstance(found, dict) else {}


def address_values(address: dict[str, Any] | None, prefix: str) -> dict[str, str]:
    return {f"{prefix}.{k}": str((address or {}).get(k) or "") for k in ADDRESS_FIELDS}


def address_body(values: dict[str, str], prefix: str) -> dict[str, str | None]:
    fields = nested(values, prefix)
    return {k: (fields.get(k) or "").strip() or None for k in ADDRESS_FIELDS}


# --- list and drafts -----------------------------------------------------------------------


@router.get("/applications", summary="レベル判定代行申請の一覧", response_model=None)
async def applications(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    found = await api.get("application", "/applications")
    drafts = [a for a in found if a.get("status") == "draft"]
    others = [a for a in found if a.get("status") != "draft"]
    workers = await api.get("application", "/workers")
    return web.render(
        request,
        "applications.html",
        {"drafts": drafts, "applications": others, "worker_count": len(workers)},
    )


@router.post("/applications", response_model=None)
async def create(request: Request, portal: PortalDep) -> Response:
    await web.checked_form(request)
    created = await web.user_api(request, portal).post("application", "/applications", {})
    return web.redirect(app_path(str(created["application_id"])))


def header_body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "delivery_address": address_body(values, "delivery_address"),
        "declarations": {name: checked(values, f"declarations.{name}") for name in DECLARATIONS},
    }


async def parent_page(
    request: Request,
    api: UserApi,
    application: dict[str, Any],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    if values is None:
        values = address_values(application.get("delivery_address"), "delivery_address")
        for name in DECLARATIONS:
            if (application.get("declarations") or {}).get(name):
                values[f"declarations.{name}"] = "on"
    opts = await options(api) if application.get("editable") else {}
    application = {
        **application,
        "lines": [
            {**line, "history": history_rows(line.get("judgement_history") or [])}
            for line in application.get("lines") or []
            if isinstance(line, dict)
        ],
    }
    return web.render(
        request,
        "application.html",
        {
            "application": application,
            "options": opts,
            "values": values,
            "errors": errors or {},
            "form_errors": form_errors or [],
        },
        status_code=status_code,
    )


@router.get("/applications/{application_id}", summary="代行申請（親画面）", response_model=None)
async def application_page(request: Request, portal: PortalDep, application_id: str) -> Response:
    api = web.user_api(request, portal)
    return await parent_page(request, api, await application_of(api, application_id))


@router.post("/applications/{application_id}", response_model=None)
async def save_header(request: Request, portal: PortalDep, application_id: str) -> Response:
    """保存 / 技能者追加 / 確認画面へ: the header is saved first in every case."""
    values = web.text_fields(await web.checked_form(request))
    action = values.pop("action", "save")
    api = web.user_api(request, portal)
    reply = await api.call(
        "application", "PATCH", app_path(application_id), json=header_body(values)
    )
    if not reply.ok:
        failure = error_of("application", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await parent_page(
            request,
            api,
            await application_of(api, application_id),
            values=values,
            errors=failure.fields,
            form_errors=[] if failure.fields else [failure.message],
            status_code=failure.status,
        )
    if action == "add_line":
        return web.redirect(app_path(application_id, "/lines/new"))
    if action == "confirm":
        await preview_missing(request, api, application_id)
        return web.redirect(app_path(application_id, "/confirm"))
    web.session_of(request).add_flash(
        "success", "カード送付先と表明を保存しました（まだ申請は完了していません）。"
    )
    return web.redirect(app_path(application_id))


@router.post("/applications/{application_id}/delete", response_model=None)
async def delete_draft(request: Request, portal: PortalDep, application_id: str) -> Response:
    await web.checked_form(request)
    await web.user_api(request, portal).delete("application", app_path(application_id))
    web.session_of(request).add_flash("success", f"下書き {application_id} を削除しました。")
    return web.redirect("/applications")


@router.post("/applications/{application_id}/withdraw", response_model=None)
async def withdraw(request: Request, portal: PortalDep, application_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    api = web.user_api(request, portal)
    reason = values.get("reason", "").strip() or None
    reply = await api.call(
        "application", "POST", app_path(application_id, "/withdraw"), json={"reason": reason}
    )
    session = web.session_of(request)
    if not reply.ok:
        failure = error_of("application", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        session.add_flash("error", failure.message)
    else:
        session.add_flash("success", f"申請 {application_id} を取り下げました。")
    return web.redirect(app_path(application_id))


# --- the worker line -----------------------------------------------------------------------


def line_values(line: dict[str, Any]) -> dict[str, str]:
    values = {
        "worker_id": str(line.get("worker_id") or ""),
        "trade": str(line.get("trade") or ""),
        "requested_level": str(line.get("requested_level") or ""),
    }
    period = line.get("career_period") or {}
    values["career_period.start"] = str(period.get("start") or "")
    values["career_period.end"] = str(period.get("end") or "")
    for role in MANAGEMENT:
        found = line.get(role) or {}
        for part in ("years", "months"):
            value = found.get(part)
            values[f"{role}.{part}"] = "" if value is None else str(value)
    values.update(address_values(line.get("delivery_address"), "delivery_address"))
    return values


def line_body(
    values: dict[str, str],
    parent_address: dict[str, Any] | None,
    management_levels: Collection[int],
) -> dict[str, Any]:
    """The line's request body. ``management_levels``: the levels whose application asks the
    years as 職長 and 班長 (the application service's ``/options``, from the master's rules):
    for those both are sent, empty ones included (so the service names what is missing);
    for the other levels none is sent (the form says so)."""
    level_text = values.get("requested_level", "").strip()
    level: int | str | None = int(level_text) if level_text.isdigit() else (level_text or None)
    body: dict[str, Any] = {
        "worker_id": values.get("worker_id", "").strip() or None,
        "trade": values.get("trade", "").strip() or None,
        "requested_level": level,
    }
    start = values.get("career_period.start", "").strip()
    end = values.get("career_period.end", "").strip()
    body["career_period"] = {"start": start or None, "end": end or None} if start or end else None
    asked = level in management_levels
    if asked or not isinstance(level, int):
        for role in MANAGEMENT:
            years = values.get(f"{role}.years", "").strip()
            months = values.get(f"{role}.months", "").strip()
            if years or months or asked:
                body[role] = {"years": years or None, "months": months or None}
    address = address_body(values, "delivery_address")
    parent = {k: ((parent_address or {}).get(k) or None) for k in ADDRESS_FIELDS}
    if any(address.values()) and address != parent:
        body["delivery_address"] = address
    return body


async def line_page(
    request: Request,
    api: UserApi,
    application: dict[str, Any],
    values: dict[str, str],
    *,
    line: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    workers = await api.get("application", "/workers")
    worker_id = values.get("worker_id", "")
    chosen = next((w for w in workers if w.get("worker_id") == worker_id), None)
    prefill: dict[str, Any] | None = None
    if chosen is not None:
        try:
            prefill = await api.get(
                "application", f"/workers/{quote(worker_id, safe='')}/career-prefill"
            )
        except (NotFound, ServiceError):
            prefill = None
    if line is not None and line.get("career_prefill"):
        prefill = prefill or {"career_period": line["career_prefill"]}
    return web.render(
        request,
        "application_line.html",
        {
            "application": application,
            "options": await options(api),
            "workers": workers,
            "chosen": chosen,
            "prefill": prefill,
            "line": line,
            "values": values,
            "errors": errors or {},
            "form_errors": form_errors or [],
        },
        status_code=status_code,
    )


def with_prefill(values: dict[str, str], prefill: dict[str, Any] | None) -> dict[str, str]:
    period = (prefill or {}).get("career_period") or {}
    for part in ("start", "end"):
        if not values.get(f"career_period.{part}") and period.get(part):
            values[f"career_period.{part}"] = str(period[part])
    return values


@router.get("/applications/{application_id}/lines/new", summary="技能者追加", response_model=None)
async def new_line(
    request: Request,
    portal: PortalDep,
    application_id: str,
    worker_id: str = "",
    trade: str = "",
    level: str = "",
) -> Response:
    """``worker_id``, ``trade`` and ``level`` preselect the form (レベル診断's 「代行申請に追加」:
    the worker, the 分野 and the level reachable today); the employer still confirms them."""
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    if not application.get("editable"):
        return web.redirect(app_path(application_id))
    values = address_values(application.get("delivery_address"), "delivery_address")
    values["worker_id"] = worker_id
    values["trade"] = trade
    values["requested_level"] = level if level.isdigit() else ""
    if worker_id:
        try:
            prefill = await api.get(
                "application", f"/workers/{quote(worker_id, safe='')}/career-prefill"
            )
            values = with_prefill(values, prefill)
        except (NotFound, ServiceError):
            pass
    return await line_page(request, api, application, values)


async def _save_line(
    request: Request, portal: Portal, application_id: str, line_id: str | None
) -> Response:
    values = web.text_fields(await web.checked_form(request))
    action = values.pop("action", "save")
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    line = None
    if line_id is not None:
        line = next((x for x in application.get("lines", []) if x.get("line_id") == line_id), None)
        if line is None:
            raise NotFound("該当する技能者の明細がありません。")
    if action == "choose_worker":  # without JavaScript: show the worker's consent and period
        values["career_period.start"] = values["career_period.end"] = ""
        try:
            prefill = await api.get(
                "application",
                f"/workers/{quote(values.get('worker_id', ''), safe='')}/career-prefill",
            )
            values = with_prefill(values, prefill)
        except (NotFound, ServiceError):
            pass
        return await line_page(request, api, application, values, line=line)
    levels = (await options(api)).get("management_required_levels") or []
    body = line_body(values, application.get("delivery_address"), levels)
    if line_id is None:
        reply = await api.call("application", "POST", app_path(application_id, "/lines"), json=body)
    else:
        reply = await api.call(
            "application",
            "PUT",
            app_path(application_id, f"/lines/{quote(line_id, safe='')}"),
            json=body,
        )
    if not reply.ok:
        failure = error_of("application", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await line_page(
            request,
            api,
            application,
            values,
            line=line,
            errors=failure.fields,
            form_errors=[] if failure.fields else [failure.message],
            status_code=failure.status,
        )
    saved = json_of("application", reply)
    session = web.session_of(request)
    verb = "追加しました" if line_id is None else "変更しました"
    session.add_flash(
        "success",
        f"{saved.get('worker_name', '')}さんを{verb}。"
        "申請はまだ完了していません。確認画面で「申請」ボタンを押してください。",
    )
    for warning in saved.get("warnings", []):
        session.add_flash("warning", str(warning.get("message", "")))
    return web.redirect(app_path(application_id, f"#line-{saved.get('line_id', '')}"))


@router.post("/applications/{application_id}/lines", response_model=None)
async def add_line(request: Request, portal: PortalDep, application_id: str) -> Response:
    return await _save_line(request, portal, application_id, None)


@router.get(
    "/applications/{application_id}/lines/{line_id}",
    summary="代行申請（技能者明細の変更）",
    response_model=None,
)
async def edit_line(
    request: Request, portal: PortalDep, application_id: str, line_id: str
) -> Response:
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    line = next((x for x in application.get("lines", []) if x.get("line_id") == line_id), None)
    if line is None:
        raise NotFound("該当する技能者の明細がありません。")
    if not application.get("editable"):
        return web.redirect(app_path(application_id))
    values = line_values(line)
    if not line.get("delivery_address"):
        values.update(address_values(application.get("delivery_address"), "delivery_address"))
    return await line_page(request, api, application, values, line=line)


@router.post("/applications/{application_id}/lines/{line_id}", response_model=None)
async def replace_line(
    request: Request, portal: PortalDep, application_id: str, line_id: str
) -> Response:
    return await _save_line(request, portal, application_id, line_id)


@router.post("/applications/{application_id}/lines/{line_id}/delete", response_model=None)
async def remove_line(
    request: Request, portal: PortalDep, application_id: str, line_id: str
) -> Response:
    await web.checked_form(request)
    await web.user_api(request, portal).delete(
        "application", app_path(application_id, f"/lines/{quote(line_id, safe='')}")
    )
    web.session_of(request).add_flash("success", "技能者の明細を削除しました。")
    return web.redirect(app_path(application_id))


@router.post("/applications/{application_id}/lines/{line_id}/preview", response_model=None)
async def preview_line(
    request: Request, portal: PortalDep, application_id: str, line_id: str
) -> Response:
    await web.checked_form(request)
    api = web.user_api(request, portal)
    reply = await api.call(
        "application",
        "POST",
        app_path(application_id, f"/lines/{quote(line_id, safe='')}/preview"),
    )
    if not reply.ok:
        failure = error_of("application", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        web.session_of(request).add_flash("warning", failure.message)
    return web.redirect(app_path(application_id, f"#line-{line_id}"))


async def preview_lines(
    request: Request, api: UserApi, application_id: str, *, missing_only: bool = False
) -> None:
    """The judgement preview of every line (``missing_only``: of the lines without one);
    a refusal becomes a warning naming the worker."""
    application = await application_of(api, application_id)
    for line in application.get("lines", []):
        if missing_only and not needs_preview(line):
            continue
        line_id = str(line.get("line_id"))
        reply = await api.call(
            "application",
            "POST",
            app_path(application_id, f"/lines/{quote(line_id, safe='')}/preview"),
        )
        if not reply.ok:
            failure = error_of("application", reply)
            if not isinstance(failure, ServiceError):
                raise failure
            web.session_of(request).add_flash(
                "warning", f"{line.get('worker_name', '')}さん：{failure.message}"
            )


async def preview_missing(request: Request, api: UserApi, application_id: str) -> None:
    """Before the confirm page: the lines without a preview get one, so that the page can
    show every line that will certainly be rejected."""
    await preview_lines(request, api, application_id, missing_only=True)


@router.post("/applications/{application_id}/preview", response_model=None)
async def preview_all(request: Request, portal: PortalDep, application_id: str) -> Response:
    await web.checked_form(request)
    await preview_lines(request, web.user_api(request, portal), application_id)
    return web.redirect(app_path(application_id, "#lines"))


# --- confirmation, submission, completion --------------------------------------------------


def submission_problems(
    application: dict[str, Any], errors: dict[str, str], raw: list[dict[str, Any]]
) -> tuple[list[str], dict[str, list[str]]]:
    """The submission's refusals: those of the application, and those of each line."""
    by_line: dict[str, list[str]] = {}
    header: list[str] = []
    for error in raw:
        line_id = error.get("line_id")
        message = str(error.get("message", ""))
        if line_id:
            by_line.setdefault(str(line_id), []).append(message)
        else:
            header.append(message)
    if not raw:
        header = list(errors.values())
    return header, by_line


async def confirm_page(
    request: Request,
    api: UserApi,
    application: dict[str, Any],
    *,
    failure: ServiceError | None = None,
    confirm_error: str | None = None,
    status_code: int = 200,
) -> Response:
    opts = await options(api)
    fee = (opts.get("fee_today") or {}).get("fee_yen")
    doomed = doomed_lines(application, fee)
    header_errors: list[str] = []
    line_errors: dict[str, list[str]] = {}
    if failure is not None:
        raw = failure.body.get("errors")
        header_errors, line_errors = submission_problems(
            application, failure.fields, raw if isinstance(raw, list) else []
        )
        if not header_errors and not line_errors:
            header_errors = [failure.message]
    return web.render(
        request,
        "application_confirm.html",
        {
            "application": application,
            "options": opts,
            "fee": fee,
            "fee_total": application.get("fee_total_yen"),  # the application service's sum
            "idempotency_key": str(uuid.uuid4()),
            "header_errors": header_errors,
            "line_errors": line_errors,
            "doomed": doomed,
            "doomed_ids": [str(x.get("line_id")) for x in doomed],
            "doomed_fee": sum(int(x["fee_yen"] or 0) for x in doomed),
            "confirm_error": confirm_error,
            "accept_name": ACCEPT_REJECTED,
            "accept_label": ACCEPT_REJECTED_JA,
        },
        status_code=status_code,
    )


@router.get(
    "/applications/{application_id}/confirm", summary="代行申請（確認画面）", response_model=None
)
async def confirm(request: Request, portal: PortalDep, application_id: str) -> Response:
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    if application.get("status") != "draft":
        return web.redirect(app_path(application_id, "/done"))
    return await confirm_page(request, api, application)


@router.post("/applications/{application_id}/submit", response_model=None)
async def submit(request: Request, portal: PortalDep, application_id: str) -> Response:
    values = web.text_fields(await web.checked_form(request))
    key = values.get("idempotency_key", "").strip() or str(uuid.uuid4())
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    if application.get("status") != "draft":
        return web.redirect(app_path(application_id, "/done"))
    if not application.get("lines"):
        return await confirm_page(
            request,
            api,
            application,
            confirm_error="技能者が1名もいないため申請できません。技能者を追加してください。",
            status_code=422,
        )
    fee = (await options(api)).get("fee_today") or {}
    if doomed_lines(application, fee.get("fee_yen")) and not checked(values, ACCEPT_REJECTED):
        return await confirm_page(
            request,
            api,
            application,
            confirm_error=(
                "不承認となる見込みの技能者が含まれています。申請する場合は"
                f"「{ACCEPT_REJECTED_JA}」にチェックしてください。"
                "申請しない場合は「見込みのない技能者を外す」を押してください。"
            ),
            status_code=422,
        )
    reply = await api.call(
        "application",
        "POST",
        app_path(application_id, "/submit"),
        headers=[("Idempotency-Key", key)],
    )
    if not reply.ok:
        failure = error_of("application", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        application = await application_of(api, application_id)
        if application.get("status") != "draft":  # submitted meanwhile (another tab)
            return web.redirect(app_path(application_id, "/done"))
        return await confirm_page(
            request, api, application, failure=failure, status_code=failure.status
        )
    return web.redirect(app_path(application_id, "/done"))


@router.post("/applications/{application_id}/drop-rejected", response_model=None)
async def drop_rejected(request: Request, portal: PortalDep, application_id: str) -> Response:
    """「見込みのない技能者を外す」: the lines that will certainly be rejected leave the draft
    (the application service's ``DELETE …/lines/{line}``); the confirm page again."""
    await web.checked_form(request)
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    if not application.get("editable"):
        return web.redirect(app_path(application_id))
    dropped = []
    for line in doomed_lines(application, None):
        line_id = str(line.get("line_id"))
        await api.delete(
            "application", app_path(application_id, f"/lines/{quote(line_id, safe='')}")
        )
        dropped.append(f"{line.get('worker_name', '')}さん")
    if dropped:
        web.session_of(request).add_flash(
            "success",
            f"不承認となる見込みの技能者（{'、'.join(dropped)}）を代行申請から外しました。"
            "申請はまだ完了していません。",
        )
    return web.redirect(app_path(application_id, "/confirm"))


@router.get(
    "/applications/{application_id}/done", summary="代行申請（申請完了）", response_model=None
)
async def done(request: Request, portal: PortalDep, application_id: str) -> Response:
    api = web.user_api(request, portal)
    application = await application_of(api, application_id)
    if application.get("status") == "draft":
        return web.redirect(app_path(application_id, "/confirm"))
    return web.render(request, "application_done.html", {"application": application})
