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

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from judgement.adapters.inbound.deps import Wired, Wiring
from judgement.core.errors import CcusNotFound, InvalidCareerCertification
from judgement.core.models import CareerCertification, YearsMonths
from shared_kernel.infra.access_log import logged
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal
from shared_kernel.time import japan_today

router = APIRouter(tags=["レベル診断"])
ContainerDep = Wired
EmployerOrEvaluator = Annotated[Principal, Depends(require("employer", "evaluator"))]
Employer = Annotated[Principal, Depends(require("employer"))]


def _certification(
    start: date | None, end: date | None, foreman_months: int, leader_months: int
) -> CareerCertification | None:
    if start is None and end is None:
        return None
    if start is None or end is None or end < start:
        raise InvalidCareerCertification()
    return CareerCertification(
        start=start,
        end=end,
        foreman=YearsMonths(years=foreman_months // 12, months=foreman_months % 12),
        leader=YearsMonths(years=leader_months // 12, months=leader_months % 12),
    )


def _today(container: Wiring) -> date:
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
    await container.service.require_worker(principal, worker_id, trade)
    certification = _certification(career_start, career_end, foreman_months, leader_months)
    answer = await container.service.outlook_of(
        principal, worker_id, trade, on or _today(container), certification
    )
    if answer is None:
        raise CcusNotFound()
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
    worker_ids = await container.service.consented_workers(principal.employer_id)
    day = on or _today(container)
    rows: list[dict[str, Any]] = []
    # every worker at once: a few reads and one pass (not a round trip per worker)
    for worker in await container.service.outlooks_of(principal, worker_ids, trade, day):
        if not worker["outlooks"]:
            rows.append(
                {
                    "worker_id": worker["worker_id"],
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
