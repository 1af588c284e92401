"""基準管理 (criteria administration): drafts, published versions and the audit — pure, no I/O.

A body's editor drafts a table of its 分野 (a new version from a later date, or a
correction of a published one: same effective date, next revision); an approver of the
scheme approves it (never their own draft) or returns it with a reason; approval publishes
an immutable :class:`CriteriaVersion`. The master in force is the packaged settings, trades
and catalogue, the qualifications published versions added, and for each (trade, effective
date) the published table with the highest revision (:func:`version_documents`).

Every refusal is a :class:`Refused` with a stable English ``code``, a Japanese message and
a ``kind`` the HTTP adapter maps to a status. See docs/criteria-admin.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
)

from judgement.core.errors import Refused
from judgement.core.master import QualificationSpec, TableSpec, table_version
from shared_kernel.time import japan_today

LEVELS = (2, 3, 4)
SEED_PUBLISHER = "seed"
SEED_REASON = "同梱の基準マスタ（初期登録）"
MAX_TREE_DEPTH = 12
MAX_TREE_NODES = 2000


# --------------------------------------------------------------------------- refusals

# --------------------------------------------------------------------------- text checks


def clean_text(value: str) -> str:
    """Refuse what the database cannot hold: NUL and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("使用できない文字（NUL文字）が含まれています")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("使用できない文字が含まれています") from None
    return value


def _tree(value: JsonValue) -> JsonValue:
    """A qualification tree as JSON: bounded in depth and size, clean text only."""
    count = 0

    def walk(node: JsonValue, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > MAX_TREE_DEPTH or count > MAX_TREE_NODES:
            raise ValueError("条件の入れ子が深すぎるか、大きすぎます")
        if isinstance(node, str):
            clean_text(node)
        elif isinstance(node, list):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, dict):
            for key, child in node.items():
                clean_text(key)
                walk(child, depth + 1)

    walk(value, 0)
    return value


ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
CodeText = Annotated[str, StringConstraints(max_length=20), AfterValidator(clean_text)]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(clean_text)]
UrlText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(clean_text)]
PoolName = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(clean_text)
]
Count = Annotated[int, Field(strict=True, ge=-1_000_000_000, le=1_000_000_000)]
LevelKey = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
Flag = Annotated[bool, Field(strict=True)]
Tree = Annotated[JsonValue, AfterValidator(_tree)]


# --------------------------------------------------------------------------- draft content


class _Content(BaseModel):
    """A draft's content: every field typed, none required (a draft may be incomplete).
    Wrong types and unknown fields cannot be read (422, nothing stored); values out of
    range, missing parts and unknown references are the draft's ``problems``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ForemanDraft(_Content):
    scope: ShortText | None = None
    days: Count | None = None


class LevelDraft(_Content):
    days: Count | None = None
    foreman: ForemanDraft | None = None
    qualifications: Tree | None = None
    provisional: Flag = False
    notes: LongText | None = None


class PoolDraft(_Content):
    items: list[ShortText] = Field(default_factory=list, max_length=500)


class TableDraft(_Content):
    """A table as the master's ``tables`` entry has it (``trade``, ``effective_from`` and
    ``revision`` are the draft's own fields: given here, they must agree)."""

    trade: ShortText | None = None
    effective_from: date | None = None
    revision: Count | None = None
    source: LongText | None = None
    source_urls: list[UrlText] = Field(default_factory=list, max_length=50)
    provisional: Flag = False
    notes: LongText | None = None
    pools: dict[PoolName, PoolDraft] = Field(default_factory=dict, max_length=100)
    levels: dict[LevelKey, LevelDraft] = Field(default_factory=dict, max_length=10)

    def content(self) -> TableDraft:
        """The table without the fields that belong to the draft itself."""
        return self.model_copy(update={"trade": None, "effective_from": None, "revision": None})


