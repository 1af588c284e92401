"""基準管理 (criteria administration) pages: pure helpers, no I/O (docs/criteria-admin.md).

* how versions, statuses and audit actions read (「鉄筋（2019年10月8日施行）」, never the
  internal version id ``鉄筋@2019-10-08``);
* a qualification tree as the official criteria read it (``tree_view``: ● any one, ・ all,
  ○ at least k, with CCUS codes), from the judgement service's tree or a draft's raw table;
* the structured draft form (:class:`TableForm`): built from a draft's table, or from the
  posted form fields, changed by the form's buttons (add an item found in the catalogue,
  remove a node, add a group …) without JavaScript, and turned back into the API's
  ``{table, new_qualifications}``;
* where each of the service's ``problems`` (``levels.3.qualifications.any_of.1.at_least``)
  is shown on that form (:func:`place_problems`).

The portal holds no business rule: every check is the judgement service's; numbers are only
normalised (full-width digits, thousands separators) before they are sent, and anything
that does not read as a number is sent as typed, so that the service's Japanese message
lands next to the field.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.core.formatting import (
    CRITERIA_VERSION_ID,
    criteria_version_ja,
    criteria_version_name,
)

LEVELS = (2, 3, 4)
VERSION_ID = CRITERIA_VERSION_ID  # the one pattern (core.formatting)
TRADE_STATUS_JA = {"judgeable": "判定可", "partial": "一部", "none": "未登録"}
TRADE_STATUS_HINT = {
    "judgeable": "判定基準が適用中で、判定できます",
    "partial": "一部の基準だけが分かっています（判定できません）",
    "none": "判定基準が登録されていません",
}
DRAFT_STATUS_JA = {
    "draft": "下書き",
    "submitted": "承認待ち",
    "approved": "承認済み（公開）",
    "returned": "差戻し",
    "withdrawn": "取下げ",
}
AUDIT_ACTION_JA = {
    "draft_created": "下書きの作成",
    "draft_saved": "下書きの保存",
    "submitted": "承認依頼",
    "withdrawn": "取下げ",
    "returned": "差戻し",
    "approved": "承認",
    "published": "公開",
    "impact_started": "影響確認の開始",
}
ROLE_JA = {"criteria_editor": "基準編集者", "criteria_approver": "基準承認者"}
GROUP_KINDS = ("all_of", "any_of", "at_least")
GROUP_KIND_JA = {
    "all_of": "次のすべて（・）",
    "any_of": "次のいずれか1つ（●）",
    "at_least": "次のうち指定の数以上（○）",
}
MARK = {"all_of": "・", "any_of": "●", "at_least": "○"}
FOREMAN_SCOPES = ("職長", "職長又は班長")
CATEGORIES = (
    "技能士",
    "施工管理技士",
    "免許・資格",
    "技能講習",
    "特別教育",
    "安全衛生教育",
    "表彰",
    "登録基幹技能者",
    "その他",
)
QUALIFICATION_FIELDS = ("name", "codes", "aliases", "category", "includes", "supersedes", "notes")
LIST_FIELDS = ("codes", "aliases", "includes", "supersedes")
_LIST_SPLIT = re.compile(r"[,、，\n\r]+")


# --------------------------------------------------------------------------- wording


# one wording of a criteria version for every screen (``core.formatting``)
version_name = criteria_version_name
version_label = criteria_version_ja


_VERSION_IN_TEXT = re.compile(r"([^\s　→「」（）、／:：]+)@(\d{4}-\d{2}-\d{2})(?:-r(\d+))?")


def relabel(text: Any) -> str:
    """A text of the service with its version ids as staff read them:
    「判定基準 判定基準なし → 型枠@2026-12-08」 → 「… → 型枠（2026年12月8日施行）」."""
    if text is None:
        return ""
    return _VERSION_IN_TEXT.sub(lambda m: version_name(m[1], m[2], m[3] or 1), str(text))


def number(value: Any) -> str:
    """``12345`` → ``12,345``; anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def trade_status_ja(status: Any) -> str:
    return TRADE_STATUS_JA.get(str(status), str(status or ""))


