"""HTTP routes of the application service (port 8003), for the owning employer only.

* reference data for the form: ``/options`` (prefectures, levels, judgeable trades, the
  criteria master's 経歴証明 rules from the judgement service, today's fee);
* workers that may be chosen: ``/workers`` (valid consents), ``/workers/{id}/career-prefill``;
* drafts: ``/applications`` (create, list by status), ``/applications/{id}`` (get, change
  the delivery address and declarations, delete a draft);
* lines: ``/applications/{id}/lines`` (add), ``/applications/{id}/lines/{line_id}``
  (replace, remove), ``…/preview`` (the judgement service's preview);
* ``/applications/{id}/submit`` (``Idempotency-Key`` required), ``/applications/{id}/withdraw``;
* ``/results``: the submitted lines' current results and 結果通知書 (the portal's result
  list), read from the applications' summaries (``core.summaries``) only;
* evaluators and operators: ``/access-log``.

A draft's ``fee_total_yen`` is what it would cost if submitted today (the portal shows it);
after submission, the fee fixed then. Refusals are the core's ``DomainError`` s, answered
through ``STATUS`` (one table, installed by ``inject.py``); the routes get the service and
the access log through ``get_service`` and ``get_access_log``, which read them from the
container ``inject.py`` wired (``app.state.container``; a test may override them). Not
``app.dependency_overrides`` in the running app: with any override set, FastAPI analyses
every route's dependencies again on each request (≈ 0.5 ms of CPU a request).

Another employer's application answers 404, as if it did not exist. Every answer that shows
a worker's personal data is written to the access log (APPI) before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from application.core import address, applications, lines
from application.core.applications import Header as DraftHeader
from application.core.service import ApplicationService
from shared_kernel.infra.access_log import AccessLog, logged
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

T = TypeVar("T")

router = APIRouter()

STATUS = {
    "validation_error": 422,
    "too_many_lines": 422,
    "ccus_not_found": 422,
    "trade_not_available": 422,
    "idempotency_key_required": 400,
    "invalid_idempotency_key": 400,
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
    "judgement_unavailable": 503,
}
"""Every refusal of the core (``application.core.errors``) and its HTTP status: the one
table ``inject.py`` installs with ``install_error_translator``."""
FIELD_LABELS = {
    "worker_id": "技能者ID",
    "trade": "分野",
    "requested_level": "申請するレベル",
    "career_period": "就業期間",
    "foreman": "職長としての就業年数",
    "leader": "班長としての就業年数",
    "delivery_address": "カード送付先",
    **address.FIELDS_JA,
    "declarations": "表明",
    "career_certified": "経歴証明の表明",
    "card_issuance_consented": "カード発行に関する同意の表明",
    "reason": "取下げ理由",
    "status": "状態",
}
"""Japanese names of the request fields, for the messages of a refused request body."""
FEE_TOTAL_JA = (
    "``fee_total_yen``: 申請後は申請時に確定した手数料の合計。下書きでは今日申請した場合の見込み額"
    "（今日の1名あたりの手数料 × 技能者数。手数料の規則がなければ null）。"
)


def get_service(request: Request) -> ApplicationService:
    """The application service (wired by ``inject.py`` when the app starts)."""
    service: ApplicationService = request.app.state.container.service
    return service


def get_access_log(request: Request) -> AccessLog:
    """The service's access log (wired by ``inject.py`` when the app starts)."""
    log: AccessLog = request.app.state.container.access_log
    return log


Service = Annotated[ApplicationService, Depends(get_service)]
AccessLogDep = Annotated[AccessLog, Depends(get_access_log)]
Employer = Annotated[Principal, Depends(require("employer"))]


@dataclass(frozen=True)
class AccessLogger:
    """The access log of one employer's request: ``await log(action, answer)`` records the
    answer and returns it; ``subjects``, when given, is what the entry is made of instead
    of the whole answer (``result_subjects``: the same entry, for less work)."""

    access: AccessLog
    principal: Principal
    request: Request

    async def __call__(self, action: str, answer: T, subjects: Any = None) -> T:
        shown = answer if subjects is None else subjects
        await logged(self.access, self.principal, self.request, action, shown)
        return answer


SUBJECT_FIELDS = ("worker_id", "employer_id", "application_id")
"""What the access log reads of an object naming a worker (``worker_id``; the employer and
the linked application, ``access.LINKED``)."""


