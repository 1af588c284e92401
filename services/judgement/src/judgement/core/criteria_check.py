"""基準管理: a draft's problems and its differences from a published table — pure, no I/O.

``check_draft`` is the master's own load-time validation of the draft applied to the master
in force (``build_master`` on the master's documents with the draft's table and new items),
preceded by checks of the same rules that report **every** problem with its field path
and a Japanese message (``build_master`` stops at the first). ``incomplete`` problems are a
partial table's missing parts (a draft may be saved so, never submitted); every other is
``invalid``.

``diff`` says per level and criterion what a draft changes, worded for the bodies' staff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from judgement.core.criteria_admin import (
    LEVELS,
    LevelDraft,
    PoolDraft,
    QualificationDraft,
    TableDraft,
    table_document_of,
)
from judgement.core.errors import MasterError
from judgement.core.master import Category, Master, TableSpec, build_master
from judgement.core.tree import AllOf, AnyOf, AtLeast, Leaf, Node

ProblemKind = Literal["incomplete", "invalid"]
CATEGORIES: tuple[str, ...] = get_args(Category)
FOREMAN_SCOPES = ("職長", "職長又は班長")
CODE = re.compile(r"^\d{5}$")
DRAFT_SOURCE = "下書き"


class Problem(BaseModel):
    """One problem of a draft: where (``levels.3.foreman.days``) and what, in Japanese."""

    model_config = ConfigDict(frozen=True)

    path: str
    message_ja: str
    kind: ProblemKind = "invalid"


def unknown_item_message(name: str, master: Master) -> str:
    canonical = master.item_by_name(name)
    if canonical is not None and canonical != name:
        return (
            f"資格「{name}」は資格カタログでは「{canonical}」という名前です。"
            "カタログの名前で入力してください"
        )
    return (
        f"資格「{name}」は資格カタログにありません。"
        "新しい資格として追加するか、カタログから選んでください"
    )


class _Checker:
    def __init__(self, master: Master, new_qualifications: Sequence[QualificationDraft]) -> None:
        self.master = master
        self.problems: list[Problem] = []
        self.new_names = {q.name for q in new_qualifications}

    def add(self, path: str, message: str, kind: ProblemKind = "invalid") -> None:
        self.problems.append(Problem(path=path, message_ja=message, kind=kind))

    def known(self, name: str) -> bool:
        return name in self.master.items or name in self.new_names

    def item(self, name: Any, path: str) -> None:
        if not isinstance(name, str) or not name.strip():
            self.add(path, "資格名を入力してください", "incomplete")
        elif not self.known(name):
            self.add(path, unknown_item_message(name, self.master))

    # new catalogue items --------------------------------------------------------------
    def qualifications(self, items: Sequence[QualificationDraft]) -> None:
        seen_names: set[str] = set()
        seen_codes: set[str] = set()
        for i, item in enumerate(items):
            at = f"new_qualifications.{i}"
            self.new_item(item, at, seen_names, seen_codes)

    def new_item(
        self, item: QualificationDraft, at: str, seen_names: set[str], seen_codes: set[str]
    ) -> None:
        master = self.master
        if not item.name.strip():
            self.add(f"{at}.name", "新しい資格の名前を入力してください", "incomplete")
        elif item.name in seen_names:
            self.add(f"{at}.name", f"新しい資格「{item.name}」が2回入力されています")
        else:
            existing = item.name if item.name in master.items else master.item_by_name(item.name)
            if existing is not None:
                self.add(
                    f"{at}.name",
                    f"資格「{item.name}」はすでに資格カタログにあります（「{existing}」）。"
                    "カタログから選んでください",
                )
        seen_names.add(item.name)
        for j, alias in enumerate(item.aliases):
            other = master.item_by_name(alias)
            if other is not None:
                self.add(
                    f"{at}.aliases.{j}",
                    f"別名「{alias}」は資格カタログの「{other}」と同じ名前として扱われます",
                )
        for j, code in enumerate(item.codes):
            where = f"{at}.codes.{j}"
            if not CODE.match(code):
                self.add(where, f"資格コードは5桁の数字で入力してください（「{code}」）")
            elif (owner := master.item_by_code(code)) is not None:
                self.add(where, f"資格コード{code}はすでに資格「{owner}」に使われています")
            elif master.is_other_code(code):
                self.add(where, f"資格コード{code}は「その他」の資格コードのため使えません")
            elif code in seen_codes:
                self.add(where, f"資格コード{code}が新しい資格の中で2回使われています")
            seen_codes.add(code)
        if item.category is None or not item.category.strip():
            self.add(f"{at}.category", "資格の区分を選んでください", "incomplete")
        elif item.category not in CATEGORIES:
            self.add(
                f"{at}.category",
                f"資格の区分は次のいずれかから選んでください：{'、'.join(CATEGORIES)}",
            )
        if item.includes and item.codes:
            self.add(
                f"{at}.codes",
                "「1級又は2級…」のようにほかの資格をまとめる資格（includes）には資格コードを付けられません",
            )
        for field in ("includes", "supersedes"):
            for j, ref in enumerate(getattr(item, field)):
                where = f"{at}.{field}.{j}"
                if not self.known(ref):
                    self.add(where, unknown_item_message(ref, master))
                elif field == "supersedes":
                    lower = master.items.get(ref)
                    if lower is not None and lower.is_composite:
                        self.add(
                            where,
                            f"「{ref}」はほかの資格をまとめる資格のため、上位資格の対象にできません",
                        )

    # the table -----------------------------------------------------------------------
    def table(self, table: TableDraft) -> None:
        if table.source is None or not table.source.strip():
            self.add("source", "出典（基準の根拠となる資料）を入力してください", "incomplete")
        for name, pool in table.pools.items():
            if not pool.items:
                self.add(f"pools.{name}.items", f"プール「{name}」に資格が1つもありません")
            for i, item in enumerate(pool.items):
                self.item(item, f"pools.{name}.items.{i}")
        for number in LEVELS:
            if number not in table.levels:
                self.add(
                    f"levels.{number}", f"レベル{number}の基準が入力されていません", "incomplete"
                )
        for number, level in sorted(table.levels.items()):
            if number not in LEVELS:
                self.add(
                    f"levels.{number}",
                    f"レベルは2・3・4だけを入力できます（レベル{number}は使えません）",
                )
                continue
            self.level(number, level, table.pools)

    def level(self, number: int, level: LevelDraft, pools: Mapping[str, PoolDraft]) -> None:
        at = f"levels.{number}"
        if level.days is None:
            self.add(f"{at}.days", f"レベル{number}の就業日数を入力してください", "incomplete")
        elif level.days < 0:
            self.add(f"{at}.days", f"レベル{number}の就業日数は0以上の整数で入力してください")
        foreman = level.foreman
        if foreman is not None:
            if foreman.scope is None:
                self.add(
                    f"{at}.foreman.scope",
                    f"レベル{number}の職長の区分（「職長」または「職長又は班長」）を選んでください",
                    "incomplete",
                )
            elif foreman.scope not in FOREMAN_SCOPES:
                self.add(
                    f"{at}.foreman.scope",
                    f"レベル{number}の職長の区分は「職長」または「職長又は班長」から選んでください",
                )
            if foreman.days is None:
                self.add(
                    f"{at}.foreman.days",
                    f"レベル{number}の職長日数を入力してください",
                    "incomplete",
                )
            elif foreman.days < 1:
                self.add(
                    f"{at}.foreman.days",
                    f"レベル{number}の職長日数は1以上の整数で入力してください",
                )
        if level.qualifications is not None:
            self.node(level.qualifications, f"{at}.qualifications", number, pools, in_list=False)

    def node(
        self,
        node: JsonValue,
        at: str,
        number: int,
        pools: Mapping[str, PoolDraft],
        *,
        in_list: bool,
    ) -> int:
        """Check one condition node; how many conditions it stands for in a list."""
        if isinstance(node, str):
            self.item(node, at)
            return 1
        shape = (
            f"レベル{number}の保有資格の条件の形式が正しくありません。"
            "資格名、または all_of（すべて）・any_of（いずれか）・"
            "at_least（○つ以上）で入力してください"
        )
        if not isinstance(node, dict):
            self.add(at, shape)
            return 1
        kinds = [k for k in ("item", "pool", "all_of", "any_of", "at_least") if k in node]
        if len(kinds) != 1:
            self.add(at, shape)
            return 1
        kind = kinds[0]
        allowed = {
            "item": {"item", "label"},
            "pool": {"pool"},
            "all_of": {"all_of", "min_days", "label"},
            "any_of": {"any_of", "min_days", "label"},
            "at_least": {"at_least", "of", "min_days", "label"},
        }[kind]
        for key in sorted(set(node) - allowed):
            self.add(f"{at}.{key}", f"条件に使えない項目「{key}」があります")
        label = node.get("label")
        if label is not None and not isinstance(label, str):
            self.add(f"{at}.label", "条件の表示名（label）は文字で入力してください")
        if kind == "item":
            self.item(node["item"], f"{at}.item")
            return 1
        if kind == "pool":
            name = node["pool"]
            if not in_list:
                self.add(at, "プール（pool）は条件の一覧の中でだけ使えます")
            if not isinstance(name, str) or name not in pools:
                self.add(f"{at}.pool", f"プール「{name}」がありません")
                return 1
            return len(pools[name].items)
        min_days = node.get("min_days")
        if min_days is not None and (
            isinstance(min_days, bool) or not isinstance(min_days, int) or min_days < 1
        ):
            self.add(f"{at}.min_days", "条件の就業日数（min_days）は1以上の整数で入力してください")
        key = "of" if kind == "at_least" else kind
        children = node.get(key)
        if not isinstance(children, list) or not children:
            self.add(f"{at}.{key}", f"レベル{number}の保有資格の条件に資格が1つもありません")
            return 1
        count = sum(
            self.node(child, f"{at}.{key}.{i}", number, pools, in_list=True)
            for i, child in enumerate(children)
        )
        if kind == "at_least":
            k = node["at_least"]
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                self.add(f"{at}.at_least", "「○つ以上」の数は1以上の整数で入力してください")
            elif k > count:
                self.add(
                    f"{at}.at_least",
                    f"「{k}つ以上」は、選べる資格の数（{count}）以下にしてください",
                )
        return 1


# --------------------------------------------------------------------------- unreadable input


def _known_field(loc: Sequence[str | int]) -> str | None:
    """The message of a field whose meaning the path tells (else by the error's type)."""
    parts = [str(p) for p in loc]
    if "levels" in parts:
        parts = parts[parts.index("levels") :]  # e.g. body.table.levels.3.days
        if len(parts) == 3 and parts[2] == "days":
            return f"レベル{parts[1]}の就業日数は0以上の整数で入力してください"
        if len(parts) == 4 and parts[2] == "foreman":
            if parts[3] == "days":
                return f"レベル{parts[1]}の職長日数は1以上の整数で入力してください"
            if parts[3] == "scope":
                return (
                    f"レベル{parts[1]}の職長の区分は"
                    "「職長」または「職長又は班長」から選んでください"
                )
        if parts[-1] == "[key]":
            return "レベルは2・3・4の数字で入力してください"
    if len(parts) >= 2 and parts[-2] == "codes":
        return '資格コードは引用符で囲んだ5桁の数字（"40040" など）で入力してください'
    if parts and parts[-1] == "effective_from":
        return "適用開始日は日付（YYYY-MM-DD）で入力してください"
    return None


_BY_TYPE: dict[str, str] = {
    "missing": "この項目を入力してください",
    "extra_forbidden": "この項目は使えません",
    "int_type": "整数で入力してください",
    "int_parsing": "整数で入力してください",
    "int_from_float": "整数で入力してください",
    "string_type": "文字で入力してください",
    "bool_type": "true または false で入力してください",
    "date_type": "日付（YYYY-MM-DD）で入力してください",
    "date_parsing": "日付（YYYY-MM-DD）で入力してください",
    "date_from_datetime_parsing": "日付（YYYY-MM-DD）で入力してください",
    "date_from_datetime_inexact": "日付（YYYY-MM-DD）で入力してください",
    "dict_type": "項目と値の組（マッピング）で入力してください",
    "model_type": "項目と値の組（マッピング）で入力してください",
    "model_attributes_type": "項目と値の組（マッピング）で入力してください",
    "list_type": "一覧（リスト）で入力してください",
    "greater_than_equal": "値が小さすぎます",
    "less_than_equal": "値が大きすぎます",
    "string_too_short": "この項目を入力してください",
}


def structure_problems(
    errors: Sequence[Mapping[str, Any]], prefix: Sequence[str | int] = ()
) -> list[Problem]:
    """pydantic errors of a draft's content (wrong types, unknown fields …) as problems."""
    found: list[Problem] = []
    for error in errors:
        loc = [*prefix, *error.get("loc", ())]
        kind = str(error.get("type", ""))
        path = ".".join(str(p) for p in loc)
        if kind == "value_error":
            cause = (error.get("ctx") or {}).get("error")
            message = str(cause) if cause is not None else "入力内容が正しくありません"
        elif kind in ("string_too_long", "too_long"):
            limit = (error.get("ctx") or {}).get("max_length")
            unit = "文字" if kind == "string_too_long" else "個"
            message = f"{limit}{unit}以内で入力してください"
        elif kind in ("string_unicode", "string_sub_type"):
            message = "使用できない文字が含まれています"
        elif kind == "extra_forbidden":
            message = f"項目「{loc[-1] if loc else ''}」は使えません"
        else:
            known = _known_field([p for p in error.get("loc", ()) if p != "body"])
            message = known or _BY_TYPE.get(kind, "入力内容が正しくありません")
        problem = Problem(path=path, message_ja=message)
        if problem not in found:
            found.append(problem)
    return found


def check_draft(
    table: TableDraft,
    new_qualifications: Sequence[QualificationDraft],
    *,
    trade: str,
    effective_from: date,
    revision: int,
    new_version: bool,
    today: date,
    master: Master,
    documents: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[Problem]:
    """Every problem of a draft against the master in force (``master``, built from
    ``documents`` plus the table the draft replaces, which ``documents`` leave out)."""
    checker = _Checker(master, new_qualifications)
    if new_version and effective_from < today:
        checker.add(
            "effective_from",
            f"新しい版の適用開始日は今日（{today.isoformat()}）以降の日付にしてください",
        )
    checker.qualifications(new_qualifications)
    checker.table(table)
    if checker.problems:
        return checker.problems
    # the master's own load-time validation, on the master with the draft applied
    document = table_document_of(table, trade, effective_from, revision)
    try:
        TableSpec.model_validate(document)
    except ValidationError as exc:
        return [
            Problem(
                path=".".join(str(p) for p in error["loc"]),
                message_ja="この項目の値が正しくありません",
            )
            for error in exc.errors()
        ]
    draft: dict[str, Any] = {"tables": [document]}
    if new_qualifications:
        draft["qualifications"] = [
            q.model_dump(mode="json", exclude_none=True) for q in new_qualifications
        ]
    try:
        build_master([*documents, (DRAFT_SOURCE, draft)])
    except MasterError as exc:
        return [Problem(path="", message_ja=f"基準マスタとして読み込めません（{exc}）")]
    return []


# --------------------------------------------------------------------------- differences

ChangeKind = Literal["added", "removed", "changed"]
CHANGE_JA: dict[str, str] = {"added": "追加", "removed": "削除", "changed": "変更"}
CRITERION_JA: dict[str, str] = {
    "days": "就業日数",
    "foreman": "職長・班長としての就業日数",
    "qualifications": "保有資格",
    "source": "出典",
    "provisional": "暫定の基準",
    "notes": "備考",
    "catalogue": "資格カタログ",
}


class Change(BaseModel):
    """One difference: ``before``/``after`` as the criteria read (null: not there)."""

    model_config = ConfigDict(frozen=True)

    level: int | None
    criterion: str
    criterion_ja: str
    before: str | None
    after: str | None
    change: ChangeKind
    change_ja: str
    summary_ja: str
    items_added: list[str] = Field(default_factory=list)
    items_removed: list[str] = Field(default_factory=list)


def _compile(value: JsonValue, pools: Mapping[str, PoolDraft]) -> list[Node] | None:
    """A condition as the engine labels it (unknown names allowed); None if unreadable."""
    if isinstance(value, str):
        return [Leaf.of(value)]
    if not isinstance(value, dict):
        return None
    label = value.get("label")
    text = label if isinstance(label, str) else None
    min_days = value.get("min_days")
    days = min_days if isinstance(min_days, int) and not isinstance(min_days, bool) else None
    if isinstance(value.get("item"), str):
        return [Leaf.of(str(value["item"]), text)]
    if "pool" in value:
        pool = pools.get(str(value["pool"]))
        return None if pool is None else [Leaf.of(name) for name in pool.items]
    for key in ("all_of", "any_of", "of"):
        children = value.get(key)
        if isinstance(children, list) and children:
            parts: list[Node] = []
            for child in children:
                compiled = _compile(child, pools)
                if compiled is None:
                    return None
                parts.extend(compiled)
            if key == "all_of":
                return [AllOf.of(tuple(parts), days, text)]
            if key == "any_of":
                return [AnyOf.of(tuple(parts), days, text)]
            k = value.get("at_least")
            if isinstance(k, int) and not isinstance(k, bool):
                return [AtLeast.of(k, tuple(parts), days, text)]
    return None


def _tree_text(
    level: LevelDraft, pools: Mapping[str, PoolDraft]
) -> tuple[str | None, frozenset[str]]:
    if level.qualifications is None:
        return None, frozenset()
    compiled = _compile(level.qualifications, pools)
    if compiled is None or len(compiled) != 1:
        return "（形式が正しくない条件）", frozenset()
    return compiled[0].label, compiled[0].items


def _days_text(days: int | None) -> str | None:
    return None if days is None else f"{days:,}日"


def _foreman_text(level: LevelDraft) -> str | None:
    foreman = level.foreman
    if foreman is None:
        return None
    days = "?" if foreman.days is None else f"{foreman.days:,}"
    return f"{foreman.scope or '職長'}として{days}日以上"


def _quoted(names: Sequence[str]) -> str:
    return "、".join(f"「{n}」" for n in names)


def _entry(
    level: int | None,
    criterion: str,
    before: str | None,
    after: str | None,
    *,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
) -> Change | None:
    if before == after and not added and not removed:
        return None
    kind: ChangeKind = "added" if before is None else "removed" if after is None else "changed"
    where = f"レベル{level}の" if level is not None else ""
    name = CRITERION_JA[criterion]
    if kind == "added":
        summary = f"{where}{name}を追加：{after}"
    elif kind == "removed":
        summary = f"{where}{name}を削除（{before}）"
    elif added or removed:
        parts = []
        if added:
            parts.append(f"{_quoted(added)}を追加")
        if removed:
            parts.append(f"{_quoted(removed)}を削除")
        summary = f"{where}{name}：{'、'.join(parts)}"
    else:
        summary = f"{where}{name}：{before} → {after}"
    return Change(
        level=level,
        criterion=criterion,
        criterion_ja=name,
        before=before,
        after=after,
        change=kind,
        change_ja=CHANGE_JA[kind],
        summary_ja=summary,
        items_added=list(added),
        items_removed=list(removed),
    )


def _item_text(item: QualificationDraft) -> str:
    details = []
    if item.codes:
        details.append(f"資格コード {'・'.join(item.codes)}")
    if item.category:
        details.append(f"区分 {item.category}")
    return f"{item.name}（{'、'.join(details)}）" if details else item.name


def diff(
    before: TableDraft | None,
    after: TableDraft,
    new_qualifications: Sequence[QualificationDraft] = (),
) -> list[Change]:
    """What ``after`` changes against ``before`` (``None``: nothing published to compare
    with), level by level, then the table's own fields and the new catalogue items."""
    old = before or TableDraft()
    changes: list[Change | None] = []
    for number in sorted(set(old.levels) | set(after.levels)):
        was = old.levels.get(number)
        now = after.levels.get(number)
        was_tree, was_items = _tree_text(was, old.pools) if was else (None, frozenset())
        now_tree, now_items = _tree_text(now, after.pools) if now else (None, frozenset())
        both = was is not None and now is not None
        changes += [
            _entry(
                number,
                "days",
                _days_text(was.days) if was else None,
                _days_text(now.days) if now else None,
            ),
            _entry(
                number,
                "foreman",
                _foreman_text(was) if was else None,
                _foreman_text(now) if now else None,
            ),
            _entry(
                number,
                "qualifications",
                was_tree,
                now_tree,
                added=sorted(now_items - was_items) if both and was_tree and now_tree else (),
                removed=sorted(was_items - now_items) if both and was_tree and now_tree else (),
            ),
        ]
    changes += [
        _entry(None, "source", old.source, after.source) if before else None,
        _entry(
            None,
            "provisional",
            "はい" if old.provisional else "いいえ",
            "はい" if after.provisional else "いいえ",
        )
        if before
        else None,
        _entry(None, "notes", old.notes, after.notes) if before else None,
    ]
    for item in new_qualifications:
        changes.append(_entry(None, "catalogue", None, _item_text(item)))
    return [c for c in changes if c is not None]