def draft_kind_ja(draft: Mapping[str, Any]) -> str:
    """「新しい版」 or 「鉄筋（2019年10月8日施行）の訂正」."""
    corrects = draft.get("corrects")
    if corrects:
        return f"{version_label(corrects)}の訂正"
    return "新しい版"


# --------------------------------------------------------------------------- reading a tree


Catalogue = Mapping[str, Mapping[str, Any]]


def catalogue_of(
    items: Iterable[Mapping[str, Any]], proposed: Iterable[Mapping[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
    """name → ``{codes, category, proposed}`` from ``GET /criteria/qualifications`` and the
    draft's proposed new qualifications."""
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        name = str(item.get("name") or "")
        if name:
            found[name] = {
                "codes": list(item.get("codes") or []),
                "category": item.get("category"),
                "aliases": list(item.get("aliases") or []),
                "proposed": False,
            }
    for item in proposed:
        name = str(item.get("name") or "").strip()
        if name and name not in found:
            found[name] = {
                "codes": [c for c in item.get("codes") or [] if c],
                "category": item.get("category"),
                "aliases": list(item.get("aliases") or []),
                "proposed": True,
            }
    return found


def tree_view(
    node: Any, pools: Mapping[str, Sequence[str]] | None = None, catalogue: Catalogue | None = None
) -> dict[str, Any] | None:
    """A condition as the criteria read it, in the shape of the service's trade view:
    ``{kind: all_of|any_of|at_least, min_days, at_least, label, children}`` down to
    ``{kind: item, item, codes, category, known, proposed}``; a pool's items in its place;
    ``{kind: raw, text}`` for what cannot be read. Accepts the service's view (with
    ``kind``) and a draft's raw table (strings, ``{all_of: […]}`` …)."""
    pools = pools or {}
    catalogue = catalogue or {}

    def item(name: str, codes: Sequence[str] | None = None) -> dict[str, Any]:
        known = catalogue.get(name)
        return {
            "kind": "item",
            "item": name,
            "codes": list(codes if codes is not None else (known or {}).get("codes") or []),
            "category": (known or {}).get("category"),
            "known": known is not None or codes is not None,
            "proposed": bool(known and known.get("proposed")),
        }

    def walk(value: Any) -> list[dict[str, Any]]:
        if isinstance(value, str):
            return [item(value)]
        if not isinstance(value, dict):
            return [{"kind": "raw", "text": json.dumps(value, ensure_ascii=False)}]
        kind = value.get("kind")
        if kind == "item":  # the service's view
            codes = value.get("codes")
            return [item(str(value.get("item")), codes if isinstance(codes, list) else None)]
        if kind in GROUP_KINDS:
            children = [c for child in value.get("children") or [] for c in walk(child)]
            return [_group(kind, value.get("min_days"), value.get("at_least"), children)]
        if isinstance(value.get("item"), str):
            return [item(value["item"])]
        if "pool" in value:
            members = pools.get(str(value["pool"]))
            if members is None:
                return [{"kind": "raw", "text": f"プール「{value['pool']}」（ありません）"}]
            return [item(str(name)) for name in members]
        for key, group in (("all_of", "all_of"), ("any_of", "any_of"), ("of", "at_least")):
            if key in value:
                parts = value[key] if isinstance(value[key], list) else []
                children = [c for child in parts for c in walk(child)]
                return [_group(group, value.get("min_days"), value.get("at_least"), children)]
        return [{"kind": "raw", "text": json.dumps(value, ensure_ascii=False)}]

    if node is None:
        return None
    found = walk(node)
    if len(found) == 1:
        return found[0]
    return _group("all_of", None, None, found)


def _group(
    kind: str, min_days: Any, at_least: Any, children: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "min_days": min_days
        if isinstance(min_days, int) and not isinstance(min_days, bool)
        else None,
        "at_least": at_least if kind == "at_least" else None,
        "children": children,
    }


def pools_of(table: Mapping[str, Any]) -> dict[str, list[str]]:
    pools = table.get("pools") or {}
    if not isinstance(pools, dict):
        return {}
    return {
        str(name): [str(i) for i in (pool or {}).get("items") or []]
        for name, pool in pools.items()
        if isinstance(pool, dict)
    }


def levels_view(table: Mapping[str, Any], catalogue: Catalogue) -> list[dict[str, Any]]:
    """A draft's raw table as rows like the service's trade view (``level``, ``days``,
    ``foreman_scope``, ``foreman_days``, ``qualifications``), levels in order."""
    levels = table.get("levels") or {}
    pools = pools_of(table)
    rows = []
    for key in sorted(levels, key=_level_number):
        level = levels[key] or {}
        foreman = level.get("foreman") or {}
        rows.append(
            {
                "level": _level_number(key),
                "days": level.get("days"),
                "foreman_scope": foreman.get("scope"),
                "foreman_days": foreman.get("days") if foreman else None,
                "qualifications": tree_view(level.get("qualifications"), pools, catalogue),
                "provisional": bool(level.get("provisional")),
                "notes": level.get("notes"),
            }
        )
    return rows


def _level_number(key: Any) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        return 0


def days_text(days: Any) -> str:
    if isinstance(days, bool) or not isinstance(days, int):
        return "" if days is None else str(days)
    return f"{days:,}日"


# --------------------------------------------------------------------------- the draft form


@dataclass
class NodeForm:
    """One condition of a qualification tree, its values as typed."""

    kind: str  # all_of, any_of, at_least, item, pool, raw
    item: str = ""
    label: str = ""
    pool: str = ""
    at_least: str = ""
    min_days: str = ""
    raw: str = ""
    children: list[NodeForm] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS


@dataclass
class LevelForm:
    number: int
    days: str = ""
    foreman_scope: str = ""
    foreman_days: str = ""
    qualifications: NodeForm | None = None
    provisional: bool = False
    notes: str = ""

    @property
    def empty(self) -> bool:
        return not (
            self.days.strip()
            or self.foreman_scope
            or self.foreman_days.strip()
            or self.qualifications is not None
            or self.provisional
            or self.notes.strip()
        )


@dataclass
class PoolForm:
    name: str
    items: list[str] = field(default_factory=list)


@dataclass
class QualificationForm:
    name: str = ""
    codes: str = ""
    aliases: str = ""
    category: str = ""
    includes: str = ""
    supersedes: str = ""
    notes: str = ""

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f).strip() for f in QUALIFICATION_FIELDS)

    def as_item(self) -> dict[str, Any]:
        return {
            "name": self.name.strip(),
            "codes": split_list(self.codes),
            "category": self.category,
        }


@dataclass
class TableForm:
    """The structured draft form: everything a draft's content holds, as typed."""

    version: str = ""
    effective_from: str = ""
    source: str = ""
    source_urls: str = ""
    provisional: bool = False
    notes: str = ""
    pools: list[PoolForm] = field(default_factory=list)
    levels: dict[int, LevelForm] = field(default_factory=dict)
    new_qualifications: list[QualificationForm] = field(default_factory=list)
    searches: dict[str, str] = field(default_factory=dict)  # container id → search text

    def __post_init__(self) -> None:
        for number in LEVELS:
            self.levels.setdefault(number, LevelForm(number))
        self.levels = dict(sorted(self.levels.items()))

    # --- building -----------------------------------------------------------------------

    @classmethod
    def from_draft(cls, draft: Mapping[str, Any]) -> TableForm:
        """The form of a draft as the service answers it (``table``, ``new_qualifications``,
        ``version``, ``effective_from``)."""
        form = cls.from_content(draft.get("table") or {}, draft.get("new_qualifications") or [])
        form.version = str(draft.get("version", ""))
        form.effective_from = str(draft.get("effective_from") or "")
        return form

    @classmethod
    def from_content(
        cls, table: Mapping[str, Any], new_qualifications: Sequence[Mapping[str, Any]]
    ) -> TableForm:
        levels: dict[int, LevelForm] = {}
        for key, level in (table.get("levels") or {}).items():
            number = _level_number(key)
            level = level or {}
            foreman = level.get("foreman") or {}
            tree = level.get("qualifications")
            levels[number] = LevelForm(
                number,
                days=_text(level.get("days")),
                foreman_scope=str(foreman.get("scope") or ""),
                foreman_days=_text(foreman.get("days")),
                qualifications=node_form(tree, root=True) if tree is not None else None,
                provisional=bool(level.get("provisional")),
                notes=str(level.get("notes") or ""),
            )
        return cls(
            source=str(table.get("source") or ""),
            source_urls="\n".join(str(u) for u in table.get("source_urls") or []),
            provisional=bool(table.get("provisional")),
            notes=str(table.get("notes") or ""),
            pools=[PoolForm(name, items) for name, items in pools_of(table).items()],
            levels=levels,
            new_qualifications=[
                QualificationForm(
                    name=str(q.get("name") or ""),
                    codes="、".join(str(c) for c in q.get("codes") or []),
                    aliases="、".join(str(c) for c in q.get("aliases") or []),
                    category=str(q.get("category") or ""),
                    includes="、".join(str(c) for c in q.get("includes") or []),
                    supersedes="、".join(str(c) for c in q.get("supersedes") or []),
                    notes=str(q.get("notes") or ""),
                )
                for q in new_qualifications
            ],
        )

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> TableForm:
        """The form as posted (the names :meth:`field_ids` lists)."""
        levels: dict[int, LevelForm] = {}
        numbers = {
            int(m[1]) for key in fields if (m := re.match(r"^levels\.(-?\d+)\.", key)) is not None
        }
        for number in numbers:
            at = f"levels.{number}"
            root = f"{at}.qualifications"
            levels[number] = LevelForm(
                number,
                days=fields.get(f"{at}.days", ""),
                foreman_scope=fields.get(f"{at}.foreman.scope", ""),
                foreman_days=fields.get(f"{at}.foreman.days", ""),
                qualifications=_posted_node(fields, root) if f"{root}.kind" in fields else None,
                provisional=_checked(fields.get(f"{at}.provisional")),
                notes=fields.get(f"{at}.notes", ""),
            )
        pools = []
        for p in _indexes(fields, "pools"):
            at = f"pools.{p}"
            items = [fields[f"{at}.items.{j}"] for j in _indexes(fields, f"{at}.items")]
            pools.append(PoolForm(fields.get(f"{at}.name", ""), items))
        qualifications = [
            QualificationForm(
                **{f: fields.get(f"new_qualifications.{i}.{f}", "") for f in QUALIFICATION_FIELDS}
            )
            for i in _indexes(fields, "new_qualifications")
        ]
        searches = {
            key[len("find.") :]: value
            for key, value in fields.items()
            if key.startswith("find.") and value.strip()
        }
        return cls(
            version=fields.get("version", ""),
            effective_from=fields.get("effective_from", ""),
            source=fields.get("source", ""),
            source_urls=fields.get("source_urls", ""),
            provisional=_checked(fields.get("provisional")),
            notes=fields.get("notes", ""),
            pools=pools,
            levels=levels,
            new_qualifications=qualifications,
            searches=searches,
        )

    # --- the API body ---------------------------------------------------------------------

    def table(self) -> dict[str, Any]:
        """The draft's ``table`` for ``POST``/``PUT /criteria/drafts``."""
        levels: dict[str, Any] = {}
        for number, level in self.levels.items():
            if level.empty:
                continue
            body: dict[str, Any] = {"days": number_of(level.days)}
            if level.foreman_scope or level.foreman_days.strip():
                body["foreman"] = {
                    "scope": level.foreman_scope or None,
                    "days": number_of(level.foreman_days),
                }
            if level.qualifications is not None:
                body["qualifications"] = node_json(level.qualifications)
            if level.provisional:
                body["provisional"] = True
            if level.notes.strip():
                body["notes"] = level.notes.strip()
            levels[str(number)] = body
        table: dict[str, Any] = {
            "source": self.source.strip() or None,
            "source_urls": [u.strip() for u in self.source_urls.splitlines() if u.strip()],
            "provisional": self.provisional,
            "notes": self.notes.strip() or None,
            "pools": {p.name: {"items": list(p.items)} for p in self.pools},
            "levels": levels,
        }
        return table

    def qualifications(self) -> list[dict[str, Any]]:
        """The draft's ``new_qualifications`` (empty rows left out)."""
        found = []
        for q in self.new_qualifications:
            if q.empty:
                continue
            item: dict[str, Any] = {"name": q.name.strip()}
            for name in LIST_FIELDS:
                item[name] = split_list(getattr(q, name))
            item["category"] = q.category.strip() or None
            if q.notes.strip():
                item["notes"] = q.notes.strip()
            found.append(item)
        return found

    # --- what the form shows --------------------------------------------------------------

    def flat(self) -> dict[str, str]:
        """The plain text fields by their names (what the form's inputs show)."""
        values = {
            "version": self.version,
            "effective_from": self.effective_from,
            "source": self.source,
            "source_urls": self.source_urls,
            "notes": self.notes,
        }
        for number, level in self.levels.items():
            at = f"levels.{number}"
            values[f"{at}.days"] = level.days
            values[f"{at}.foreman.scope"] = level.foreman_scope
            values[f"{at}.foreman.days"] = level.foreman_days
            values[f"{at}.notes"] = level.notes
        for p, pool in enumerate(self.pools):
            values[f"pools.{p}.name"] = pool.name
        for i, q in enumerate(self.new_qualifications):
            for name in QUALIFICATION_FIELDS:
                values[f"new_qualifications.{i}.{name}"] = getattr(q, name)
        return values

    def nodes(self) -> Iterable[tuple[str, NodeForm]]:
        """Every tree node with its id (``levels.3.qualifications.c.0`` …)."""

        def walk(node: NodeForm, at: str) -> Iterable[tuple[str, NodeForm]]:
            yield at, node
            for i, child in enumerate(node.children):
                yield from walk(child, f"{at}.c.{i}")

        for number, level in self.levels.items():
            if level.qualifications is not None:
                yield from walk(level.qualifications, f"levels.{number}.qualifications")

    def field_ids(self) -> set[str]:
        """Every place of the form a problem can be shown at."""
        ids = {"effective_from", "source", "source_urls", "provisional", "notes", "pools"}
        ids.add("new_qualifications")
        for number in self.levels:
            at = f"levels.{number}"
            ids |= {at, f"{at}.days", f"{at}.foreman", f"{at}.foreman.scope", f"{at}.foreman.days"}
            ids |= {f"{at}.notes", f"{at}.provisional", f"{at}.qualifications"}
        for at, node in self.nodes():
            ids.add(at)
            if node.is_group:
                ids |= {f"{at}.kind", f"{at}.at_least", f"{at}.min_days", f"{at}.label"}
        for p, pool in enumerate(self.pools):
            ids |= {f"pools.{p}", f"pools.{p}.name", f"pools.{p}.items"}
            ids |= {f"pools.{p}.items.{j}" for j in range(len(pool.items))}
        for i in range(len(self.new_qualifications)):
            ids.add(f"new_qualifications.{i}")
            ids |= {f"new_qualifications.{i}.{f}" for f in QUALIFICATION_FIELDS}
        return ids

    def pool_names(self) -> list[str]:
        return [p.name for p in self.pools if p.name]

    def proposals(self) -> list[dict[str, Any]]:
        return [q.as_item() for q in self.new_qualifications if q.name.strip()]

    # --- the buttons ----------------------------------------------------------------------

    def apply(self, action: str, fields: Mapping[str, str]) -> str | None:
        """Carry out one of the form's structural buttons; a Japanese note of what was done
        (or why not), ``None`` when ``action`` is not structural."""
        verb, _, rest = action.partition("|")
        target, _, argument = rest.partition("|")
        if verb == "search":
            return None if not self.searches.get(target) else "検索結果を表示しました。"
        if verb == "add" and argument:
            return self._add_item(target, argument)
        if verb == "remove":
            return self._remove(target)
        if verb == "root":
            level = self.levels.get(_level_number(target))
            if level is None:
                return None
            if level.qualifications is None:
                level.qualifications = NodeForm("all_of")
            return f"レベル{level.number}に保有資格の条件を追加しました。"
        if verb == "group":
            group = self.node(target)
            if group is None or not group.is_group:
                return None
            group.children.append(NodeForm("any_of"))
            return "条件のグループを追加しました。種類を選び、資格を追加してください。"
        if verb == "addpool":
            group = self.node(target)
            name = fields.get(f"pick.{target}", "")
            if group is None or not group.is_group or name not in self.pool_names():
                return "追加するプールを選んでください。"
            group.children.append(NodeForm("pool", pool=name))
            return f"プール「{name}」を条件に追加しました。"
        if verb == "newpool":
            name = fields.get("newpool.name", "").strip()
            if not name:
                return "プールの名前を入力してください。"
            if name in self.pool_names():
                return f"プール「{name}」はすでにあります。"
            self.pools.append(PoolForm(name))
            return f"プール「{name}」を追加しました。資格を追加してください。"
        if verb == "removepool":
            index = _pool_id(target)
            if index is None or index >= len(self.pools):
                return None
            removed = self.pools.pop(index)
            return f"プール「{removed.name}」を削除しました。"
        if verb == "newqual":
            self.new_qualifications.append(QualificationForm())
            return "新しい資格の入力欄を追加しました。"
        if verb == "removequal":
            try:
                removed_q = self.new_qualifications.pop(int(target))
            except (ValueError, IndexError):
                return None
            return f"新しい資格「{removed_q.name}」の提案を削除しました。"
        return None

    def node(self, at: str) -> NodeForm | None:
        return dict(self.nodes()).get(at)

    def _add_item(self, target: str, name: str) -> str:
        self.searches.pop(target, None)
        index = _pool_id(target)
        if index is not None:
            if index >= len(self.pools):
                return "追加先のプールがありません。"
            pool = self.pools[index]
            if name in pool.items:
                return f"「{name}」はすでにプール「{pool.name}」にあります。"
            pool.items.append(name)
            return f"「{name}」をプール「{pool.name}」に追加しました。"
        group = self.node(target)
        if group is None or not group.is_group:
            return "追加先の条件がありません。"
        group.children.append(NodeForm("item", item=name))
        return f"「{name}」を追加しました。"

    def _remove(self, target: str) -> str | None:
        match = re.match(r"^pools\.(\d+)\.items\.(\d+)$", target)
        if match:
            p, j = int(match[1]), int(match[2])
            if p < len(self.pools) and j < len(self.pools[p].items):
                name = self.pools[p].items.pop(j)
                return f"「{name}」をプールから削除しました。"
            return None
        match = re.match(r"^levels\.(-?\d+)\.qualifications$", target)
        if match:
            level = self.levels.get(int(match[1]))
            if level is None or level.qualifications is None:
                return None
            level.qualifications = None
            return f"レベル{level.number}の保有資格の条件を削除しました。"
        parent_id, _, index = target.rpartition(".c.")
        parent = self.node(parent_id) if parent_id else None
        if parent is None or not index.isdigit() or int(index) >= len(parent.children):
            return None
        removed = parent.children.pop(int(index))
        what = f"「{removed.item}」" if removed.kind == "item" else "条件"
        return f"{what}を削除しました。"


def node_form(value: Any, root: bool = False) -> NodeForm:
    """A raw tree node of a draft as a form node (a root item becomes a group of one)."""
    if isinstance(value, str):
        leaf = NodeForm("item", item=value)
        return NodeForm("all_of", children=[leaf]) if root else leaf
    if isinstance(value, dict):
        if (
            isinstance(value.get("item"), str)
            and len(value) <= 2
            and set(value) <= {"item", "label"}
        ):
            leaf = NodeForm("item", item=value["item"], label=_text(value.get("label")))
            return NodeForm("all_of", children=[leaf]) if root else leaf
        if set(value) == {"pool"} and isinstance(value["pool"], str) and not root:
            return NodeForm("pool", pool=value["pool"])
        for key, kind in (("all_of", "all_of"), ("any_of", "any_of"), ("of", "at_least")):
            children = value.get(key)
            allowed = {key, "min_days", "label"} | ({"at_least"} if kind == "at_least" else set())
            if isinstance(children, list) and set(value) <= allowed:
                if kind == "at_least" and "at_least" not in value:
                    break
                return NodeForm(
                    kind,
                    at_least=_text(value.get("at_least")),
                    min_days=_text(value.get("min_days")),
                    label=_text(value.get("label")),
                    children=[node_form(c) for c in children],
                )
    return NodeForm("raw", raw=json.dumps(value, ensure_ascii=False))


def node_json(node: NodeForm) -> Any:
    """A form node as the draft's raw tree."""
    if node.kind == "item":
        return {"item": node.item, "label": node.label} if node.label.strip() else node.item
    if node.kind == "pool":
        return {"pool": node.pool}
    if node.kind == "raw":
        try:
            return json.loads(node.raw)
        except ValueError:
            return node.raw
    key = {"all_of": "all_of", "any_of": "any_of", "at_least": "of"}.get(node.kind, "all_of")
    body: dict[str, Any] = {}
    if node.kind == "at_least":
        body["at_least"] = number_of(node.at_least)
    body[key] = [node_json(c) for c in node.children]
    if node.min_days.strip():
        body["min_days"] = number_of(node.min_days)
    if node.label.strip():
        body["label"] = node.label.strip()
    return body


def _posted_node(fields: Mapping[str, str], at: str) -> NodeForm:
    kind = fields.get(f"{at}.kind", "all_of")
    children = [_posted_node(fields, f"{at}.c.{i}") for i in _indexes(fields, f"{at}.c", "kind")]
    return NodeForm(
        kind if kind in (*GROUP_KINDS, "item", "pool", "raw") else "all_of",
        item=fields.get(f"{at}.item", ""),
        label=fields.get(f"{at}.label", ""),
        pool=fields.get(f"{at}.pool", ""),
        at_least=fields.get(f"{at}.at_least", ""),
        min_days=fields.get(f"{at}.min_days", ""),
        raw=fields.get(f"{at}.raw", ""),
        children=children if kind in GROUP_KINDS else [],
    )


def _indexes(fields: Mapping[str, str], prefix: str, leaf: str | None = None) -> list[int]:
    """The row numbers posted under ``prefix`` (``prefix.<n>.…``, or ``prefix.<n>``), in order;
    with ``leaf``, only rows with ``prefix.<n>.<leaf>``."""
    if leaf is not None:
        pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.{re.escape(leaf)}$")
    else:
        pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)(?:\.|$)")
    return sorted({int(m[1]) for key in fields if (m := pattern.match(key)) is not None})