def result_subjects(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the access log needs of the result list's lines (``GET /results``): each line's
    worker, employer and application. Nothing nested in a line (its 結果通知書) names a
    worker, so the entry is the one of the whole answer (a unit test holds it), made
    without walking every notice of every line."""
    return [{k: line[k] for k in SUBJECT_FIELDS if k in line} for line in lines]


def _access_logger(access: AccessLogDep, principal: Employer, request: Request) -> AccessLogger:
    return AccessLogger(access, principal, request)


Log = Annotated[AccessLogger, Depends(_access_logger)]


def _authorization(request: Request) -> str:
    return request.headers.get("authorization", "")


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


def _header(service: ApplicationService, body: ApplicationBody) -> DraftHeader:
    address = body.delivery_address.model_dump() if body.delivery_address else None
    declarations = body.declarations.model_dump(exclude_none=True) if body.declarations else None
    return applications.check_header(
        address,
        "delivery_address" in body.model_fields_set,
        declarations,
        service.policy.prefectures,
    )


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
async def about(service: Service) -> dict[str, Any]:
    return {
        "service": "application",
        "title": "レベル判定代行申請サービス",
        "draft_reminder_after_hours": service.policy.reminder_after.total_seconds() / 3600,
    }


@router.get("/options", summary="申請画面の選択肢（都道府県・分野・レベル・手数料）")
async def options(service: Service, _: Employer) -> dict[str, Any]:
    return await service.options()


@router.get("/workers", summary="技能者追加で選択できる技能者（個人情報利用の同意が有効）")
async def workers(service: Service, principal: Employer, log: Log) -> list[dict[str, Any]]:
    found = await service.workers(principal)
    return await log("list_workers", found)


@router.get("/workers/{worker_id}/career-prefill", summary="就業期間の初期表示（CCUSから）")
async def career_prefill(
    service: Service, worker_id: str, principal: Employer, log: Log, request: Request
) -> dict[str, Any]:
    found = await service.career_prefill(principal, worker_id, _authorization(request))
    return await log("career_prefill", found)


@router.post("/applications", status_code=201, summary="代行申請の下書きを作成")
async def create(
    service: Service,
    principal: Employer,
    log: Log,
    body: ApplicationBody | None = None,
) -> dict[str, Any]:
    header = _header(service, body or ApplicationBody())
    found = await service.create(principal, header)
    return await log("change_application", found)


@router.get(
    "/applications",
    summary="代行申請の一覧（状態で絞り込み）",
    response_description=f"申請の一覧。{FEE_TOTAL_JA}",
)
async def list_applications(
    service: Service,
    principal: Employer,
    log: Log,
    status: str | None = None,
) -> list[dict[str, Any]]:
    found = await service.list(principal, status)
    return await log("list_applications", found)


@router.get(
    "/results",
    summary="判定結果の一覧（申請済の技能者ごと、申請の要約から）",
    response_description=(
        "申請済の技能者ごとの現在の判定結果（状態・判定・判定レベル・再判定の回数 sequence）と"
        "発行済の結果通知書（notices: superseded_by は更新後の通知書番号）。"
        "application_id で1申請に絞り込み（他の事業者の申請は404）。"
    ),
)
async def results(
    service: Service,
    principal: Employer,
    log: Log,
    application_id: str | None = None,
) -> list[dict[str, Any]]:
    found = await service.results(principal, application_id)
    return await log("list_results", found, result_subjects(found))


@router.get(
    "/applications/{application_id}",
    summary="代行申請の詳細",
    response_description=f"申請の詳細。{FEE_TOTAL_JA}",
)
async def get_application(
    service: Service,
    application_id: str,
    principal: Employer,
    log: Log,
) -> dict[str, Any]:
    found = await service.get(principal, application_id)
    return await log("get_application", found)


@router.patch("/applications/{application_id}", summary="カード送付先・表明の変更（下書き）")
async def update_application(
    service: Service,
    application_id: str,
    principal: Employer,
    log: Log,
    body: ApplicationBody,
) -> dict[str, Any]:
    header = _header(service, body)
    found = await service.update_header(principal, application_id, header)
    return await log("change_application", found)


@router.delete("/applications/{application_id}", status_code=204, summary="下書きの削除")
async def delete_application(
    service: Service, application_id: str, principal: Employer
) -> Response:
    await service.discard(principal, application_id)
    return Response(status_code=204)


@router.post(
    "/applications/{application_id}/lines", status_code=201, summary="技能者追加（下書き）"
)
async def add_line(
    service: Service,
    application_id: str,
    principal: Employer,
    log: Log,
    body: LineBody,
    request: Request,
) -> dict[str, Any]:
    found = await service.add_line(
        principal, application_id, _line_request(body), _authorization(request)
    )
    return await log("change_application", found)


@router.put("/applications/{application_id}/lines/{line_id}", summary="技能者明細の変更（下書き）")
async def replace_line(
    service: Service,
    application_id: str,
    line_id: str,
    principal: Employer,
    log: Log,
    body: LineBody,
    request: Request,
) -> dict[str, Any]:
    found = await service.replace_line(
        principal, application_id, line_id, _line_request(body), _authorization(request)
    )
    return await log("change_application", found)


@router.delete(
    "/applications/{application_id}/lines/{line_id}", summary="技能者明細の削除（下書き）"
)
async def remove_line(
    service: Service,
    application_id: str,
    line_id: str,
    principal: Employer,
    log: Log,
) -> dict[str, Any]:
    found = await service.remove_line(principal, application_id, line_id)
    return await log("change_application", found)


@router.post(
    "/applications/{application_id}/lines/{line_id}/preview",
    summary="判定の試算（判定サービスのプレビュー）",
)
async def preview_line(
    service: Service,
    application_id: str,
    line_id: str,
    principal: Employer,
    log: Log,
    request: Request,
) -> dict[str, Any]:
    found = await service.preview(principal, application_id, line_id, _authorization(request))
    return await log("preview", found)


@router.post("/applications/{application_id}/submit", summary="申請（Idempotency-Key 必須）")
async def submit(
    service: Service,
    application_id: str,
    principal: Employer,
    log: Log,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    done = await service.submit(principal, application_id, idempotency_key)
    response.headers["Idempotent-Replayed"] = "true" if done.replayed else "false"
    return await log("submit", done.response)


@router.post("/applications/{application_id}/withdraw", summary="取下げ（判定開始前のみ）")
async def withdraw(
    service: Service,
    application_id: str,
    principal: Employer,
    log: Log,
    body: WithdrawBody | None = None,
) -> dict[str, Any]:
    reason = body.reason if body else None
    found = await service.withdraw(principal, application_id, reason)
    return await log("withdraw", found)
