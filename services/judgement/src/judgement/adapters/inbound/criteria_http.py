"""HTTP routes of criteria administration (基準管理), under ``/criteria`` (docs/criteria-admin.md).

* read, public: ``/criteria/trades``, ``/criteria/trades/{trade}``,
  ``/criteria/versions/{version_id}`` (JSON, or ``….yaml``: the packaged master's shape),
  ``/criteria/qualifications?q=``;
* drafts (``criteria_editor`` of the 分野; ``criteria_approver`` reads): create, upload a
  YAML file, list, read with problems, save (version-checked), diff, submit, withdraw;
* decisions (``criteria_approver``, never the draft's author): approve (publish), return;
  the audit trail.

Refusals answer ``{"code", "message"}`` (plus ``problems``, each ``{path, message_ja, kind}``,
where the input is at fault) — never a traceback; input that cannot be read answers 422 with
Japanese messages per field (not the shared handler's English ones).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from judgement.adapters.inbound.deps import Wired
from judgement.core import criteria_admin as admin
from judgement.core.criteria_admin import (
    STATUS_JA,
    CriteriaDraft,
    CriteriaVersion,
    QualificationDraft,
    ShortText,
    TableDraft,
)
from judgement.core.criteria_check import Problem, structure_problems
from judgement.core.errors import Refused
from judgement.core.master import Master, Trade
from judgement.core.tree import AllOf, AnyOf, AtLeast, Leaf, Node
from judgement.criteria import yaml_files
from shared_kernel.errors import DomainError
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal
from shared_kernel.time import japan_today


class JapaneseValidation(APIRoute):
    """Unreadable input answers 422 with a Japanese message per field (``problems``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                problems = structure_problems(
                    [
                        {**e, "loc": [p for p in e.get("loc", ()) if p != "body"]}
                        for e in exc.errors()
                    ]
                )
                raise DomainError(
                    "validation_error",
                    "入力内容を読み取れません。項目ごとのメッセージを確認してください",
                    details={"problems": problems_view(problems)},
                ) from None

        return route


router = APIRouter(prefix="/criteria", tags=["基準管理"], route_class=JapaneseValidation)
ContainerDep = Wired
Editor = Annotated[Principal, Depends(require("criteria_editor"))]
Approver = Annotated[Principal, Depends(require("criteria_approver"))]
Staff = Annotated[Principal, Depends(require("criteria_editor", "criteria_approver"))]
_any_user = require()


async def _optional_principal(request: Request) -> Principal | None:
    if not request.headers.get("authorization"):
        return None
    return await _any_user(request, None)


MaybeUser = Annotated[Principal | None, Depends(_optional_principal)]
TRADE_STATUS_JA = {
    "judgeable": "判定できます",
    "partial": "一部の基準だけが分かっています（判定できません）",
    "none": "判定基準が登録されていません",
}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


def _today() -> date:
    return japan_today(datetime.now(UTC))


# --- views ---------------------------------------------------------------------------------


def problems_view(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    return [p.model_dump() for p in problems]


def draft_view(draft: CriteriaDraft, problems: Sequence[Problem] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "draft_id": draft.id,
        "trade": draft.trade,
        "effective_from": draft.effective_from.isoformat(),
        "corrects": draft.corrects,
        "table": draft.table.model_dump(mode="json", exclude_none=True),
        "new_qualifications": [
            q.model_dump(mode="json", exclude_none=True) for q in draft.new_qualifications
        ],
        "status": draft.status,
        "status_ja": STATUS_JA[draft.status],
        "author": draft.author,
        "version": draft.version,
        "created_at": draft.created_at.isoformat(),
        "updated_at": draft.updated_at.isoformat(),
        "submitted_at": draft.submitted_at.isoformat() if draft.submitted_at else None,
        "decided_at": draft.decided_at.isoformat() if draft.decided_at else None,
        "decided_by": draft.decided_by,
        "return_reason": draft.return_reason,
        "published_version": draft.published_version,
        "rejudge_run_id": draft.rejudge_run_id,
    }
    if problems is not None:
        view["problems"] = problems_view(problems)
        view["submittable"] = not problems and draft.status in admin.EDITABLE
    return view


def version_view(version: CriteriaVersion, versions: Sequence[CriteriaVersion]) -> dict[str, Any]:
    latest = admin.latest_of(versions, version.trade, version.effective_from)
    return {
        "version_id": version.id,
        "trade": version.trade,
        "effective_from": version.effective_from.isoformat(),
        "revision": version.revision,
        "latest_revision": latest is None or latest.id == version.id,
        "superseded_by": None if latest is None or latest.id == version.id else latest.id,
        "published_at": version.published_at.isoformat(),
        "published_by": version.published_by,
        "approved_by": version.approved_by,
        "drafted_by": version.drafted_by,
        "draft_id": version.draft_id,
        "reason": version.reason,
    }


def _node(node: Node, master: Master) -> dict[str, Any]:
    if isinstance(node, Leaf):
        item = master.items.get(node.item)
        return {
            "kind": "item",
            "item": node.item,
            "label": node.label,
            "codes": list(item.codes) if item else [],
            "category": item.category if item else None,
            "includes": list(item.includes) if item else [],
        }
    kind = (
        "all_of" if isinstance(node, AllOf) else "any_of" if isinstance(node, AnyOf) else "at_least"
    )
    view: dict[str, Any] = {
        "kind": kind,
        "label": node.label,
        "min_days": node.min_days,
        "children": [_node(c, master) for c in node.children],
    }
    if isinstance(node, AtLeast):
        view["at_least"] = node.k
    return view


def trade_status(trade: Trade, today: date) -> str:
    if trade.table_on(today) is not None:
        return "judgeable"
    return "partial" if trade.status == "partial" else "none"


def _trade_line(
    trade: Trade, today: date, versions: Sequence[CriteriaVersion], pending: int | None
) -> dict[str, Any]:
    table = trade.table_on(today)
    status = trade_status(trade, today)
    upcoming = [t for t in trade.tables if t.effective_from > today]
    return {
        "trade": trade.name,
        "bodies_ja": trade.bodies_ja(),
        "status": status,
        "status_ja": TRADE_STATUS_JA[status],
        "version": table.version if table else None,
        "effective_from": table.effective_from.isoformat() if table else None,
        "revision": table.revision if table else None,
        "upcoming": [
            {"version": t.version, "effective_from": t.effective_from.isoformat()} for t in upcoming
        ],
        "versions_published": sum(1 for v in versions if v.trade == trade.name),
        "pending_drafts": pending,
    }


# --- read (public) -------------------------------------------------------------------------


@router.get("/trades", summary="分野の一覧と適用中の判定基準の版")
async def trades(container: ContainerDep, user: MaybeUser) -> list[dict[str, Any]]:
    master = await container.masters.fresh()
    versions = container.masters.versions
    today = _today()
    counts: dict[str, int] | None = None
    if user is not None and user.role in ("criteria_editor", "criteria_approver"):
        counts = await container.criteria.pending_counts()
    answer = []
    for trade in master.trades.values():
        pending = None
        if (
            counts is not None
            and user is not None
            and (user.role == "criteria_approver" or user.handles(trade.name))
        ):
            pending = counts.get(trade.name, 0)
        answer.append(_trade_line(trade, today, versions, pending))
    return answer


@router.get("/trades/{trade}", summary="分野の判定基準（適用中の版と版の履歴）")
async def trade_criteria(
    container: ContainerDep,
    trade: str,
    user: MaybeUser,
    on: Annotated[date | None, Query(description="この日に適用される版（既定：今日）")] = None,
) -> dict[str, Any]:
    master = await container.masters.fresh()
    found = master.trade(trade)
    day = on or _today()
    versions = [v for v in container.masters.versions if v.trade == found.name]
    pending = None
    if user is not None and (
        user.role == "criteria_approver"
        or (user.role == "criteria_editor" and user.handles(found.name))
    ):
        pending = (await container.criteria.pending_counts()).get(found.name, 0)
    detail = _trade_line(found, day, versions, pending)
    table = found.table_on(day)
    detail.update(
        title=found.title,
        bodies=[b.name for b in found.bodies],
        source=table.source if table else None,
        source_urls=list(table.source_urls) if table else [],
        provisional=table.provisional if table else None,
        notes=table.notes if table else None,
        on=day.isoformat(),
        levels=[
            {
                "level": level.number,
                "days": level.days,
                "foreman_scope": level.foreman_scope,
                "foreman_days": level.foreman_days,
                "qualifications_ja": level.qualifications.label if level.qualifications else None,
                "qualifications": _node(level.qualifications, master)
                if level.qualifications
                else None,
                "provisional": level.provisional,
            }
            for level in sorted(table.levels.values(), key=lambda lv: lv.number)
        ]
        if table
        else [],
        versions=[
            {**version_view(v, versions), "in_force": table is not None and v.id == table.version}
            for v in versions
        ],
    )
    return detail


@router.get(
    "/versions/{version_id}.yaml",
    summary="判定基準の版をYAMLで出力（基準マスタの形式。アップロードで下書きにできます）",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}},
)
async def version_yaml(container: ContainerDep, version_id: str) -> Response:
    version = await container.criteria.version(version_id)
    header = [
        f"判定基準 {version.id}（分野 {version.trade}、適用開始日 {version.effective_from}、"
        f"版 {version.revision}）",
        f"公開 {version.published_at.date().isoformat()}（{version.published_by}）",
        "この形式のままアップロードすると下書きになります（POST /criteria/drafts/upload）",
    ]
    text = yaml_files.dump(admin.export_document(version), header)
    name = quote(f"{version.id}.yaml")
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/versions/{version_id}", summary="判定基準の版（JSON）")
async def version_json(container: ContainerDep, version_id: str) -> dict[str, Any]:
    version = await container.criteria.version(version_id)
    versions = await container.criteria.versions(version.trade)
    return {
        **version_view(version, versions),
        "table": admin.table_document(version.table),
        "qualifications": [admin.qualification_document(q) for q in version.qualifications],
    }