class QualificationDraft(_Content):
    """A catalogue item the draft adds (the catalogue lacks it): name, CCUS code(s),
    category; optionally aliases, 上位資格 and 「1級又は2級…」 parts as the catalogue has."""

    name: ShortText
    codes: list[CodeText] = Field(default_factory=list, max_length=20)
    aliases: list[ShortText] = Field(default_factory=list, max_length=20)
    category: ShortText | None = None
    includes: list[ShortText] = Field(default_factory=list, max_length=50)
    supersedes: list[ShortText] = Field(default_factory=list, max_length=50)
    notes: LongText | None = None


# --------------------------------------------------------------------------- aggregates

DraftStatus = Literal["draft", "submitted", "approved", "returned", "withdrawn"]
EDITABLE: tuple[DraftStatus, ...] = ("draft", "returned")
PENDING: tuple[DraftStatus, ...] = ("draft", "submitted", "returned")
STATUS_JA: dict[str, str] = {
    "draft": "下書き",
    "submitted": "承認待ち",
    "approved": "承認済み（公開）",
    "returned": "差戻し",
    "withdrawn": "取下げ",
}


class CriteriaDraft(BaseModel):
    """``criteria_drafts``: a draft table of one 分野 (``version``: optimistic concurrency)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    trade: str
    effective_from: date
    corrects: str | None = None
    table: TableDraft
    new_qualifications: list[QualificationDraft] = Field(default_factory=list)
    status: DraftStatus = "draft"
    author: str
    version: int = 0
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    return_reason: str | None = None
    published_version: str | None = None
    rejudge_run_id: str | None = None


class CriteriaVersion(BaseModel):
    """``criteria_versions``: a published table, immutable (a correction is a new revision)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    trade: str
    effective_from: date
    revision: int = Field(ge=1)
    table: TableSpec
    qualifications: list[QualificationSpec] = Field(default_factory=list)
    published_by: str
    published_at: datetime
    approved_by: str | None = None
    drafted_by: str | None = None
    draft_id: str | None = None
    reason: str | None = None

    @property
    def key(self) -> tuple[str, date]:
        return (self.trade, self.effective_from)


AuditAction = Literal[
    "draft_created",
    "draft_saved",
    "submitted",
    "withdrawn",
    "returned",
    "approved",
    "published",
    "impact_started",
]


