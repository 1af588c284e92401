"""レベル診断 (employer, issue 25): where each consented worker stands and what he lacks.

The table is the judgement service's ``GET /outlook`` (one row per worker and 分野: today's
level, the next level, the main shortfall, the month the day criteria will be met at the
worker's pace), sorted (``?sort=`` / ``?order=``) and filtered (``?trade=``, ``?ready=1``:
「今すぐ申請できる」) here; ``/outlook.csv`` is the same table as CSV (UTF-8 with BOM, for
Excel). 「詳細」 (``?worker=<id>&detail_trade=<分野>``) shows below the table every criterion of
the next levels from ``GET /workers/{id}/outlook``. 「代行申請に追加」 opens the existing
line-add screen of the newest 下書き with the worker preselected
(``/applications/{id}/lines/new?worker_id=…``); without a 下書き it links to the list of
代行申請, where one is made. No rule is evaluated here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response

from portal.adapters.inbound.deps import PortalDep
from portal.adapters.inbound.web import login_as, render, user_api
from portal.adapters.outbound.services import NotFound, ServiceError, UserApi
from shared_kernel.labels import level_ja

router = APIRouter(dependencies=[login_as("employer")])

SORTS: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "name": lambda r: (str(r.get("name") or ""),),
    "trade": lambda r: (str(r.get("trade") or "~"),),
    "level": lambda r: (r.get("level_today") or 0,),
    "next": lambda r: (r.get("next_level") or 9,),
    "month": lambda r: (str(r.get("expected_month") or "9999-99"),),
}
SORT_JA = {
    "name": "氏名",
    "trade": "分野",
    "level": "現在のレベル",
    "next": "次のレベル",
    "month": "見込み時期",
}
WARNING_JA = {
    "misregistered_code": "資格コード誤登録の可能性",
    "code_name_mismatch": "資格コードと資格名の不一致",
    "expired_kikan": "基幹技能者の有効期限切れ",
    "occupation_unchecked": "職種コードなしの就業履歴",
    "undated_qualification": "取得日のない資格",
    "simple_registration": "簡略型（詳細型での登録が必要）",
    "career_certification_until": "経歴証明は2029年3月末まで",
    "stale_snapshot": "CCUSデータが30日より前",
}
CRITERION_KIND_JA = {
    "days": "就業日数",
    "foreman_days": "職長としての就業日数",
    "foreman_or_leader_days": "職長・班長としての就業日数",
    "qualification": "保有資格",
    "lower_level_qualifications": "下位レベルの保有資格",
    "registration_type": "技能者登録の区分",
}
CSV_HEADER = [
    "技能者ID",
    "氏名",
    "分野",
    "現在のレベル",
    "次のレベル",
    "主な不足",
    "見込み時期",
    "今すぐ申請できる",
    "注意",
]


def level_text(level: Any) -> str:
    """The CSV's level cell: ``レベル3`` (no card colour), ``—`` for none."""
    return level_ja(level, colour=False) if level else "—"


@dataclass(frozen=True)
class TableQuery:
    """The table's order and filters, as the page's and the CSV's query string give them."""

    sort: str = "name"
    order: str = "asc"
    trade: str = ""
    ready: str = ""


TableQueryDep = Annotated[TableQuery, Depends()]


def table_rows(rows: list[dict[str, Any]], query: TableQuery) -> list[dict[str, Any]]:
    """The service's rows filtered by 分野 and 「今すぐ申請できる」, then sorted."""
    chosen = [
        {**r, "warnings_ja": [WARNING_JA.get(w, w) for w in r.get("warnings") or []]}
        for r in rows
        if (not query.trade or r.get("trade") == query.trade)
        and (not query.ready or r.get("can_apply_now"))
    ]
    key = SORTS.get(query.sort, SORTS["name"])
    chosen.sort(key=lambda r: (*key(r), str(r.get("worker_id"))), reverse=query.order == "desc")
    return chosen


async def _rows(api: UserApi, trade: str = "") -> list[dict[str, Any]]:
    """The employer's rows; with a 分野 chosen, every worker's outlook for that 分野 (also
    those whose CCUS 職種 point to none: the judgement service computes it when asked)."""
    params = {"trade": trade} if trade else {}
    found = await api.get("judgement", "/outlook", **params)
    return found if isinstance(found, list) else []


async def _draft(api: UserApi) -> str | None:
    """The newest 下書き (where 「代行申請に追加」 adds a line), if any."""
    try:
        found = await api.get("application", "/applications")
    except (NotFound, ServiceError):
        return None
    drafts = sorted(
        (str(a.get("application_id")) for a in found if a.get("status") == "draft"),
        reverse=True,
    )
    return drafts[0] if drafts else None


def _detail_view(found: dict[str, Any]) -> dict[str, Any]:
    for block in found.get("next_levels") or []:
        for c in block.get("criteria") or []:
            c["kind_ja"] = CRITERION_KIND_JA.get(c.get("kind", ""), "基準")
    return found


@router.get("/outlook", summary="レベル診断", response_model=None)
async def outlook_page(
    request: Request,
    portal: PortalDep,
    table: TableQueryDep,
    worker: str = "",
    detail_trade: str = "",
) -> Response:
    api = user_api(request, portal)
    all_rows = await _rows(api, table.trade or "")
    rows = table_rows(all_rows, table)
    draft = await _draft(api)
    selected = None
    if worker:
        params = {"trade": detail_trade} if detail_trade else {}
        selected = await api.get(
            "judgement", f"/workers/{quote(worker, safe='')}/outlook", **params
        )
        selected["outlooks"] = [_detail_view(o) for o in selected.get("outlooks") or []]
    trades = sorted({str(r["trade"]) for r in all_rows if r.get("trade")})
    try:
        judgeable = [str(t["name"]) for t in await api.get("judgement", "/trades", judgeable=True)]
    except (NotFound, ServiceError):
        judgeable = trades
    trades = sorted({*trades, *judgeable})  # any judgeable 分野 can be asked for
    query = {"trade": table.trade, "ready": table.ready}
    return render(
        request,
        "outlook.html",
        {
            "rows": rows,
            "sort": table.sort if table.sort in SORTS else "name",
            "order": "desc" if table.order == "desc" else "asc",
            "sorts": SORT_JA,
            "trade": table.trade,
            "ready": bool(table.ready),
            "trades": trades,
            "judgeable_trades": judgeable,
            "draft": draft,
            "selected": selected,
            "warning_ja": WARNING_JA,
            "filter_query": urlencode({k: v for k, v in query.items() if v}),
            "csv_query": urlencode(
                {k: v for k, v in {**query, "sort": table.sort, "order": table.order}.items() if v}
            ),
        },
    )


@router.get("/outlook.csv", summary="レベル診断（CSV）", response_model=None)
async def outlook_csv(request: Request, portal: PortalDep, table: TableQueryDep) -> Response:
    rows = table_rows(await _rows(user_api(request, portal), table.trade or ""), table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.get("worker_id"),
                r.get("name") or "",
                r.get("trade") or "",
                level_text(r.get("level_today")),
                level_text(r.get("next_level")),
                r.get("main_shortfall_ja") or r.get("message_ja") or "",
                r.get("expected_month") or "",
                "可" if r.get("can_apply_now") else "",
                "・".join(r["warnings_ja"]),
            ]
        )
    body = "\ufeff" + out.getvalue()
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="outlook.csv"; '
            f"filename*=UTF-8''{quote('レベル診断.csv')}"
        },
    )
