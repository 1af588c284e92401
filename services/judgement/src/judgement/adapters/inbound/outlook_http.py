"""レベル診断 (outlook) routes of the judgement service (issue 25).

* ``GET /workers/{worker_id}/outlook``: one worker, for each 分野 his CCUS 職種 point to
  (or ``?trade=``): the level reachable today and, for the next two levels, every criterion
  with its shortfall and the month the day criteria will be met at his pace
  (``judgement.core.outlook``). Same access rule and same 404 as ``/workers/{id}/ccus``;
  logged in the access log (``worker_outlook``).
* ``GET /outlook``: an employer's consented workers, one row per (worker, 分野), the same
  outlook in list form (``list_outlook``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from judgement.adapters.inbound.http import CCUS_NOT_FOUND, _require_worker
from judgement.core import access, outlook
from judgement.core.criteria_admin import japan_today
from judgement.core.models import CareerCertification, YearsMonths
from judgement.inject import Container
from shared_kernel.infra.access_log import logged
from shared_kernel.infra.auth import require
from shared_kernel.infra.http import ApiError
from shared_kernel.infra.service import container_of
from shared_kernel.principal import Principal

router = APIRouter(tags=["レベル診断"])
ContainerDep = Annotated[Container, Depends(container_of)]
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]
Employer = Annotated[Principal, Depends(require("employer"))]
NO_TRADE = "CCUSの職種から分野を特定できませんでした。分野を指定してください（?trade=）。"


def _certification(
    start: date | None, end: date | None, foreman_months: int, leader_months: int
) -> CareerCertification | None:
    if start is None and end is None:
        return None
    if start is None or end is None or end < start:
        raise ApiError(
            422,
            "invalid_career_certification",
            "経歴証明の開始日と終了日を正しく指定してください。",
        )
    return CareerCertification(
        start=start,
        end=end,
        foreman=YearsMonths(years=foreman_months // 12, months=foreman_months % 12),
        leader=YearsMonths(years=leader_months // 12, months=leader_months % 12),
    )


def _taken_at(summary: dict[str, Any]) -> datetime | None:
    text = summary.get("taken_at")
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


async def _worker_outlook(
    container: Container,
    principal: Principal,
    worker_id: str,
    trade: str | None,
    on: date,
    certification: CareerCertification | None,
) -> dict[str, Any] | None:
    service = container.service
    summary = await service.ccus_summary(worker_id)
    ccus = await service.ccus(worker_id)
    if summary is None or ccus is None:
        return None
    master = container.master
    record = ccus.record
    source = "requested"
    trades = [trade] if trade else []
    if not trades:
        codes = [str(o.get("code") or "") for o in summary.get("occupations") or []]
        trades, source = outlook.trades_of(record, master, on, codes), "occupation"
    if not trades:  # no 職種 code maps to a 分野: those of the worker's judgement lines
        lines = await service.judgements.find(
            {"worker_id": worker_id, **access.judgement_filter(principal)},
            projection={"trade": 1},
        )
        trades = list(dict.fromkeys(str(d["trade"]) for d in lines if d.get("trade")))
        source = "judgements" if trades else "none"
    if principal.role == "evaluator":
        trades = [t for t in trades if principal.handles(t)]
    warnings: list[dict[str, Any]] = []
    taken = _taken_at(summary)
    stale = taken is not None and (on - japan_today(taken)).days > outlook.STALE_AFTER_DAYS
    if stale and taken is not None:
        warnings.append(
            {
                "kind": "stale_snapshot",
                "message_ja": (
                    f"CCUSデータは{japan_today(taken).isoformat()}時点のものです"
                    f"（{outlook.STALE_AFTER_DAYS}日より前）。最新の就業履歴を反映していません"
                ),
            }
        )
    return {
        "worker_id": worker_id,
        "name": summary.get("name"),
        "name_kana": summary.get("name_kana"),
        "registration_type": summary.get("registration_type"),
        "as_of": on.isoformat(),
        "snapshot": {
            "taken_at": summary.get("taken_at"),
            "taken_on": japan_today(taken).isoformat() if taken else None,
            "stale": stale,
        },
        "trades_from": source,
        "message_ja": None if trades else NO_TRADE,
        "warnings": warnings,
        "outlooks": [outlook.outlook(record, master, t, on, certification) for t in trades],
    }


def _today(container: Container) -> date:
    return japan_today(container.service.clock())


@router.get(
    "/workers/{worker_id}/outlook", summary="レベル診断（到達レベルと次のレベルまでの不足）"
)
async def worker_outlook(
    container: ContainerDep,
    worker_id: str,
    principal: EmployerOrEvaluator,
    request: Request,
    trade: Annotated[str | None, Query(max_length=50)] = None,
    on: Annotated[date | None, Query(description="基準日（既定：今日）")] = None,
    career_start: date | None = None,
    career_end: date | None = None,
    foreman_months: Annotated[int, Query(ge=0, le=1200)] = 0,
    leader_months: Annotated[int, Query(ge=0, le=1200)] = 0,
) -> dict[str, Any]:
    await _require_worker(container, principal, worker_id, trade)
    certification = _certification(career_start, career_end, foreman_months, leader_months)
    answer = await _worker_outlook(
        container, principal, worker_id, trade, on or _today(container), certification
    )
    if answer is None:
        raise ApiError(404, "ccus_not_found", CCUS_NOT_FOUND)
    return await logged(container.access_log, principal, request, "worker_outlook", answer)


def _row(worker: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    first = found["next_levels"][0] if found.get("next_levels") else None
    kinds = [w["kind"] for w in worker["warnings"]] + [w["kind"] for w in found["warnings"]]
    return {
        "worker_id": worker["worker_id"],
        "name": worker["name"],
        "trade": found["trade"],
        "judgeable": found["judgeable"],
        "message_ja": found.get("message_ja"),
        "level_today": found["level_today"],
        "next_level": first["level"] if first else None,
        "main_shortfall_ja": found["main_shortfall_ja"],
        "expected_month": found["expected_month"],
        "can_apply_now": found["can_apply_now"],
        "warnings": list(dict.fromkeys(kinds)),
        "snapshot_taken_on": worker["snapshot"]["taken_on"],
    }


@router.get("/outlook", summary="レベル診断の一覧（同意を得た技能者）")
async def list_outlook(
    container: ContainerDep,
    principal: Employer,
    request: Request,
    trade: Annotated[str | None, Query(max_length=50)] = None,
    on: Annotated[date | None, Query(description="基準日（既定：今日）")] = None,
) -> list[dict[str, Any]]:
    consents = container.service.consents
    grants = (
        []
        if consents is None or not principal.employer_id
        else await consents.find({"employer_id": principal.employer_id})
    )
    worker_ids = sorted({str(g["worker_id"]) for g in grants if not g.get("withdrawn")})
    day = on or _today(container)
    rows: list[dict[str, Any]] = []
    for worker_id in worker_ids:
        worker = await _worker_outlook(container, principal, worker_id, trade, day, None)
        if worker is None:
            continue
        if not worker["outlooks"]:
            rows.append(
                {
                    "worker_id": worker_id,
                    "name": worker["name"],
                    "trade": None,
                    "judgeable": False,
                    "message_ja": worker["message_ja"],
                    "level_today": None,
                    "next_level": None,
                    "main_shortfall_ja": None,
                    "expected_month": None,
                    "can_apply_now": False,
                    "warnings": [w["kind"] for w in worker["warnings"]],
                    "snapshot_taken_on": worker["snapshot"]["taken_on"],
                }
            )
        rows.extend(_row(worker, found) for found in worker["outlooks"])
    return await logged(container.access_log, principal, request, "list_outlook", rows)
