"""HTTP routes of the application service (port 8003), for the owning employer only.

* reference data for the form: ``/options`` (prefectures, levels, judgeable trades, fee);
* workers that may be chosen: ``/workers`` (valid consents), ``/workers/{id}/career-prefill``;
* drafts: ``/applications`` (create, list by status), ``/applications/{id}`` (get, change
  the delivery address and declarations, delete a draft);
* lines: ``/applications/{id}/lines`` (add), ``/applications/{id}/lines/{line_id}``
  (replace, remove), ``…/preview`` (the judgement service's preview);
* ``/applications/{id}/submit`` (``Idempotency-Key`` required), ``/applications/{id}/withdraw``;
* evaluators and operators: ``/access-log``.

Another employer's application answers 404, as if it did not exist. Every answer that shows
a worker's personal data is written to the access log (APPI) before it is returned.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from application.core import applications, lines
from application.core.applications import Header as DraftHeader
from application.core.errors import ApplicationError, FieldError, JudgementUnavailable
from application.inject import Container
from shared_kernel.infra.access_log import logged
from shared_kernel.infra.auth import require
from shared_kernel.infra.http import ApiError
from shared_kernel.infra.service import container_of
from shared_kernel.principal import Principal

router = APIRouter()
ContainerDep = Annotated[Container, Depends(container_of)]
Employer = Annotated[Principal, Depends(require("employer"))]
T = TypeVar("T")

STATUS_BY_CODE = {
    "validation_error": 422,
    "too_many_lines": 422,
    "ccus_not_found": 422,
    "trade_not_available": 422,
    "not_found": 404,
    "line_not_found": 404,
    "worker_not_found": 404,
    "no_employer": 403,
    "not_editable": 409,
    "already_submitted": 409,
    "already_withdrawn": 409,
    "judgement_started": 409,
    "not_submitted": 409,
    "changed_meanwhile": 409,
    "idempotency_key_reused": 409,
    "id_exhausted": 503,
}
JUDGEMENT_UNAVAILABLE = (
    "判定サービスに接続できないため、処理できませんでした。しばらくしてから再度お試しください。"
)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


async def _call(work: Awaitable[T]) -> T:
    """Run a use case; its refusals become ``{code, message}`` answers."""
    try:
        return await work
    except ApplicationError as exc:
        details = {"errors": [e.as_dict() for e in exc.errors]} if exc.errors else None
        raise ApiError(
            STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message_ja, details
        ) from None
    except JudgementUnavailable:
        raise ApiError(503, "judgement_unavailable", JUDGEMENT_UNAVAILABLE) from None


def _authorization(request: Request) -> str:
    return request.headers.get("authorization", "")


async def _logged(
    container: Container, principal: Principal, request: Request, action: str, answer: T
) -> T:
    """Record the personal data the answer shows (access log, APPI), then return it."""
    return await logged(container.access_log, principal, request, action, answer)


class AddressBody(BaseModel):
    """カード送付先. In a draft every field may be left empty; the submission needs them."""

    model_config = ConfigDict(extra="forbid")

    postal_code: str | None = None
    prefecture: str | None = None
    city_address: str | None = None
    building: str | None = None
    addressee: str | None = None
    phone: str | None = None


class DeclarationsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    career_certified: bool | None = None
    card_issuance_consented: bool | None = None


class ApplicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery_address: AddressBody | None = None
    declarations: DeclarationsBody | None = None


class LineBody(BaseModel):
    """技能者追加. Leave ``career_period`` out to take the CCUS prefill; ``null`` = none."""

    model_config = ConfigDict(extra="forbid")

    worker_id: str | None = None
    trade: str | None = None
    requested_level: Any = None
    career_period: dict[str, Any] | None = None
    foreman: dict[str, Any] | None = None
    leader: dict[str, Any] | None = None
    delivery_address: AddressBody | None = None


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


def _header(container: Container, body: ApplicationBody) -> DraftHeader:
    address = body.delivery_address.model_dump() if body.delivery_address else None
    declarations = body.declarations.model_dump(exclude_none=True) if body.declarations else None
    try:
        return applications.check_header(
            address,
            "delivery_address" in body.model_fields_set,
            declarations,
            container.service.policy.prefectures,
        )
    except ApplicationError as exc:
        raise ApiError(
            422, exc.code, exc.message_ja, {"errors": [e.as_dict() for e in exc.errors]}
        ) from None


def _line_request(body: LineBody) -> lines.LineRequest:
    return lines.LineRequest(
        worker_id=body.worker_id,
        trade=body.trade,
        requested_level=body.requested_level,
        career_period=body.career_period,
        career_period_given="career_period" in body.model_fields_set,
        foreman=body.foreman,
        leader=body.leader,
        delivery_address=body.delivery_address.model_dump() if body.delivery_address else None,
    )


@router.get("/", summary="サービス情報")
async def about(container: ContainerDep) -> dict[str, Any]:
    return {
        "service": "application",
        "title": "レベル判定代行申請サービス",
        "draft_reminder_after_hours": container.settings.draft_reminder_after_hours,
    }


@router.get("/options", summary="申請画面の選択肢（都道府県・分野・レベル・手数料）")
async def options(container: ContainerDep, _: Employer) -> dict[str, Any]:
    service = container.service
    trades = await _call(service.judgement.judgeable_trades())
    rules = service.policy.rules
    rule = service.policy.schedule.rule_on(service.today())
    return {
        "prefectures": list(service.policy.prefectures),
        "levels": [2, 3, 4],
        "management_required_levels": [3, 4],
        "trades": sorted(trades),
        "career_rules": {
            "cap_from": rules.cap_from.isoformat(),
            "cap_end": rules.cap_end.isoformat(),
            "none_from": rules.none_from.isoformat(),
        },
        "fee_today": rule.as_dict(),
        "declarations_ja": dict(applications.DECLARATIONS),
    }


@router.get("/workers", summary="技能者追加で選択できる技能者（個人情報利用の同意が有効）")
async def workers(
    container: ContainerDep, principal: Employer, request: Request
) -> list[dict[str, Any]]:
    found = await _call(container.service.workers(principal))
    return await _logged(container, principal, request, "list_workers", found)


@router.get("/workers/{worker_id}/career-prefill", summary="就業期間の初期表示（CCUSから）")
async def career_prefill(
    container: ContainerDep, worker_id: str, principal: Employer, request: Request
) -> dict[str, Any]:
    found = await _call(
        container.service.career_prefill(principal, worker_id, _authorization(request))
    )
    return await _logged(container, principal, request, "career_prefill", found)


@router.post("/applications", status_code=201, summary="代行申請の下書きを作成")
async def create(
    container: ContainerDep,
    principal: Employer,
    request: Request,
    body: ApplicationBody | None = None,
) -> dict[str, Any]:
    header = _header(container, body or ApplicationBody())
    found = await _call(container.service.create(principal, header))
    return await _logged(container, principal, request, "change_application", found)


@router.get("/applications", summary="代行申請の一覧（状態で絞り込み）")
async def list_applications(
    container: ContainerDep, principal: Employer, request: Request, status: str | None = None
) -> list[dict[str, Any]]:
    if status is not None and status not in applications.STATUSES:
        raise ApiError(
            422,
            "validation_error",
            "入力内容に誤りがあります。",
            {
                "errors": [
                    FieldError(
                        "status",
                        "invalid_status",
                        "状態は draft, submitted, judging, completed, withdrawn のいずれかです",
                    ).as_dict()
                ]
            },
        )
    found = await _call(container.service.list(principal, status))
    return await _logged(container, principal, request, "list_applications", found)


@router.get("/applications/{application_id}", summary="代行申請の詳細")
async def get_application(
    container: ContainerDep, application_id: str, principal: Employer, request: Request
) -> dict[str, Any]:
    found = await _call(container.service.get(principal, application_id))
    return await _logged(container, principal, request, "get_application", found)


@router.patch("/applications/{application_id}", summary="カード送付先・表明の変更（下書き）")
async def update_application(
    container: ContainerDep,
    application_id: str,
    principal: Employer,
    body: ApplicationBody,
    request: Request,
) -> dict[str, Any]:
    header = _header(container, body)
    found = await _call(container.service.update_header(principal, application_id, header))
    return await _logged(container, principal, request, "change_application", found)


@router.delete("/applications/{application_id}", status_code=204, summary="下書きの削除")
async def delete_application(
    container: ContainerDep, application_id: str, principal: Employer
) -> Response:
    await _call(container.service.discard(principal, application_id))
    return Response(status_code=204)


@router.post(
    "/applications/{application_id}/lines", status_code=201, summary="技能者追加（下書き）"
)
async def add_line(
    container: ContainerDep,
    application_id: str,
    principal: Employer,
    body: LineBody,
    request: Request,
) -> dict[str, Any]:
    found = await _call(
        container.service.add_line(
            principal, application_id, _line_request(body), _authorization(request)
        )
    )
    return await _logged(container, principal, request, "change_application", found)


@router.put("/applications/{application_id}/lines/{line_id}", summary="技能者明細の変更（下書き）")
async def replace_line(
    container: ContainerDep,
    application_id: str,
    line_id: str,
    principal: Employer,
    body: LineBody,
    request: Request,
) -> dict[str, Any]:
    found = await _call(
        container.service.replace_line(
            principal, application_id, line_id, _line_request(body), _authorization(request)
        )
    )
    return await _logged(container, principal, request, "change_application", found)


@router.delete(
    "/applications/{application_id}/lines/{line_id}", summary="技能者明細の削除（下書き）"
)
async def remove_line(
    container: ContainerDep,
    application_id: str,
    line_id: str,
    principal: Employer,
    request: Request,
) -> dict[str, Any]:
    found = await _call(container.service.remove_line(principal, application_id, line_id))
    return await _logged(container, principal, request, "change_application", found)


@router.post(
    "/applications/{application_id}/lines/{line_id}/preview",
    summary="判定の試算（判定サービスのプレビュー）",
)
async def preview_line(
    container: ContainerDep,
    application_id: str,
    line_id: str,
    principal: Employer,
    request: Request,
) -> dict[str, Any]:
    found = await _call(
        container.service.preview(principal, application_id, line_id, _authorization(request))
    )
    return await _logged(container, principal, request, "preview", found)


@router.post("/applications/{application_id}/submit", summary="申請（Idempotency-Key 必須）")
async def submit(
    container: ContainerDep,
    application_id: str,
    principal: Employer,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    if idempotency_key is None or not idempotency_key.strip():
        raise ApiError(
            400,
            "idempotency_key_required",
            "Idempotency-Key ヘッダーが必要です"
            "（申請の二重送信を防ぐため、申請ごとに一意の値を指定してください）。",
        )
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key は255文字以内の半角英数字・記号で指定してください。",
        )
    done = await _call(container.service.submit(principal, application_id, idempotency_key))
    response.headers["Idempotent-Replayed"] = "true" if done.replayed else "false"
    return await _logged(container, principal, request, "submit", done.response)


@router.post("/applications/{application_id}/withdraw", summary="取下げ（判定開始前のみ）")
async def withdraw(
    container: ContainerDep,
    application_id: str,
    principal: Employer,
    request: Request,
    body: WithdrawBody | None = None,
) -> dict[str, Any]:
    reason = body.reason if body else None
    found = await _call(container.service.withdraw(principal, application_id, reason))
    return await _logged(container, principal, request, "withdraw", found)