def _pool_id(target: str) -> int | None:
    match = re.match(r"^pools\.(\d+)$", target)
    return int(match[1]) if match else None


def _checked(value: str | None) -> bool:
    return (value or "") in ("on", "true", "1", "yes")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def number_of(text: str) -> int | str | None:
    """A number as typed: ``""`` → None, 「１，５０５」 → 1505; anything else as typed (the
    service answers with a Japanese message for the field)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    if re.fullmatch(r"-?\d{1,12}", cleaned):
        return int(cleaned)
    return text


def split_list(text: str) -> list[str]:
    """「40040、40041」 / one per line → ``["40040", "40041"]``."""
    return [p.strip() for p in _LIST_SPLIT.split(unicodedata.normalize("NFC", text)) if p.strip()]


# --------------------------------------------------------------------------- problems


def normalise_path(path: str, form: TableForm | None = None) -> str:
    """A problem's path as the form's field id: ``table.`` left out, tree children as
    ``.c.<n>``, a pool by its row (``pools.<name>.items.2`` → ``pools.0.items.2``)."""
    if path.startswith("table."):
        path = path[len("table.") :]
    path = re.sub(r"\.(?:all_of|any_of|of)\.(\d+)", r".c.\1", path)
    path = re.sub(r"\.(?:all_of|any_of|of)$", "", path)
    if form is not None and path.startswith("pools."):
        rest = path[len("pools.") :]
        for index, pool in sorted(enumerate(form.pools), key=lambda p: -len(p[1].name)):
            if rest == pool.name or rest.startswith(pool.name + "."):
                return f"pools.{index}{rest[len(pool.name) :]}"
    return path


def place_problems(
    problems: Iterable[Mapping[str, Any]], form: TableForm
) -> tuple[dict[str, str], list[str]]:
    """Each problem next to the field it names, or its nearest shown parent (a hidden item
    name → its row, ``levels.4`` → the level's fieldset); ``(by field, not placed)``."""
    known = form.field_ids()
    placed: dict[str, list[str]] = {}
    loose: list[str] = []
    for problem in problems:
        message = str(problem.get("message_ja") or problem.get("message") or "")
        if not message:
            continue
        path = normalise_path(str(problem.get("path") or ""), form)
        while path and path not in known:
            path = path.rpartition(".")[0]
        if path:
            if message not in placed.setdefault(path, []):
                placed[path].append(message)
        elif message not in loose:
            loose.append(message)
    return {k: "／".join(v) for k, v in placed.items()}, loose


def search_proposals(form: TableForm, query: str) -> list[dict[str, Any]]:
    """The draft's proposed new qualifications that match ``query`` (name or code)."""
    wanted = unicodedata.normalize("NFKC", query).strip()
    if not wanted:
        return []
    found = []
    for item in form.proposals():
        name = unicodedata.normalize("NFKC", str(item["name"]))
        if wanted in name or any(wanted in code for code in item["codes"]):
            found.append({**item, "proposed": True})
    return found


def diff_groups(changes: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The service's diff grouped for reading: per level (「レベル2」…), then 「表全体」."""
    groups: dict[int | None, list[Mapping[str, Any]]] = {}
    for change in changes:
        level = change.get("level")
        groups.setdefault(level if isinstance(level, int) else None, []).append(change)
    ordered = sorted(k for k in groups if k is not None)
    result: list[tuple[str, list[Mapping[str, Any]]]] = [(f"レベル{k}", groups[k]) for k in ordered]
    if None in groups:
        result.append(("表全体・資格カタログ", groups[None]))
    return result


def percent(done: Any, total: Any) -> int | None:
    try:
        d, t = int(done), int(total)
    except (TypeError, ValueError):
        return None
    if t <= 0:
        return 100 if d >= 0 else None
    return max(0, min(100, d * 100 // t))
