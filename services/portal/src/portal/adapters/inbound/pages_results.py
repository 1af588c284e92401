"""レベル判定結果確認 (employer): the judged lines, 「詳細」 below the list, 結果通知書 PDF.

The list is one call: the application service's ``GET /results`` (the employer's submitted
lines with their current result and the 結果通知書 issued, read from one small summary
document per application; 404 for another employer's application, issue 24). Only while a
judged line's notice is not known there (being made, or issued before the application
service kept them) are the 結果通知書 taken from the document service (``GET /notices``), as before.
「詳細」 (``?detail=<line id>``) shows below the list the basis of the judgement: the
judgement (judgement service ``GET /judgements/{line}``) and the CCUS data (``GET
/workers/{id}/ccus``), asked at the same time, the days counted, the reconciliation of the
declared career with CCUS (CCUS wins), the qualifications and every criterion met or not.

A line judged again (再判定) shows its current result everywhere, a 「再判定により更新」 mark
in the list and, in 「詳細」, its 更新履歴 (``core.results.history_rows``). The
結果通知書 button always gives the line's current notice (``core.results.current_notice``);
the superseded ones stay downloadable from the 更新履歴, marked 「（更新前）」.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.pages_consent import pdf_response
from portal.adapters.inbound.web import login_as, render, session_of, user_api
from portal.adapters.outbound.services import NotFound, ServiceError, UserApi, error_of
from portal.core.results import (
    current_notice,
    history_rows,
    notice_missing,
    notices_by_line,
    sequence_of,
)

router = APIRouter()

CRITERION_KIND_JA = {
    "days": "就業日数",
    "foreman_days": "職長としての就業日数",
    "foreman_or_leader_days": "職長・班長としての就業日数",
    "qualification": "保有資格",
    "lower_level_qualifications": "下位レベルの保有資格",
    "registration_type": "技能者登録の区分",
}
RECONCILIATION_FIELD_JA = {
    "career_certification": "経歴証明",
    "career_certification.start": "経歴証明の起算点（就業開始日）",
    "career_certification.end": "経歴証明の終着点",
    "career_certification.period": "経歴証明の期間",
    "career_certification.foreman": "職長としての経験年数",
    "career_certification.leader": "班長としての経験年数",
    "ccus.work_history": "CCUSの就業履歴",
}
REGISTRATION_TYPE_JA = {"detailed": "詳細型", "simple": "簡略型"}


def group_by_application(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        grouped[str(line.get("application_id"))].append(line)
    return [
        {"application_id": app_id, "lines": sorted(items, key=lambda x: str(x.get("line_id")))}
        for app_id, items in sorted(grouped.items(), reverse=True)
    ]


def criteria_by_level(result: dict[str, Any]) -> list[dict[str, Any]]:
    levels: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for criterion in result.get("criteria", []):
        levels[int(criterion.get("level", 0))].append(
            {**criterion, "kind_ja": CRITERION_KIND_JA.get(criterion.get("kind", ""), "基準")}
        )
    return [{"level": level, "criteria": levels[level]} for level in sorted(levels)]


async def line_detail(
    api: UserApi,
    line_id: str,
    notices: Sequence[Mapping[str, Any]] = (),
    worker_id: str | None = None,
) -> dict[str, Any]:
    """「詳細」 of one line (also the evaluator's review); ``notices`` are the line's. With the
    line's ``worker_id`` known, the judgement and the CCUS data are asked at the same time."""

    async def ccus_of(worker: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await api.get("judgement", f"/workers/{quote(worker)}/ccus")
        except NotFound:
            return None
        return found

    path = f"/judgements/{quote(line_id, safe='')}"
    ccus: dict[str, Any] | None
    if worker_id:
        judgement, ccus = await asyncio.gather(api.get("judgement", path), ccus_of(worker_id))
    else:
        judgement = await api.get("judgement", path)
        ccus = await ccus_of(str(judgement["worker_id"]))
    detail = judgement.get("detail") or {}
    result = detail.get("result") or {}
    request = detail.get("request") or {}
    return {
        "judgement": judgement,
        "detail": detail,
        "result": result,
        "request": request,
        "line": detail.get("line") or {},
        "career": request.get("career_certification"),
        "levels": criteria_by_level(result),
        "reconciliation": [
            {**r, "field_ja": RECONCILIATION_FIELD_JA.get(r.get("field", ""), r.get("field"))}
            for r in result.get("reconciliation", [])
        ],
        "ccus": ccus,
        "registration_type_ja": REGISTRATION_TYPE_JA.get(
            str((ccus or {}).get("registration_type")), ""
        ),
        "review": detail.get("review"),
        "sequence": sequence_of(judgement),
        "notice": current_notice(notices, judgement),
        "history": history_rows(judgement.get("history") or [], notices),
    }


async def results_page(
    request: Request, portal: Portal, application_id: str | None, detail: str | None
) -> Response:
    session = session_of(request)
    api = user_api(request, portal)
    # another employer's (or an unknown) application: 404, as in the services
    found = await api.get("application", "/results", application_id=application_id)
    lines = [{**line, "rejudged": sequence_of(line) > 1} for line in found]
    notices: list[dict[str, Any]] = [n for line in lines for n in line.get("notices") or []]
    notices_unknown = False
    if any(notice_missing(line) for line in lines):
        try:
            notices = await api.get("document", "/notices", application_id=application_id)
        except ServiceError:
            notices, notices_unknown = [], True
    by_line = notices_by_line(notices if isinstance(notices, list) else [])
    current = {
        str(line.get("line_id")): current_notice(by_line.get(str(line.get("line_id")), []), line)
        for line in lines
    }
    selected = None
    if detail:
        chosen = next((line for line in lines if line.get("line_id") == detail), None)
        if chosen is None:
            raise NotFound("該当する判定がありません。")
        worker = chosen.get("worker_id")
        selected = await line_detail(
            api, detail, by_line.get(detail, []), str(worker) if worker else None
        )
    return render(
        request,
        "results.html",
        {
            "employer_id": session.employer_id,
            "applications": group_by_application(lines),
            "notices": current,
            "notices_unknown": notices_unknown,
            "selected": selected,
            "application_id": application_id,
            "base": f"/results/{quote(application_id)}" if application_id else "/results",
        },
    )


@router.get(
    "/results",
    summary="レベル判定結果確認",
    response_model=None,
    dependencies=[login_as("employer")],
)
async def results(request: Request, portal: PortalDep, detail: str | None = None) -> Response:
    return await results_page(request, portal, None, detail)


@router.get(
    "/results/{application_id}",
    summary="結果確認（申請ごと）",
    response_model=None,
    dependencies=[login_as("employer")],
)
async def results_of(
    request: Request, portal: PortalDep, application_id: str, detail: str | None = None
) -> Response:
    return await results_page(request, portal, application_id, detail)


@router.get(
    "/results/{application_id}/notices/{notice_id}",
    summary="結果通知書（PDF）",
    dependencies=[login_as("employer", "evaluator")],
)
async def notice_pdf(
    request: Request, portal: PortalDep, application_id: str, notice_id: str
) -> Response:
    api = user_api(request, portal)
    reply = await api.call(
        "document",
        "GET",
        f"/notices/{quote(notice_id, safe='')}/pdf",
        headers=[("Accept", "application/pdf")],
    )
    if not reply.ok:
        raise error_of("document", reply)
    return pdf_response(reply.body, f"結果通知書_{notice_id}.pdf", f"{notice_id}.pdf")
