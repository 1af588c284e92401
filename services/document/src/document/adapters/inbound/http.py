"""HTTP routes of the document service (port 8006).

* ``GET /notices?application_id=`` and ``GET /notices/{notice_id}/pdf``: the owning
  employer (the token's ``employer_id``) and the evaluators of the notice's 分野 (every
  分野 for an evaluator without a binding); another employer or 分野 gets 404 (a notice's
  existence is not disclosed), other roles 403, no token 401 (``core/access.py``);
* ``GET /verify/{code}`` (public): is the notice with this verification code authentic
  and unchanged (JSON; a small Japanese page for browsers); ``POST /verify`` with a PDF
  (raw body or multipart upload): is this exact file a notice we issued; both say when a
  re-judgement's notice has replaced it (``current: false``) and name the current one;
* ``POST /consent-forms`` (employer): the blank 個人情報利用同意書, prefilled.

The service, the access log and the HTML pages come through the placeholders below (wired
by ``inject.py``); refusals are the core's ``DomainError``s, answered through ``STATUS``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment
from pydantic import BaseModel, Field

from document.adapters.inbound.uploads import uploaded_pdf, wants_html
from document.adapters.outbound.metrics import count_verification
from document.core.errors import UNKNOWN_CODE, FileTooLarge, NotAPdf, UnknownCode
from document.core.service import DocumentService
from shared_kernel.infra.access_log import AccessLog, logged
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

router = APIRouter()
STATUS = {
    "forbidden": 403,
    "not_found": 404,
    "unknown_code": 404,
    "file_too_large": 413,
    "not_a_pdf": 422,
}
"""The core's error codes and their HTTP status."""


def get_service() -> DocumentService:
    """Placeholder: ``inject.py`` overrides it with the wired service."""
    raise NotImplementedError


def get_access_log() -> AccessLog:
    """Placeholder: the personal-data access log (``inject.py``)."""
    raise NotImplementedError


def get_pages() -> Environment:
    """Placeholder: the HTML pages' templates (``inject.py``)."""
    raise NotImplementedError


Service = Annotated[DocumentService, Depends(get_service)]
Log = Annotated[AccessLog, Depends(get_access_log)]
Pages = Annotated[Environment, Depends(get_pages)]
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]
Employer = Annotated[Principal, Depends(require("employer"))]
MAX_PDF = 10 * 1024 * 1024
MAX_UPLOAD = MAX_PDF + 64 * 1024  # multipart framing
NOT_ISSUED = "本システムが発行した結果通知書と一致しません（発行後に改変された可能性があります）。"
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/", summary="サービス情報")
async def about() -> dict[str, str]:
    return {"service": "document", "title": "帳票サービス"}


@router.get("/notices", summary="結果通知書の一覧（所属事業者・評価者）")
async def notices(
    service: Service,
    access_log: Log,
    principal: EmployerOrEvaluator,
    request: Request,
    application_id: str | None = None,
) -> JSONResponse:
    listed = await service.notices_for(principal, application_id)
    answer = await logged(access_log, principal, request, "list_notices", listed)
    return JSONResponse(answer, headers=PRIVATE)


@router.get("/notices/{notice_id}/pdf", summary="結果通知書（PDF）のダウンロード")
async def notice_pdf(
    service: Service,
    access_log: Log,
    notice_id: str,
    principal: EmployerOrEvaluator,
    request: Request,
) -> Response:
    notice, pdf = await service.notice_pdf(principal, notice_id)
    await logged(access_log, principal, request, "download_notice", notice.to_document())
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{notice_id}.pdf"',
            **PRIVATE,
        },
    )


def _page(
    pages: Environment, service: DocumentService, status: int, **context: Any
) -> HTMLResponse:
    html = pages.get_template("verify.html").render(
        notice=context.get("notice"),
        message=context.get("message", ""),
        upload_url=service.base_url + "/verify",
    )
    return HTMLResponse(html, status_code=status)


@router.get("/verify/{code}", summary="結果通知書の真正性の確認（公開）")
async def verify(service: Service, pages: Pages, code: str, request: Request) -> Response:
    html = wants_html(request.headers.get("accept"))
    result = await service.verify_code(code)
    if result is None:
        count_verification("code", "unknown")
        if html:
            return _page(pages, service, 404, message=UNKNOWN_CODE)
        raise UnknownCode()
    count_verification("code", "authentic" if result["authentic"] else "not_authentic")
    if html:
        return _page(pages, service, 200, notice=result)
    return JSONResponse(result)


async def _read_capped(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/verify",
    summary="PDFファイルが発行された結果通知書と同一かの確認（公開）",
    description="本文にPDFそのもの（application/pdf）"
    "又は multipart/form-data のファイルを送信します。",
)
async def verify_file(service: Service, pages: Pages, request: Request) -> Response:
    html = wants_html(request.headers.get("accept"))
    body = await _read_capped(request, MAX_UPLOAD)
    if body is None:
        raise FileTooLarge()
    content_type = request.headers.get("content-type", "application/pdf")
    pdf = await asyncio.to_thread(uploaded_pdf, content_type, body)
    if pdf is None or len(pdf) > MAX_PDF:
        raise NotAPdf()
    result = await service.verify_file(pdf)
    count_verification("file", "authentic" if result else "not_issued")
    if result is None:
        if html:
            return _page(pages, service, 200, message=NOT_ISSUED)
        return JSONResponse({"authentic": False, "message": NOT_ISSUED})
    if html:
        return _page(pages, service, 200, notice=result)
    return JSONResponse(result)


class ConsentFormRequest(BaseModel):
    employer_name: str | None = Field(default=None, max_length=100)
    """Printed as the addressee; when absent, the name known for the token's employer."""
    worker_name: str = Field(min_length=1, max_length=50)
    worker_name_kana: str = Field(min_length=1, max_length=50)
    worker_id: str | None = Field(default=None, pattern=r"^\d{14}$")


@router.post("/consent-forms", summary="個人情報利用同意書（記入用PDF、保存しません）")
async def consent_form(service: Service, body: ConsentFormRequest, principal: Employer) -> Response:
    pdf = await service.consent_form(
        employer_id=principal.employer_id,
        employer_name=(body.employer_name or "").strip() or None,
        worker_name=body.worker_name,
        worker_name_kana=body.worker_name_kana,
        worker_id=body.worker_id,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="consent-form.pdf"', **PRIVATE},
    )
