"""HTTP routes of the judgement service (port 8004).

* criteria master, read only and public: ``/trades``, ``/trades/{name}``, ``/qualifications``;
* previews (used by the application service before submission): ``/preview`` takes a §5
  request, ``/preview/worker`` looks the CCUS part up from the latest snapshot;
* the latest CCUS data of a worker (summary): ``/workers/{worker_id}/ccus``;
* judgements: ``/judgements`` (an employer sees its own), ``/judgements/{line_id}`` — each
  line's current judgement (the highest sequence: a re-judgement replaces the first one),
  the detail with the line's ``history``;
* the evaluator queue: ``/reviews`` and ``POST /judgements/{line_id}/review``.

An evaluator bound to 分野 (token claim ``trades``) sees only the judgements of his 分野 and
the CCUS data of workers with a line of one of them (``core/access.py``); the rest answers
404 like another employer's data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from judgement.core import access, judging
from judgement.core.engine import evaluate
from judgement.core.errors import CriteriaNotAvailable, UnknownTrade
from judgement.core.judging import ReviewRefused
from judgement.core.master import Master, Trade
from judgement.core.models import CareerCertification, EvaluationRequest, EvaluationResult
from judgement.core.service import NotFound
from judgement.inject import Container
from shared_kernel.infra.access_log import logged
from shared_kernel.infra.auth import require
from shared_kernel.infra.http import ApiError
from shared_kernel.infra.mongo import public
from shared_kernel.infra.service import container_of
from shared_kernel.principal import Principal

router = APIRouter()
ContainerDep = Annotated[Container, Depends(container_of)]
Evaluator = Annotated[Principal, Depends(require("evaluator"))]
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]


@router.get("/", summary="サービス情報")
async def about(container: ContainerDep) -> dict[str, str]:
    return {
        "service": "judgement",
        "title": "レベル判定サービス",
        "master_version": container.master.version,
        "review_policy": container.settings.review_policy,
    }


# --- criteria master -----------------------------------------------------------------------


@router.get(
    "/rules", summary="申請に関わる基準マスタの規則（経歴証明の期限、職長・班長を問うレベル）"
)
async def rules(container: ContainerDep) -> dict[str, Any]:
    """The rules the application service applies on its forms, owned by the master's
    settings (``criteria/master/settings.yaml``) and published here, never copied: the
    2023-06 cut-off dates of 経歴証明 and the levels whose criteria count 職長・班長 time."""
    master = container.master
    settings = master.settings
    management = sorted(
        {
            level.number
            for trade in master.trades.values()
            for table in trade.tables
            for level in table.levels.values()
            if level.foreman_scope
        }
    )
    return {
        "master_version": master.version,
        "career": {
            "cap_from": settings.career_end_cap_applies_from.isoformat(),
            "cap_end": settings.career_end_cap.isoformat(),
            "none_from": settings.career_certification_ignored_from.isoformat(),
        },
        "management_levels": management,
    }


def _trade_summary(trade: Trade) -> dict[str, Any]:
    return {
        "name": trade.name,
        "aliases": list(trade.aliases),
        "bodies": [b.name for b in trade.bodies],
        "bodies_ja": trade.bodies_ja(),
        # who else handles the 分野: the organisation judging for a body, the one receiving
        # applications (identity resolves an evaluator's body to its 分野 with these)
        "judged_by": list(dict.fromkeys(b.judged_by for b in trade.bodies if b.judged_by)),
        "applications_via": list(trade.applications_also_via),
        "in_force": trade.in_force,
        "judgeable": trade.judgeable,
        "status": trade.status,
        "criteria_versions": [t.version for t in trade.tables],
        "provisional": any(t.provisional for t in trade.tables),
    }


@router.get("/trades", summary="分野の一覧（判定基準の登録状況）")
async def trades(container: ContainerDep, judgeable: bool | None = None) -> list[dict[str, Any]]:
    found = [_trade_summary(t) for t in container.master.trades.values()]
    return [t for t in found if judgeable is None or t["judgeable"] is judgeable]


@router.get("/trades/{name}", summary="分野の判定基準（レベル別）")
async def trade(
    container: ContainerDep, name: str, on: Annotated[date | None, Query()] = None
) -> dict[str, Any]:
    master = container.master
    try:
        found = master.trade(name)
    except UnknownTrade as exc:
        raise ApiError(404, "unknown_trade", exc.message_ja) from None
    detail = _trade_summary(found)
    table = found.table_on(on or date.today()) if found.tables else None
    if table is None:
        detail["levels"] = []
        return detail
    detail.update(
        criteria_version=table.version,
        effective_from=table.effective_from.isoformat(),
        source=table.source,
        levels=[
            {
                "level": level.number,
                "days": level.days,
                "foreman_scope": level.foreman_scope,
                "foreman_days": level.foreman_days,
                "qualifications": level.qualifications.label if level.qualifications else None,
                "provisional": level.provisional,
            }
            for level in sorted(table.levels.values(), key=lambda lv: lv.number)
        ],
    )
    return detail


@router.get("/qualifications", summary="資格カタログ")
async def qualifications(container: ContainerDep) -> list[dict[str, Any]]:
    return [
        {
            "name": item.name,
            "codes": list(item.codes),
            "aliases": list(item.aliases),
            "category": item.category,
            "supersedes": list(item.supersedes),
            "includes": list(item.includes),
        }
        for item in container.master.items.values()
    ]


# --- previews ------------------------------------------------------------------------------


def _evaluate(request: EvaluationRequest, master: Master) -> EvaluationResult:
    try:
        return evaluate(request, master)
    except (UnknownTrade, CriteriaNotAvailable) as exc:
        raise ApiError(422, "trade_not_available", exc.message_ja) from None


@router.post("/preview", summary="判定の試算（§5 の判定リクエスト）")
async def preview(container: ContainerDep, request: EvaluationRequest) -> EvaluationResult:
    return _evaluate(request, container.master)


class WorkerPreview(BaseModel):
    worker_id: str = Field(pattern=r"^\d{14}$")
    trade: str
    requested_level: int = Field(ge=2, le=4)
    application_date: date
    career_certification: CareerCertification | None = None


CCUS_NOT_FOUND = "この技能者IDのCCUSデータがありません。"


async def _require_worker(
    container: Container, principal: Principal, worker_id: str, trade: str | None = None
) -> None:
    """404 unless ``principal`` may read the worker's CCUS data (for ``trade``): an employer
    only a worker who consented; an evaluator a worker with a line of one of his 分野 (any
    worker when unbound). As if the worker were unknown: a guessed 技能者ID tells nothing."""
    if principal.role == "evaluator":
        if not access.scoped(principal):
            return
        lines = await container.service.judgements.find(
            {"worker_id": worker_id}, projection={"trade": 1}
        )
        trades = [str(d.get("trade")) for d in lines]
        if (trade is None or principal.handles(trade)) and access.evaluator_sees_worker(
            principal, trades
        ):
            return
    elif await container.service.may_read_worker(principal.employer_id, worker_id):
        return
    raise ApiError(404, "ccus_not_found", CCUS_NOT_FOUND)


@router.post("/preview/worker", summary="判定の試算（CCUSデータは最新のスナップショットから）")
async def preview_worker(
    container: ContainerDep, body: WorkerPreview, principal: EmployerOrEvaluator, http: Request
) -> EvaluationResult:
    await _require_worker(container, principal, body.worker_id, body.trade)
    ccus = await container.service.ccus(body.worker_id)
    if ccus is None:
        raise ApiError(404, "ccus_not_found", "この技能者IDのCCUSデータがありません。")
    request = EvaluationRequest(
        trade=body.trade,
        requested_level=body.requested_level,
        application_date=body.application_date,
        ccus=ccus.record,
        career_certification=body.career_certification,
    )
    result = _evaluate(request, container.master)
    # the answer is computed from the worker's CCUS data: logged under his id
    await logged(
        container.access_log, principal, http, "preview_worker", {"worker_id": body.worker_id}
    )
    return result


@router.get("/workers/{worker_id}/ccus", summary="技能者のCCUSデータ（最新）")
async def worker_ccus(
    container: ContainerDep, worker_id: str, principal: EmployerOrEvaluator, request: Request
) -> dict[str, Any]:
    await _require_worker(container, principal, worker_id)
    summary = await container.service.ccus_summary(worker_id)
    if summary is None:
        raise ApiError(404, "ccus_not_found", "この技能者IDのCCUSデータがありません。")
    return await logged(container.access_log, principal, request, "worker_ccus", summary)


# --- judgements and reviews ----------------------------------------------------------------

JUDGEMENT_NOT_FOUND = "該当する判定がありません。"
SUMMARY_FIELDS = {
    "request": 0,
    "line": 0,
    "_outbox": 0,
    "_applied": 0,
    "_outbox_pending": 0,
    "_outbox_due": 0,
}


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    result = judging.result_of(doc) or {}
    return {
        "line_id": doc["_id"],
        "judgement_id": doc["judgement_id"],
        "application_id": doc["application_id"],
        "employer_id": doc["employer_id"],
        "worker_id": doc["worker_id"],
        "worker_name": doc.get("worker_name"),
        "trade": doc["trade"],
        "requested_level": doc["requested_level"],
        "sequence": int(doc.get("sequence") or 1),
        "status": doc["status"],
        "status_ja": judging.STATUS_JA[doc["status"]],
        "decision": doc.get("decision"),
        "eligible_level": doc.get("eligible_level", result.get("eligible_level")),
        "warnings": result.get("warnings", []),
        "messages": doc.get("messages", []),
    }


async def _require_line(container: Container, principal: Principal, line_id: str) -> None:
    """404 unless ``principal`` may see the line (a bound evaluator: one of his 分野), as
    for a line that does not exist."""
    if principal.role == "evaluator" and not access.scoped(principal):
        return  # an unknown line is the review's own 404
    line = await container.service.judgements.get(line_id)
    if line is None or not access.sees_judgement(principal, line):
        raise ApiError(404, "not_found", JUDGEMENT_NOT_FOUND)


@router.get("/judgements", summary="判定の一覧")
async def judgements(
    container: ContainerDep,
    principal: EmployerOrEvaluator,
    request: Request,
    application_id: str | None = None,
    status: Literal["waiting_ccus", "in_review", "completed", "withdrawn"] | None = None,
) -> list[dict[str, Any]]:
    flt: dict[str, Any] = access.judgement_filter(principal)
    if application_id:
        flt["application_id"] = application_id
    if status:
        flt["status"] = status
    docs = await container.service.current_of(flt, projection=SUMMARY_FIELDS)
    answer = [_summary(d) for d in docs]
    return await logged(container.access_log, principal, request, "list_judgements", answer)


@router.get("/judgements/{line_id}", summary="判定の詳細（入力・基準・結果）")
async def judgement(
    container: ContainerDep, line_id: str, principal: EmployerOrEvaluator, request: Request
) -> dict[str, Any]:
    found = await container.service.current(line_id)
    if found is None or not access.sees_judgement(principal, found[0]):
        raise ApiError(404, "not_found", JUDGEMENT_NOT_FOUND)
    doc, history = found
    answer = {**_summary(doc), "detail": public(judging.readable(doc)), "history": history}
    return await logged(container.access_log, principal, request, "get_judgement", answer)


@router.get("/reviews", summary="審査待ちの判定（審査員）")
async def reviews(
    container: ContainerDep, evaluator: Evaluator, request: Request
) -> list[dict[str, Any]]:
    docs = await container.service.judgements.find(
        {"status": judging.IN_REVIEW, **access.judgement_filter(evaluator)},
        projection=SUMMARY_FIELDS,
    )
    answer = [_summary(d) for d in sorted(docs, key=lambda d: d["_id"])]
    return await logged(container.access_log, evaluator, request, "list_reviews", answer)


class ReviewBody(BaseModel):
    action: Literal["confirm", "override"]
    reason: str | None = Field(default=None, max_length=2000)
    eligible_level: int | None = Field(default=None, ge=1, le=4)


@router.post("/judgements/{line_id}/review", summary="審査（確認または変更）")
async def review(
    container: ContainerDep,
    line_id: str,
    body: ReviewBody,
    evaluator: Evaluator,
    request: Request,
) -> dict[str, Any]:
    await _require_line(container, evaluator, line_id)
    try:
        doc = await container.service.review(
            line_id,
            reviewer=evaluator.subject,
            action=body.action,
            reason=body.reason,
            eligible_level=body.eligible_level,
        )
    except NotFound:
        raise ApiError(404, "not_found", JUDGEMENT_NOT_FOUND) from None
    except ReviewRefused as exc:
        raise ApiError(
            409 if exc.code == "not_in_review" else 422, exc.code, exc.message_ja
        ) from None
    return await logged(container.access_log, evaluator, request, "review", _summary(doc))