@router.put("/versions/{version_id}", summary="公開済みの版の変更（できません：409）")
async def version_put(container: ContainerDep, version_id: str, user: Staff) -> None:
    await container.criteria.refuse_change(version_id)


@router.delete("/versions/{version_id}", summary="公開済みの版の削除（できません：409）")
async def version_delete(container: ContainerDep, version_id: str, user: Staff) -> None:
    await container.criteria.refuse_change(version_id)


@router.get("/qualifications", summary="資格カタログの検索（名前・CCUS資格コード・別名）")
async def qualifications(
    container: ContainerDep,
    q: Annotated[str, Query(max_length=100, description="検索語（空なら全件）")] = "",
) -> list[dict[str, Any]]:
    master = await container.masters.fresh()
    wanted = master.normalise(q) if q.strip() else ""
    found = []
    for item in master.items.values():
        names = [item.name, *item.aliases]
        if (
            not wanted
            or any(wanted in master.normalise(n) or q in n for n in names)
            or any(q.strip() in code for code in item.codes)
        ):
            found.append(
                {
                    "name": item.name,
                    "codes": list(item.codes),
                    "aliases": list(item.aliases),
                    "category": item.category,
                    "includes": list(item.includes),
                    "supersedes": list(item.supersedes),
                }
            )
    return found


