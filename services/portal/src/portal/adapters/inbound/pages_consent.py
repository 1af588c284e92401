"""メニュー and 個人情報利用申請 (employer).

The 個人情報利用申請 screen: the employer's details (prefilled from identity's
``GET /employers/me``, editable per application), the workers (rows; 「技能者を追加」 adds
one, without JavaScript too), the four consent items, then the list of the employer's
consents with their status, the blank consent form (document service) per worker, and the
upload of the signed form (consent service).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import PortalDep
from portal.adapters.outbound.services import (
    Forbidden,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    UserApi,
    error_of,
    json_of,
)
from portal.core.formatting import checked, nested, rows

router = APIRouter()

EMPLOYER_FIELDS = (
    "employer_name",
    "representative_name",
    "postal_code",
    "address",
    "phone_number",
    "contact_name",
    "email",
    "permit_number",
)
WORKER_FIELDS = ("worker_id", "name", "name_kana", "birth_date")
CONSENT_ITEMS = (
    (
        "view_ccus_data",
        "能力評価実施団体（及びその委託先）が、技能者ID等を用いて建設キャリアアップシステムに"
        "登録された技能者の個人情報を閲覧すること",
    ),
    (
        "proxy_application",
        "所属事業者等が技能者に代わって能力評価（レベル判定）を申請すること（代行申請）",
    ),
    ("card_issuance", "レベル判定の後、建設キャリアアップカードの交付を申請すること"),
    ("fee", "能力評価及びカード交付に係る手数料の負担について"),
)
MAX_ROWS = 100
PDF = "application/pdf"


def attachment(filename: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


async def draft_banner(api: UserApi) -> dict[str, Any]:
    """Drafts not yet submitted (申請ボタンの押し忘れ防止); an outage only dims the banner."""
    try:
        found = await api.get("application", "/applications", status="draft")
    except (ServiceUnavailable, ServiceError):
        return {"drafts": [], "drafts_unknown": True}
    drafts = found if isinstance(found, list) else found.get("items", [])
    return {"drafts": drafts, "drafts_unknown": False}


@router.get(
    "/menu", summary="メニュー", response_model=None, dependencies=[web.login_as("employer")]
)
async def menu(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    context = await draft_banner(api)
    try:
        consents = await api.get("consent", "/consents")
        context["consent_counts"] = {
            "approved": sum(1 for c in consents if c.get("valid")),
            "pending": sum(1 for c in consents if c.get("status") == "pending"),
            "returned": sum(1 for c in consents if c.get("status") == "returned"),
        }
    except (ServiceUnavailable, ServiceError):
        context["consent_counts"] = None
    return web.render(request, "menu.html", context)


# --- 個人情報利用申請 ------------------------------------------------------------------------


def employer_defaults(profile: dict[str, Any]) -> dict[str, str]:
    values = {f"employer.{k}": str(profile.get(k) or "") for k in EMPLOYER_FIELDS}
    return values


async def consent_page(
    request: Request,
    api: UserApi,
    values: dict[str, str],
    worker_rows: int,
    *,
    errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    consents = await api.get("consent", "/consents")
    return web.render(
        request,
        "consents.html",
        {
            "values": values,
            "errors": errors or {},
            "form_errors": form_errors or [],
            "worker_rows": max(1, min(worker_rows, MAX_ROWS)),
            "consent_items": CONSENT_ITEMS,
            "consents": sorted(consents, key=lambda c: c.get("submitted_at") or "", reverse=True),
            "employer_id": web.session_of(request).employer_id,
        },
        status_code=status_code,
    )


@router.get(
    "/consents",
    summary="個人情報利用申請",
    response_model=None,
    dependencies=[web.login_as("employer")],
)
async def consents(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    profile = await api.get("identity", "/employers/me")
    return await consent_page(request, api, employer_defaults(profile), 1)


def application_body(values: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    employer = {k: v.strip() or None for k, v in nested(values, "employer").items()}
    workers = rows(values, "workers", WORKER_FIELDS)
    items = {name: checked(values, f"consent_items.{name}") for name, _ in CONSENT_ITEMS}
    return {"employer": employer, "workers": workers, "consent_items": items}, workers


def renumbered(values: dict[str, str], workers: list[dict[str, str]]) -> dict[str, str]:
    """The form's values with the worker rows numbered as they were sent (0, 1, …)."""
    kept = {k: v for k, v in values.items() if not k.startswith("workers.")}
    for index, worker in enumerate(workers):
        for name, value in worker.items():
            kept[f"workers.{index}.{name}"] = value
    return kept


