"""HTTP routes of the document service (port 8006).

* ``GET /notices?application_id=`` and ``GET /notices/{notice_id}/pdf``: the owning employer
  and evaluators only (others: 404);
* ``GET /verify/{code}`` (public): is the notice with this verification code authentic and
  unchanged; ``POST /verify`` with a PDF body: is this exact file a notice we issued;
* ``POST /consent-forms`` (employer): the blank 個人情報利用同意書, prefilled.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from document.inject import Container
from shared_kernel.auth import Principal, require
from shared_kernel.http import ApiError
from shared_kernel.service import container_of

router = APIRouter()
ContainerDep = Annotated[Container, Depends(container_of)]
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]
Employer = Annotated[Principal, Depends(require("employer"))]
MAX_PDF = 20 * 1024 * 1024
NOT_FOUND = "該当する結果通知書がありません。"


@router.get("/", summary="サービス情報")
async def about() -> dict[str, str]:
    return {"service": "document", "title": "帳票サービス"}


def _visible(doc: dict[str, Any], principal: Principal) -> bool:
    return principal.role == "evaluator" or doc["employer_id"] == principal.employer_id


@router.get("/notices", summary="結果通知書の一覧")
async def notices(
    container: ContainerDep, principal: EmployerOrEvaluator, application_id: str | None = None
) -> list[dict[str, Any]]:
    flt: dict[str, Any] = {}
    if principal.role == "employer":
        flt["employer_id"] = principal.employer_id
    if application_id:
        flt["application_id"] = application_id
    docs = await container.service.notices.find(flt, projection={"signature": 0, "_outbox": 0})
    return [
        {
            "notice_id": d["_id"],
            "application_id": d["application_id"],
            "line_id": d["line_id"],
            "worker_id": d["worker_id"],
            "trade": d["trade"],
            "decision": d["decision"],
            "eligible_level": d["eligible_level"],
            "verification_code": d["code"],
            "generated_at": d["generated_at"].isoformat(),
            "pdf": f"/notices/{d['_id']}/pdf",
        }
        for d in sorted(docs, key=lambda d: d["_id"])
    ]


@router.get("/notices/{notice_id}/pdf", summary="結果通知書（PDF）")
async def notice_pdf(
    container: ContainerDep, notice_id: str, principal: EmployerOrEvaluator
) -> Response:
    found = await container.service.pdf(notice_id)
    if found is None or not _visible(found[0], principal):
        raise ApiError(404, "not_found", NOT_FOUND)
    return Response(
        found[1],
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{notice_id}.pdf"'},
    )


@router.get("/verify/{code}", summary="結果通知書の真正性の確認（公開）")
async def verify(container: ContainerDep, code: str) -> dict[str, Any]:
    result = await container.service.verify_code(code.strip().upper())
    if result is None:
        raise ApiError(404, "unknown_code", "この検証コードの結果通知書はありません。")
    return result


@router.post("/verify", summary="PDFファイルが発行した結果通知書と同一かの確認（公開）")
async def verify_file(container: ContainerDep, request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.startswith(b"%PDF-") or len(body) > MAX_PDF:
        raise ApiError(422, "not_a_pdf", "PDFファイル（20MB以下）を送信してください。")
    result = await container.service.verify_file(body)
    if result is None:
        return {
            "authentic": False,
            "message": "発行した結果通知書と一致しません（改変の可能性があります）。",
        }
    return result


class ConsentFormRequest(BaseModel):
    employer_name: str = Field(min_length=1, max_length=100)
    worker_name: str = Field(min_length=1, max_length=50)
    worker_name_kana: str = Field(min_length=1, max_length=50)
    worker_id: str | None = Field(default=None, pattern=r"^\d{14}$")


@router.post("/consent-forms", summary="個人情報利用同意書（記入用PDF）")
async def consent_form(container: ContainerDep, body: ConsentFormRequest, _: Employer) -> Response:
    pdf = await container.service.consent_form(body.model_dump())
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="consent-form.pdf"'},
    )
