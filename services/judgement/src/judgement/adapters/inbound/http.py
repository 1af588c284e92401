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

from judgement.adapters.inbound.deps import Wired
from judgement.core import judging
from judgement.core.lines import JudgementSummary
from judgement.core.master import Trade
from judgement.core.models import CareerCertification, EvaluationRequest, EvaluationResult
from shared_kernel.infra.access_log import logged
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

router = APIRouter()
ContainerDep = Wired


STATUS: dict[str, int] = {
    # judgements, previews, CCUS data
    "unknown_trade": 404,
    "trade_not_available": 422,
    "not_found": 404,
    "ccus_not_found": 404,
    "not_in_review": 409,
    "reason_required": 422,
    "level_required": 422,
    "invalid_career_certification": 422,
    # criteria administration (docs/criteria-admin.md)
    "validation_error": 422,
    "draft_not_found": 404,
    "version_not_found": 404,
    "forbidden": 403,
    "other_trade": 403,
    "own_draft": 403,
    "published_immutable": 409,
    "not_editable": 409,
    "stale_draft": 409,
    "not_submitted": 409,
    "draft_changed": 409,
    "version_exists": 409,
    "corrected_version_superseded": 409,
    "effective_from_required": 422,
    "effective_from_past": 422,
    "unknown_version": 422,
    "version_of_other_trade": 422,
    "correction_date_fixed": 422,
    "has_problems": 422,
    "no_changes": 422,
    "rejudge_needs_correction": 422,
    "table_trade_mismatch": 422,
    "table_date_mismatch": 422,
    "invalid_upload": 422,
    "publication_busy": 503,
    # uploads of criteria files (judgement.criteria.yaml_files)
    "unsupported_media_type": 415,
    "payload_too_large": 413,
    "yaml_too_large": 422,
    "yaml_alias": 422,
    "yaml_anchor": 422,
    "yaml_tag": 422,
    "yaml_too_deep": 422,
    "yaml_documents": 422,
    "invalid_yaml": 422,
    "not_utf8": 422,
    "invalid_character": 422,
    "empty_upload": 422,
    "not_a_table_file": 422,
    "unsupported_section": 422,
    "one_table": 422,
    "unreadable_table": 422,
    "table_identity_missing": 422,
    # impact preview of a draft (judgement.impact)
    "draft_not_usable": 422,
    "impact_unavailable": 503,
    "impact_not_found": 404,
    "impact_not_done": 409,
}
"""Each refusal's HTTP status: the service's one table (``judgement.inject`` installs it
with ``install_error_translator``)."""
FIELD_LABELS = {
    "worker_id": "技能者ID",
    "trade": "分野",
    "requested_level": "申請レベル",
    "application_date": "申請日",
    "career_certification": "経歴証明",
    "ccus": "CCUSデータ",
    "action": "審査の操作",
    "reason": "理由",
    "eligible_level": "変更後のレベル",
    "effective_from": "適用開始日",
    "table": "判定基準の表",
    "version": "下書きの版",
}
"""Japanese names of the request fields, for the answers to unreadable requests."""
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
    return {
        "master_version": master.version,
        "career": {
            "cap_from": settings.career_end_cap_applies_from.isoformat(),
            "cap_end": settings.career_end_cap.isoformat(),
            "none_from": settings.career_certification_ignored_from.isoformat(),
        },
        "management_levels": master.management_levels(),
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
    found = container.master.trade(name)
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


@router.post("/preview", summary="判定の試算（§5 の判定リクエスト）")
async def preview(container: ContainerDep, request: EvaluationRequest) -> EvaluationResult:
    return container.service.preview(request)


class WorkerPreview(BaseModel):
    worker_id: str = Field(pattern=r"^\d{14}$")
    trade: str
    requested_level: int = Field(ge=2, le=4)
    application_date: date
    career_certification: CareerCertification | None = None


@router.post("/preview/worker", summary="判定の試算（CCUSデータは最新のスナップショットから）")
async def preview_worker(
    container: ContainerDep, body: WorkerPreview, principal: EmployerOrEvaluator, http: Request
) -> EvaluationResult:
    result = await container.service.preview_worker(
        principal,
        body.worker_id,
        body.trade,
        body.requested_level,
        body.application_date,
        body.career_certification,
    )
    # the answer is computed from the worker's CCUS data: logged under his id
    await logged(
        container.access_log, principal, http, "preview_worker", {"worker_id": body.worker_id}
    )
    return result


@router.get("/workers/{worker_id}/ccus", summary="技能者のCCUSデータ（最新）")
async def worker_ccus(
    container: ContainerDep, worker_id: str, principal: EmployerOrEvaluator, request: Request
) -> dict[str, Any]:
    summary = await container.service.worker_summary(principal, worker_id)
    return await logged(container.access_log, principal, request, "worker_ccus", summary)


# --- judgements and reviews ----------------------------------------------------------------


def _summary(doc: JudgementSummary) -> dict[str, Any]:
    result = doc.result() or {}
    eligible_level = doc.eligible_level
    return {
        "line_id": doc.id,
        "judgement_id": doc.judgement_id,
        "application_id": doc.application_id,
        "employer_id": doc.employer_id,
        "worker_id": doc.worker_id,
        "worker_name": doc.worker_name,
        "trade": doc.trade,
        "requested_level": doc.requested_level,
        "sequence": doc.place,
        "status": doc.status,
        "status_ja": judging.STATUS_JA[doc.status],
        "decision": doc.decision,
        "eligible_level": result.get("eligible_level")
        if eligible_level is None
        else eligible_level,
        "warnings": result.get("warnings", []),
        "messages": doc.messages if doc.messages is not None else [],
    }


@router.get("/judgements", summary="判定の一覧")
async def judgements(
    container: ContainerDep,
    principal: EmployerOrEvaluator,
    request: Request,
    application_id: str | None = None,
    status: Literal["waiting_ccus", "in_review", "completed", "withdrawn"] | None = None,
) -> list[dict[str, Any]]:
    docs = await container.service.lines_for(principal, application_id, status)
    answer = [_summary(d) for d in docs]
    return await logged(container.access_log, principal, request, "list_judgements", answer)


@router.get("/judgements/{line_id}", summary="判定の詳細（入力・基準・結果）")
async def judgement(
    container: ContainerDep, line_id: str, principal: EmployerOrEvaluator, request: Request
) -> dict[str, Any]:
    doc, history = await container.service.line_for(principal, line_id)
    answer = {
        **_summary(doc),
        "detail": judging.readable(doc),
        "history": [entry.model_dump() for entry in history],
    }
    return await logged(container.access_log, principal, request, "get_judgement", answer)


@router.get("/reviews", summary="審査待ちの判定（審査員）")
async def reviews(
    container: ContainerDep, evaluator: Evaluator, request: Request
) -> list[dict[str, Any]]:
    docs = await container.service.reviews_for(evaluator)
    answer = [_summary(d) for d in docs]
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
    doc = await container.service.review_by(
        evaluator,
        line_id,
        action=body.action,
        reason=body.reason,
        eligible_level=body.eligible_level,
    )
    return await logged(container.access_log, evaluator, request, "review", _summary(doc))