# --- drafts --------------------------------------------------------------------------------


class DraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trade: ShortText
    effective_from: date | None = Field(
        default=None, description="適用開始日（訂正では省略：訂正する版と同じ日）"
    )
    corrects: ShortText | None = Field(
        default=None, description="訂正する公開済みの版（省略：同じ分野・日の版があればその訂正）"
    )
    table: TableDraft = Field(default_factory=TableDraft)
    new_qualifications: list[QualificationDraft] = Field(default_factory=list, max_length=100)


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0, le=1_000_000_000, description="編集を始めたときの下書きの版")
    table: TableDraft
    new_qualifications: list[QualificationDraft] = Field(default_factory=list, max_length=100)
    effective_from: date | None = None


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ShortText = Field(min_length=1, description="理由（監査記録・再判定の通知に残ります）")


class Approval(Decision):
    effective_from: date | None = Field(
        default=None, description="適用開始日（新しい版：今日以降。訂正では変更不可）"
    )
    rejudge: bool = Field(default=False, description="訂正した基準で判定済みの明細を再判定する")


@router.post("/drafts", status_code=201, summary="判定基準の下書きを作成")
async def create_draft(container: ContainerDep, body: DraftBody, editor: Editor) -> dict[str, Any]:
    draft, problems = await container.criteria.create(
        editor,
        trade=body.trade,
        effective_from=body.effective_from,
        corrects=body.corrects,
        table=body.table,
        new_qualifications=body.new_qualifications,
    )
    return draft_view(draft, problems)