class AuditEntry(BaseModel):
    """``criteria_audit``: one action, append-only. Login ids only, no personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    at: datetime
    actor: str
    role: str
    action: AuditAction
    trade: str
    draft_id: str | None = None
    version_id: str | None = None
    reason: str | None = None
    rejudge_run_id: str | None = None


# --------------------------------------------------------------------------- versions


def in_force(versions: Iterable[CriteriaVersion]) -> list[CriteriaVersion]:
    """For each (trade, effective date) the published table with the highest revision."""
    best: dict[tuple[str, date], CriteriaVersion] = {}
    for version in versions:
        held = best.get(version.key)
        if held is None or version.revision > held.revision:
            best[version.key] = version
    return sorted(best.values(), key=lambda v: v.key)


def latest_of(
    versions: Iterable[CriteriaVersion], trade: str, effective_from: date
) -> CriteriaVersion | None:
    same = [v for v in versions if v.key == (trade, effective_from)]
    return max(same, key=lambda v: v.revision) if same else None


def table_document(spec: TableSpec) -> dict[str, Any]:
    """A table as JSON, in the packaged master's shape (defaults left out)."""
    return spec.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def qualification_document(spec: QualificationSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def version_documents(
    versions: Sequence[CriteriaVersion], *, leave_out: tuple[str, date] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Master documents of the published versions: the catalogue items they added (each
    once, first published first) and the table in force per (trade, date) — without the
    one at ``leave_out`` (the table a draft replaces, when validating the draft)."""
    documents: list[tuple[str, dict[str, Any]]] = []
    added: dict[str, dict[str, Any]] = {}
    for version in sorted(versions, key=lambda v: (v.published_at, v.id)):
        for item in version.qualifications:
            added.setdefault(item.name, qualification_document(item))
    if added:
        documents.append(
            ("criteria_versions (qualifications)", {"qualifications": [*added.values()]})
        )
    for version in in_force(versions):
        if version.key != leave_out:
            documents.append(
                (f"criteria_versions/{version.id}", {"tables": [table_document(version.table)]})
            )
    return documents


def seed_versions(tables: Iterable[TableSpec], now: datetime) -> list[CriteriaVersion]:
    """The packaged tables as revision 1, published by ``seed``."""
    return [
        CriteriaVersion(
            id=table_version(spec.trade, spec.effective_from, spec.revision),
            trade=spec.trade,
            effective_from=spec.effective_from,
            revision=spec.revision,
            table=spec,
            published_by=SEED_PUBLISHER,
            published_at=now,
            reason=SEED_REASON,
        )
        for spec in tables
    ]


def export_document(version: CriteriaVersion) -> dict[str, Any]:
    """A version in the packaged master's shape (the same YAML a master file has; dates
    and level numbers as YAML dates and integers). Uploading it makes a draft again."""
    document: dict[str, Any] = {}
    if version.qualifications:
        document["qualifications"] = [
            q.model_dump(mode="python", exclude_defaults=True) for q in version.qualifications
        ]
    document["tables"] = [version.table.model_dump(mode="python", exclude_defaults=True)]
    return document


# --------------------------------------------------------------------------- drafts


def draft_id(now: datetime, token: str) -> str:
    """``CD-<yyyymmdd>-<6 hex>`` (the Tokyo date)."""
    return f"CD-{japan_today(now):%Y%m%d}-{token}"


def correction_target(
    versions: Sequence[CriteriaVersion],
    trade: str,
    effective_from: date | None,
    corrects: str | None,
) -> CriteriaVersion | None:
    """The published version a new draft corrects, or ``None`` for a new version.

    Naming none while a version of the same (trade, date) is published makes the draft a
    correction of its latest revision: one (trade, date) has one table, corrected by
    revisions. A named one must be the latest revision of its (trade, date).
    """
    if corrects is None:
        if effective_from is None:
            raise Refused("invalid", "effective_from_required", "適用開始日を入力してください")
        return latest_of(versions, trade, effective_from)
    target = next((v for v in versions if v.id == corrects), None)
    if target is None:
        raise Refused("invalid", "unknown_version", f"訂正する版「{corrects}」は公開されていません")
    if target.trade != trade:
        raise Refused(
            "invalid",
            "version_of_other_trade",
            f"訂正する版「{corrects}」は分野「{trade}」の版ではありません",
        )
    if effective_from is not None and effective_from != target.effective_from:
        raise Refused(
            "invalid",
            "correction_date_fixed",
            f"訂正は訂正する版と同じ適用開始日（{target.effective_from.isoformat()}）で作成してください",
        )
    latest = latest_of(versions, trade, target.effective_from)
    if latest is not None and latest.id != target.id:
        raise Refused(
            "conflict",
            "corrected_version_superseded",
            f"版「{target.id}」はその後に訂正されています。最新の版「{latest.id}」をもとに作成してください",
            {"latest_version": latest.id},
        )
    return target


def new_draft(
    *,
    id: str,
    trade: str,
    effective_from: date,
    corrects: CriteriaVersion | None,
    table: TableDraft,
    new_qualifications: Sequence[QualificationDraft],
    author: str,
    now: datetime,
) -> CriteriaDraft:
    return CriteriaDraft(
        id=id,
        trade=trade,
        effective_from=corrects.effective_from if corrects else effective_from,
        corrects=corrects.id if corrects else None,
        table=table.content(),
        new_qualifications=list(new_qualifications),
        author=author,
        created_at=now,
        updated_at=now,
    )


def _not_editable(draft: CriteriaDraft) -> Refused:
    if draft.status == "approved":
        return Refused(
            "conflict",
            "published_immutable",
            f"この下書きは承認され、版「{draft.published_version}」として公開されています。"
            "公開された版は変更できません。訂正する場合は、その版を訂正する下書きを作成してください",
        )
    return Refused(
        "conflict",
        "not_editable",
        f"この下書きは「{STATUS_JA[draft.status]}」のため変更できません",
        {"status": draft.status},
    )


def edit(
    draft: CriteriaDraft,
    *,
    expected_version: int,
    table: TableDraft,
    new_qualifications: Sequence[QualificationDraft],
    effective_from: date | None,
    now: datetime,
) -> CriteriaDraft:
    """Save new content over an editable draft that is still at ``expected_version``."""
    if draft.status not in EDITABLE:
        raise _not_editable(draft)
    if expected_version != draft.version:
        raise Refused(
            "conflict",
            "stale_draft",
            f"あなたが編集を始めた版（{expected_version}）の後に、"
            f"他の方が版{draft.version}を保存しています。"
            "最新の内容を読み込んでから、変更をもう一度反映してください",
            {"your_version": expected_version, "current_version": draft.version},
        )
    moved = effective_from if effective_from is not None else draft.effective_from
    if draft.corrects and moved != draft.effective_from:
        raise Refused(
            "invalid",
            "correction_date_fixed",
            f"訂正の適用開始日は訂正する版と同じ（{draft.effective_from.isoformat()}）です。変更できません",
        )
    return draft.model_copy(
        update={
            "table": table.content(),
            "new_qualifications": list(new_qualifications),
            "effective_from": moved,
            "status": "draft",
            "updated_at": now,
        }
    )


def submit(
    draft: CriteriaDraft, problems: Sequence[Any], changed: bool, now: datetime
) -> CriteriaDraft:
    """To the approvers: only a complete draft without problems (partial ones stay drafts)."""
    if draft.status not in EDITABLE:
        raise _not_editable(draft)
    if problems:
        raise Refused(
            "invalid",
            "has_problems",
            f"この下書きには{len(problems)}件の問題があるため、承認依頼できません。"
            "問題を解消してから、もう一度承認依頼してください",
            {"problems": list(problems)},
        )
    if draft.corrects and not changed:
        raise Refused(
            "invalid",
            "no_changes",
            f"訂正する版「{draft.corrects}」から変更された点がありません",
        )
    return draft.model_copy(update={"status": "submitted", "submitted_at": now, "updated_at": now})


def withdraw(draft: CriteriaDraft, now: datetime) -> CriteriaDraft:
    if draft.status not in PENDING:
        raise _not_editable(draft)
    return draft.model_copy(update={"status": "withdrawn", "updated_at": now})


def _submitted(draft: CriteriaDraft) -> None:
    if draft.status == "approved":
        raise _not_editable(draft)
    if draft.status != "submitted":
        raise Refused(
            "conflict",
            "not_submitted",
            f"この下書きは「{STATUS_JA[draft.status]}」です。承認依頼された下書きだけを承認・差戻しできます",
            {"status": draft.status},
        )


def return_draft(draft: CriteriaDraft, approver: str, reason: str, now: datetime) -> CriteriaDraft:
    _submitted(draft)
    if not reason.strip():
        raise Refused("invalid", "reason_required", "差戻しの理由を入力してください")
    return draft.model_copy(
        update={
            "status": "returned",
            "return_reason": reason,
            "decided_by": approver,
            "decided_at": now,
            "updated_at": now,
        }
    )


def check_approval(
    draft: CriteriaDraft,
    approver: str,
    *,
    reason: str,
    rejudge: bool,
    effective_from: date | None,
    today: date,
) -> date:
    """Whether ``approver`` may approve ``draft`` now; the effective date it publishes with.

    Four eyes: never the draft's author. A new version takes effect today or later (the
    approver may set the date); a correction keeps the date of the table it corrects (it is
    the table that was always meant to apply), and only a correction can be re-judged.
    """
    _submitted(draft)
    if draft.author == approver:
        raise Refused(
            "forbidden",
            "own_draft",
            "自分が作成した下書きは承認できません。作成者以外の承認者が承認してください",
        )
    if not reason.strip():
        raise Refused("invalid", "reason_required", "承認の理由（公開の理由）を入力してください")
    if draft.corrects:
        if effective_from is not None and effective_from != draft.effective_from:
            raise Refused(
                "invalid",
                "correction_date_fixed",
                f"訂正の適用開始日は訂正する版と同じ（{draft.effective_from.isoformat()}）です。変更できません",
            )
        return draft.effective_from
    if rejudge:
        raise Refused(
            "invalid",
            "rejudge_needs_correction",
            "再判定は、公開済みの基準を訂正する下書きを承認する場合にだけ指定できます",
        )
    chosen = effective_from or draft.effective_from
    if chosen < today:
        raise Refused(
            "invalid",
            "effective_from_past",
            f"適用開始日（{chosen.isoformat()}）は今日（{today.isoformat()}）以降の日付にしてください",
        )
    return chosen


def revision_for(
    draft: CriteriaDraft, versions: Sequence[CriteriaVersion], effective_from: date
) -> int:
    """The revision the draft publishes as, against the versions published now."""
    latest = latest_of(versions, draft.trade, effective_from)
    if draft.corrects is None:
        if latest is not None:
            raise Refused(
                "conflict",
                "version_exists",
                f"分野「{draft.trade}」の適用開始日{effective_from.isoformat()}の版"
                f"「{latest.id}」がすでに公開されています。その版を訂正する下書きとして作り直してください",
                {"latest_version": latest.id},
            )
        return 1
    if latest is None or latest.id != draft.corrects:
        raise Refused(
            "conflict",
            "corrected_version_superseded",
            f"この下書きが訂正する版「{draft.corrects}」は、その後に"
            f"「{latest.id if latest else '?'}」として訂正されています。"
            "最新の版をもとに作り直してください",
            {"latest_version": latest.id if latest else None},
        )
    return latest.revision + 1


def table_document_of(
    table: TableDraft, trade: str, effective_from: date, revision: int
) -> dict[str, Any]:
    """A draft table as a master ``tables`` entry (JSON), for validation and publication."""
    content = table.model_dump(
        mode="json", exclude_none=True, exclude={"trade", "effective_from", "revision"}
    )
    return {
        "trade": trade,
        "effective_from": effective_from.isoformat(),
        "revision": revision,
        **content,
    }


def draft_table_document(
    draft: CriteriaDraft, effective_from: date, revision: int
) -> dict[str, Any]:
    return table_document_of(draft.table, draft.trade, effective_from, revision)


def draft_qualification_documents(draft: CriteriaDraft) -> list[dict[str, Any]]:
    return [q.model_dump(mode="json", exclude_none=True) for q in draft.new_qualifications]


def publish(
    draft: CriteriaDraft,
    *,
    revision: int,
    effective_from: date,
    approver: str,
    reason: str,
    now: datetime,
) -> tuple[CriteriaVersion, CriteriaDraft]:
    """The published version of an approved draft, and the draft marked approved.

    The caller has validated the draft against the master (no problems), so the table and
    the new items validate as the master's own models here.
    """
    table = TableSpec.model_validate(draft_table_document(draft, effective_from, revision))
    items = [QualificationSpec.model_validate(q) for q in draft_qualification_documents(draft)]
    version = CriteriaVersion(
        id=table_version(draft.trade, effective_from, revision),
        trade=draft.trade,
        effective_from=effective_from,
        revision=revision,
        table=table,
        qualifications=items,
        published_by=approver,
        published_at=now,
        approved_by=approver,
        drafted_by=draft.author,
        draft_id=draft.id,
        reason=reason,
    )
    approved = draft.model_copy(
        update={
            "status": "approved",
            "effective_from": effective_from,
            "decided_by": approver,
            "decided_at": now,
            "updated_at": now,
            "published_version": version.id,
        }
    )
    return version, approved
