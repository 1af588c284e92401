"""HTTP routes of the impact preview (影響確認, docs/criteria-admin.md):

* ``POST /criteria/drafts/{draft_id}/impact`` → 202 and the job (a job still running for
  the draft is returned as it is);
* ``GET /criteria/drafts/{draft_id}/impact`` → ``status``, ``done``, ``total``, ``counts``
  (workers: ``up`` / ``down`` / ``unchanged``), ``lines`` (the same for completed lines),
  ``sample`` (up to 50 changed outcomes with the criterion that changed each) …;
* ``GET /criteria/drafts/{draft_id}/impact.csv`` → every changed outcome as CSV (UTF-8 with
  a BOM, Japanese header) once the job is done.

Who: a ``criteria_editor`` of the draft's 分野 (``principal.handles(trade)``; another 分野:
403 ``other_trade``) or a ``criteria_approver``; anyone else 403, no token 401. An unknown
draft (or no preview yet, for the reads) is 404. The answers name workers by 技能者ID and
lines by id only (no names): they are not logged as personal-data reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from judgement.core import impact
from judgement.core.errors import Refused
from judgement.impact import jobs_for
from judgement.impact.job import (
    DONE,
    DraftMastersUnavailable,
    DraftNotUsable,
    ImpactJobs,
    UnknownDraft,
    view,
)
from shared_kernel.infra.auth import require
from shared_kernel.infra.service import container_of
from shared_kernel.principal import Principal

router = APIRouter(tags=["基準管理（影響確認）"])
Staff = Annotated[Principal, Depends(require("criteria_editor", "criteria_approver"))]
PRIVATE = {"Cache-Control": "private, no-store"}
NOT_STARTED = "この下書きの影響確認はまだ実行されていません。"
NOT_DONE = "影響確認が完了していません。完了後にダウンロードしてください。"
UNAVAILABLE = "影響確認は現在利用できません（改定案の基準を組み立てられません）。"


def _jobs(request: Request) -> ImpactJobs:
    return jobs_for(container_of(request).runtime)


Jobs = Annotated[ImpactJobs, Depends(_jobs)]


def _may_handle(principal: Principal, trade: str) -> None:
    if principal.role == "criteria_editor" and not principal.handles(trade):
        raise Refused(
            "forbidden",
            "other_trade",
            f"分野「{trade}」の基準を扱う権限がありません（担当分野のみ）。",
        )


def _answer(doc: dict[str, Any], status: int = 200) -> JSONResponse:
    from fastapi.encoders import jsonable_encoder

    return JSONResponse(jsonable_encoder(view(doc)), status_code=status, headers=PRIVATE)


@router.post(
    "/criteria/drafts/{draft_id}/impact", status_code=202, summary="影響確認の開始（非同期）"
)
async def start(draft_id: str, principal: Staff, jobs: Jobs) -> JSONResponse:
    try:
        trade, in_force, drafted = await jobs.masters(draft_id)
    except UnknownDraft:
        raise Refused("not_found", "draft_not_found", "該当する下書きがありません。") from None
    except DraftNotUsable as exc:
        raise Refused("invalid", "draft_not_usable", exc.message_ja) from None
    except DraftMastersUnavailable:
        raise Refused("busy", "impact_unavailable", UNAVAILABLE) from None
    _may_handle(principal, trade)
    doc = await jobs.start(
        draft_id, trade, in_force, drafted, requested_by=principal.subject, role=principal.role
    )
    return _answer(doc, 202)


async def _job(draft_id: str, principal: Principal, jobs: ImpactJobs) -> dict[str, Any]:
    doc = await jobs.get(draft_id)
    if doc is None:
        raise Refused("not_found", "impact_not_found", NOT_STARTED)
    _may_handle(principal, str(doc["trade"]))
    return doc


@router.get("/criteria/drafts/{draft_id}/impact", summary="影響確認の状況と結果")
async def status(draft_id: str, principal: Staff, jobs: Jobs) -> JSONResponse:
    return _answer(await _job(draft_id, principal, jobs))


@router.get(
    "/criteria/drafts/{draft_id}/impact.csv",
    summary="影響確認の結果（CSV、UTF-8 BOM付き）",
    response_class=StreamingResponse,
)
async def csv_file(draft_id: str, principal: Staff, jobs: Jobs) -> StreamingResponse:
    doc = await _job(draft_id, principal, jobs)
    if doc.get("status") != DONE:
        raise Refused("conflict", "impact_not_done", NOT_DONE)

    async def body() -> AsyncIterator[bytes]:
        parts = [part async for part in jobs.csv_parts(doc)]
        for chunk in impact.csv_document(parts):
            yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="impact-{draft_id}.csv"',
            **PRIVATE,
        },
    )
