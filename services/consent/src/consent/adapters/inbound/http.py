"""HTTP routes of the consent service (port 8002).

* the employer: ``POST /consent-applications`` (file for one or more workers),
  ``PUT /consents/{id}/signed-form`` (the signed 同意書, raw body), ``GET /consents``,
  ``GET /consents/{id}``, ``GET /consents/{id}/signed-form``, ``GET /consents/granted``;
* the evaluator: ``GET /reviews``, ``POST /consents/{id}/approve``,
  ``POST /consents/{id}/return`` (and every read above, for any employer); an evaluator
  bound to 分野 only for the workers applied for in one of them (``core/access.py``);
* evaluators and operators: ``GET /access-log``.

An employer never sees another employer's consents or files, a bound evaluator a consent
of another 分野: they answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from consent.core import files
from consent.core.consents import Status
from consent.core.service import ConsentService
from consent.core.validation import ApplicationInput
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

router = APIRouter()


def get_service() -> ConsentService:
    """The service the routes use (a placeholder: ``inject.py`` overrides it)."""
    raise NotImplementedError


Service = Annotated[ConsentService, Depends(get_service)]
Employer = Annotated[Principal, Depends(require("employer"))]
Evaluator = Annotated[Principal, Depends(require("evaluator"))]
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]

STATUS: dict[str, int] = {
    "validation_error": 422,
    "empty_file": 422,
    "file_too_large": 413,
    "unsupported_file_type": 415,
    "image_too_large": 422,
    "invalid_file_name": 422,
    "pdf_unreadable": 422,
    "pdf_encrypted": 422,
    "pdf_too_many_pages": 422,
    "image_unreadable": 422,
    "file_processing_timeout": 422,
    "file_check_busy": 503,
    "ccus_check_rate_limited": 429,
    "ccus_check_locked": 423,
    "forbidden": 403,
    "not_found": 404,
    "signed_form_not_found": 404,
    "already_approved": 409,
    "reapplication_required": 409,
    "not_pending": 409,
    "signed_form_missing": 409,
    "signed_form_changed": 409,
}
"""The HTTP status of each refusal of the core (``core/errors.py``); installed by
``inject.create_app`` with the shared translator."""

FIELD_LABELS: dict[str, str] = {
    "employer": "事業者",
    "employer_name": "事業者名",
    "representative_name": "代表者名",
    "postal_code": "郵便番号",
    "address": "所在地",
    "phone_number": "電話番号",
    "contact_name": "担当者名",
    "email": "メールアドレス",
    "permit_number": "建設業許可番号",
    "workers": "技能者",
    "worker_id": "技能者ID",
    "name": "氏名",
    "name_kana": "氏名カナ",
    "birth_date": "生年月日",
    "consent_items": "同意事項",
    "view_ccus_data": "CCUS登録情報の閲覧への同意",
    "proxy_application": "代行申請への同意",
    "card_issuance": "判定後のカード交付申請への同意",
    "fee": "手数料への同意",
    "status": "状態",
    "employer_id": "事業者ID",
    "include_incomplete": "未完了の申請を含めるか",
    "signed_form_id": "同意書のID",
    "reason": "差戻し理由",
    "x-file-name": "ファイル名",
}
"""Japanese names of the request fields, for the answers to malformed requests (422)."""


def endpoint(request: Request) -> str:
    """Which endpoint read the data (for the access log): method and route template."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


@router.get("/", summary="サービス情報")
async def about(service: Service) -> dict[str, Any]:
    return {
        "service": "consent",
        "title": "個人情報利用申請サービス",
        "auto_approve": service.policy.auto_approve,
        "valid_days": service.policy.valid_days,
    }


# --- the employer ---------------------------------------------------------------------------


@router.post("/consent-applications", status_code=201, summary="個人情報利用申請（技能者ごと）")
async def file_application(
    service: Service, body: ApplicationInput, employer: Employer, request: Request
) -> dict[str, Any]:
    return await service.file_application(employer, body, endpoint(request))


@router.get("/consents", summary="技能者ごとの同意状況の一覧")
async def list_consents(
    service: Service,
    principal: EmployerOrEvaluator,
    request: Request,
    status: Status | None = None,
    worker_id: str | None = None,
    employer_id: Annotated[str | None, Query(description="審査員のみ")] = None,
) -> list[dict[str, Any]]:
    return await service.list_consents(
        principal, endpoint(request), status=status, worker_id=worker_id, employer_id=employer_id
    )


@router.get("/consents/granted", summary="同意取得済み（代行申請できる）技能者の一覧")
async def granted(
    service: Service,
    principal: EmployerOrEvaluator,
    request: Request,
    worker_id: str | None = None,
    employer_id: Annotated[str | None, Query(description="審査員のみ")] = None,
) -> list[dict[str, Any]]:
    return await service.granted(
        principal, endpoint(request), employer_id=employer_id, worker_id=worker_id
    )


@router.get("/consents/{consent_id}", summary="個人情報利用申請の詳細")
async def get_consent(
    service: Service, consent_id: str, principal: EmployerOrEvaluator, request: Request
) -> dict[str, Any]:
    return await service.get(principal, consent_id, endpoint(request))


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise files.too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise files.too_large(limit)
    return bytes(body)


@router.put(
    "/consents/{consent_id}/signed-form",
    summary="署名済み同意書の添付（PDF・JPEG・PNG、10MBまで）",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("application/pdf", "image/jpeg", "image/png")
            },
        }
    },
)
async def upload_signed_form(
    service: Service,
    consent_id: str,
    employer: Employer,
    request: Request,
    x_file_name: Annotated[
        str | None, Header(description="元のファイル名（UTF-8をパーセントエンコード）")
    ] = None,
) -> dict[str, Any]:
    data = await read_body(request, service.max_upload_bytes)
    filename = unquote(x_file_name) if x_file_name else None
    return await service.upload_signed_form(employer, consent_id, data, filename)


def content_disposition(filename: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get("/consents/{consent_id}/signed-form", summary="署名済み同意書のダウンロード")
async def download_signed_form(
    service: Service, consent_id: str, principal: EmployerOrEvaluator, request: Request
) -> Response:
    form = await service.signed_form(principal, consent_id, endpoint(request))
    extension = form.filename.rsplit(".", 1)[-1]
    return Response(
        content=form.data,
        media_type=form.content_type,
        headers={
            "Content-Disposition": content_disposition(
                form.filename, f"consent-{consent_id}.{extension}"
            ),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- the evaluator --------------------------------------------------------------------------


@router.get("/reviews", summary="審査待ちの個人情報利用申請（審査員）")
async def reviews(
    service: Service,
    evaluator: Evaluator,
    request: Request,
    include_incomplete: bool = False,
) -> list[dict[str, Any]]:
    return await service.reviews(evaluator, endpoint(request), complete_only=not include_incomplete)


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signed_form_id: str | None = None
    """The form the evaluator looked at; refused if it was replaced meanwhile."""


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str | None = None


@router.post("/consents/{consent_id}/approve", summary="承認（審査員）")
async def approve(
    service: Service,
    consent_id: str,
    evaluator: Evaluator,
    body: ApproveBody | None = None,
) -> dict[str, Any]:
    expected = body.signed_form_id if body is not None else None
    return await service.approve(evaluator, consent_id, expected)


@router.post("/consents/{consent_id}/return", summary="差戻し（審査員、理由は必須）")
async def return_(
    service: Service, consent_id: str, body: ReturnBody, evaluator: Evaluator
) -> dict[str, Any]:
    return await service.return_(evaluator, consent_id, body.reason)