@router.post(
    "/drafts/upload",
    status_code=201,
    summary="判定基準の表（YAML、1MBまで）をアップロードして下書きを作成",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_draft(container: ContainerDep, request: Request, editor: Editor) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        raise yaml_files.UploadRefused(
            "unsupported_media_type",
            "YAMLファイル（Content-Type: application/yaml）を送信してください",
        )
    too_large = yaml_files.UploadRefused(
        "payload_too_large", "アップロードできるファイルは1MBまでです"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > yaml_files.MAX_BYTES:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > yaml_files.MAX_BYTES:
            raise too_large
    table, items = yaml_files.draft_content(yaml_files.parse(bytes(data)))
    assert table.trade is not None
    draft, problems = await container.criteria.create(
        editor,
        trade=table.trade,
        effective_from=table.effective_from,
        corrects=None,
        table=table,
        new_qualifications=items,
        refuse_invalid=True,
    )
    return draft_view(draft, problems)


@router.get("/drafts", summary="下書きの一覧")
async def list_drafts(
    container: ContainerDep,
    user: Staff,
    trade: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[
        admin.DraftStatus | None,
        Query(description="draft, submitted, approved, returned, withdrawn"),
    ] = None,
) -> list[dict[str, Any]]:
    found = await container.criteria.drafts(user, trade, status)
    return [draft_view(d) for d in found]


@router.get("/drafts/{draft_id}", summary="下書き（検証結果の問題点つき）")
async def get_draft(container: ContainerDep, draft_id: str, user: Staff) -> dict[str, Any]:
    draft, problems = await container.criteria.get(user, draft_id)
    return draft_view(draft, problems)


@router.put("/drafts/{draft_id}", summary="下書きを保存（編集開始時の版を指定）")
async def save_draft(
    container: ContainerDep, draft_id: str, body: DraftUpdate, editor: Editor
) -> dict[str, Any]:
    try:
        draft, problems = await container.criteria.save(
            editor,
            draft_id,
            expected_version=body.version,
            table=body.table,
            new_qualifications=body.new_qualifications,
            effective_from=body.effective_from,
        )
    except Refused as exc:
        # nothing was stored: the content sent comes back, so that nothing is lost
        exc.details["rejected"] = body.model_dump(mode="json", exclude_none=True)
        raise
    return draft_view(draft, problems)


@router.get("/drafts/{draft_id}/diff", summary="下書きと公開中の版の違い")
async def draft_diff(container: ContainerDep, draft_id: str, user: Staff) -> dict[str, Any]:
    before, changes = await container.criteria.diff(user, draft_id)
    return {
        "draft_id": draft_id,
        "against": before.id if before else None,
        "changes": [c.model_dump() for c in changes],
    }


@router.post("/drafts/{draft_id}/submit", summary="下書きの承認を依頼")
async def submit_draft(container: ContainerDep, draft_id: str, editor: Editor) -> dict[str, Any]:
    draft = await container.criteria.submit(editor, draft_id)
    return draft_view(draft)


@router.post("/drafts/{draft_id}/withdraw", summary="下書きを取り下げ")
async def withdraw_draft(container: ContainerDep, draft_id: str, editor: Editor) -> dict[str, Any]:
    draft = await container.criteria.withdraw(editor, draft_id)
    return draft_view(draft)


@router.post("/drafts/{draft_id}/approve", summary="下書きを承認して公開（任意で再判定）")
async def approve_draft(
    container: ContainerDep, draft_id: str, body: Approval, approver: Approver
) -> dict[str, Any]:
    done = await container.criteria.approve(
        approver,
        draft_id,
        reason=body.reason,
        rejudge=body.rejudge,
        effective_from=body.effective_from,
    )
    versions = container.masters.versions
    return {
        "version": {
            **version_view(done.version, versions),
            "table": admin.table_document(done.version.table),
            "qualifications": [
                admin.qualification_document(q) for q in done.version.qualifications
            ],
        },
        "draft": draft_view(done.draft),
        "rejudge": done.rejudge,
    }


@router.post("/drafts/{draft_id}/return", summary="下書きを差し戻し（理由が必要）")
async def return_draft(
    container: ContainerDep, draft_id: str, body: Decision, approver: Approver
) -> dict[str, Any]:
    draft = await container.criteria.return_draft(approver, draft_id, body.reason)
    return draft_view(draft)


@router.get("/audit", summary="基準管理の監査記録")
async def audit_trail(
    container: ContainerDep,
    approver: Approver,
    trade: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    entries = await container.criteria.audit_trail(approver, trade)
    return [e.model_dump(mode="json") for e in entries]