@router.post("/consents", response_model=None, dependencies=[web.login_as("employer")])
async def file_consents(request: Request, portal: PortalDep) -> Response:
    form = await web.checked_form(request)
    values = web.text_fields(form)
    action = values.pop("action", "submit")
    api = web.user_api(request, portal)
    body, workers = application_body(values)
    if action == "add_worker":
        count = len(workers) + 1
        return await consent_page(request, api, renumbered(values, workers), count)
    if action.startswith("form_pdf:"):
        index = int(action.split(":", 1)[1]) if action.split(":", 1)[1].isdigit() else -1
        worker = {n: values.get(f"workers.{index}.{n}", "").strip() for n in WORKER_FIELDS}
        return await blank_form(
            request, api, values.get("employer.employer_name", ""), worker, values
        )
    if not workers:
        return await consent_page(
            request,
            api,
            values,
            1,
            errors={"workers.0.worker_id": "技能者を1人以上入力してください"},
            status_code=422,
        )
    reply = await api.call("consent", "POST", "/consent-applications", json=body)
    if reply.status != 201:
        failure = error_of("consent", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await consent_page(
            request,
            api,
            renumbered(values, workers),
            len(workers),
            errors=failure.fields,
            form_errors=[failure.message] if not failure.fields else [],
            status_code=failure.status,
        )
    result = json_of("consent", reply)
    session = web.session_of(request)
    names = "、".join(c.get("worker_name", "") for c in result.get("consents", []))
    session.add_flash(
        "success",
        f"個人情報利用申請を受け付けました（{names}）。"
        "同意書をダウンロードし、技能者本人の署名を得てから添付してください。",
    )
    for warning in result.get("warnings", []):
        session.add_flash("warning", str(warning.get("message", "")))
    return web.redirect("/consents#consent-list")


async def blank_form(
    request: Request,
    api: UserApi,
    employer_name: str,
    worker: dict[str, str],
    values: dict[str, str],
) -> Response:
    """The blank 個人情報利用同意書 for a row of the form being filled in."""
    body = {
        "employer_name": employer_name.strip(),
        "worker_name": worker.get("name", ""),
        "worker_name_kana": worker.get("name_kana", ""),
        "worker_id": worker.get("worker_id") or None,
    }
    reply = await api.call("document", "POST", "/consent-forms", json=body)
    if reply.status != 200:
        failure = error_of("document", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await consent_page(
            request,
            api,
            values,
            len(rows(values, "workers", WORKER_FIELDS)) or 1,
            form_errors=[
                "同意書を作成するには、商号又は名称と、その技能者の氏名・氏名カナを入力してください。"
            ],
            status_code=422,
        )
    return pdf_response(reply.body, "個人情報利用同意書.pdf", "consent-form.pdf")


def pdf_response(data: bytes, filename: str, fallback: str) -> Response:
    return Response(
        data,
        media_type=PDF,
        headers={
            "Content-Disposition": attachment(filename, fallback),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/consents/{consent_id}/consent-form.pdf",
    summary="個人情報利用同意書（記入用）",
    dependencies=[web.login_as("employer")],
)
async def consent_form_pdf(request: Request, portal: PortalDep, consent_id: str) -> Response:
    api = web.user_api(request, portal)
    detail = await api.get("consent", f"/consents/{quote(consent_id, safe='')}")
    body = detail.get("consent_form_request") or {}
    reply = await api.call("document", "POST", "/consent-forms", json=body)
    if reply.status != 200:
        raise error_of("document", reply)
    worker_id = str(body.get("worker_id") or consent_id)
    return pdf_response(
        reply.body, f"個人情報利用同意書_{worker_id}.pdf", f"consent-form-{worker_id}.pdf"
    )


@router.post(
    "/consents/{consent_id}/signed-form",
    response_model=None,
    dependencies=[web.login_as("employer")],
)
async def upload_signed_form(request: Request, portal: PortalDep, consent_id: str) -> Response:
    form = await web.checked_form(request)
    session = web.session_of(request)
    api = web.user_api(request, portal)
    failed = f"/consents?upload_error={quote(consent_id, safe='')}#consent-{consent_id}"

    async def refuse(message: str) -> Response:
        """The error names the worker row it belongs to (the list has one form per row)."""
        session.add_flash("error", f"{await row_name(api, consent_id)}：{message}")
        return web.redirect(failed)

    upload = form.get("signed_form")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await refuse("添付する署名済みの同意書ファイルを選択してください。")
    limit = portal.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return await refuse(
            f"ファイルが大きすぎます（{limit // (1024 * 1024)}MBまで）。"
            "解像度を下げるなどして小さくしてから添付してください。"
        )
    reply = await api.call(
        "consent",
        "PUT",
        f"/consents/{quote(consent_id, safe='')}/signed-form",
        content=data,
        headers=[
            ("Content-Type", upload.content_type or "application/octet-stream"),
            ("X-File-Name", quote(upload.filename)),
        ],
    )
    if not reply.ok:
        failure = error_of("consent", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await refuse(f"署名済み同意書を添付できませんでした：{failure.message}")
    result = json_of("consent", reply)
    message = f"{result.get('worker_name', '')}さんの署名済み同意書を添付しました。"
    if result.get("status") == "approved":
        message += "個人情報利用申請が承認されました。"
    else:
        message += "審査が完了するまでお待ちください。"
    session.add_flash("success", message)
    return web.redirect(f"/consents#consent-{consent_id}")


async def row_name(api: UserApi, consent_id: str) -> str:
    """「髙橋 健太さん（技能者ID 99000000000001）の署名後添付」: which row of the list."""
    try:
        found = await api.get("consent", f"/consents/{quote(consent_id, safe='')}")
    except (NotFound, Forbidden, ServiceError, ServiceUnavailable):  # the row by its id
        found = None
    if not isinstance(found, dict) or not found.get("worker_name"):
        return f"個人情報利用申請 {consent_id} の署名後添付"
    return f"{found['worker_name']}さん（技能者ID {found.get('worker_id', '')}）の署名後添付"


@router.get(
    "/consents/{consent_id}/signed-form",
    summary="署名済み同意書のダウンロード",
    dependencies=[web.login_as("employer", "evaluator")],
)
async def signed_form(request: Request, portal: PortalDep, consent_id: str) -> Response:
    api = web.user_api(request, portal)
    reply = await api.call("consent", "GET", f"/consents/{quote(consent_id, safe='')}/signed-form")
    if not reply.ok:
        raise error_of("consent", reply)
    return Response(
        reply.body,
        media_type=reply.header("content-type") or "application/octet-stream",
        headers={
            "Content-Disposition": reply.header("content-disposition") or "attachment",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
