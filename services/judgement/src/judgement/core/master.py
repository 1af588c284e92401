"""The criteria master (基準マスタ): its file schema, and the compiled form the engine reads.

A master is made of one or more documents (YAML or JSON files, see
``judgement.criteria``). Every document has the shape of ``MasterDocument``: any of the
sections ``settings``, ``trades``, ``qualifications`` and ``tables``. ``build_master``
validates each document against the schema, merges them (settings key by key in load
order; everything else must be unique), checks every reference and precomputes the
lookups the engine needs (normalised names, the code index, the closure of 上位資格 and
「1級又は2級…」 items). Building is pure: reading the files is the loader's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from judgement.core.errors import CriteriaNotAvailable, MasterError, UnknownTrade
from judgement.core.normalise import normalise_code, normalise_name
from judgement.core.tree import AllOf, AnyOf, AtLeast, HoldingKind, Leaf, Node

# --------------------------------------------------------------------------- file schema

_SPEC = ConfigDict(extra="forbid", populate_by_name=True)

QualificationCode = Annotated[str, Field(pattern=r"^\d{5}$")]
OccupationCode = Annotated[str, Field(pattern=r"^\d{2}-\d{2}$")]
Category = Literal[
    "技能士",
    "施工管理技士",
    "免許・資格",
    "技能講習",
    "特別教育",
    "安全衛生教育",
    "表彰",
    "登録基幹技能者",
    "その他",
]
KIKAN_CATEGORY = "登録基幹技能者"
_NORMALISED_CACHE = 20_000


class NameReplacement(BaseModel):
    model_config = _SPEC

    from_: str = Field(alias="from", min_length=1)
    to: str


class SettingsSpec(BaseModel):
    """Named policies. Every key is required once all documents are merged."""

    model_config = _SPEC

    master_version: str | None = Field(
        default=None, description="Version of the master as a whole, e.g. 2026-12-01"
    )
    days_per_year: int | None = Field(default=None, gt=0, description="1年 = 215日")
    pre_ccus_days_formula: Literal["prorated_months"] | None = Field(
        default=None,
        description="prorated_months: days = months × days_per_year / 12, rounded",
    )
    pre_ccus_days_rounding: Literal["floor", "half_up", "ceil"] | None = None
    foreman_or_leader_conversion: Literal["combined_months", "sum_of_days"] | None = Field(
        default=None,
        description="combined_months: 職長+班長 months are added, then converted once",
    )
    declared_excess_cut_order: list[Literal["leader", "foreman"]] | None = Field(
        default=None,
        description="which declared period is cut first when 職長+班長 exceed the period",
    )
    career_end_cap_applies_from: date | None = Field(
        default=None, description="applications from this date cap the certified end"
    )
    career_end_cap: date | None = Field(default=None, description="the cap (2024-03-31)")
    career_certification_ignored_from: date | None = Field(
        default=None, description="applications from this date ignore the 経歴証明"
    )
    kikan_validity_years: int | None = Field(default=None, gt=0)
    supersedes_effective_from: date | None = Field(
        default=None, description="上位資格 relations apply to applications from this date"
    )
    undated_qualifications_count: bool | None = None
    other_codes: list[QualificationCode] | None = Field(
        default=None, description="CCUS その他 codes (a registration under them never counts)"
    )
    other_code_pattern: str | None = Field(
        default=None, description="regular expression for further その他 codes"
    )
    name_replacements: list[NameReplacement] | None = None

    @field_validator("other_code_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value


class BodySpec(BaseModel):
    """An evaluation body (能力評価実施団体)."""

    model_config = _SPEC

    name: str = Field(min_length=1, description="full name, never an abbreviation alone")
    confirmed: bool = True
    judged_by: str | None = Field(
        default=None, description="organisation that receives applications / judges for it"
    )
    note: str | None = None


class OccupationSpec(BaseModel):
    """A CCUS 職種 whose work counts for the trade (dated: the mapping changes over time)."""

    model_config = _SPEC

    code: OccupationCode
    name: str | None = None
    effective_from: date | None = None
    effective_until: date | None = None


class TradeSpec(BaseModel):
    """A 分野, whether or not its criteria are known."""

    model_config = _SPEC

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    title: str | None = Field(default=None, description="呼称, e.g. とび技能者")
    bodies: list[BodySpec] = Field(default_factory=list)
    applications_also_via: list[str] = Field(default_factory=list)
    in_force: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    in_force_qualifier: Literal["exact", "by", "approx"] = "exact"
    status: Literal["table", "partial", "none"]
    occupations: list[OccupationSpec] = Field(default_factory=list)
    notes: str | None = None
    sources: list[str] = Field(default_factory=list)


class QualificationSpec(BaseModel):
    """A catalogue item. ``includes`` makes it a 「1級又は2級…」-style item held through any
    of the listed items; ``supersedes`` lists the lower grades a holder also satisfies."""

    model_config = _SPEC

    name: str = Field(min_length=1)
    codes: list[QualificationCode] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    category: Category
    includes: list[str] = Field(default_factory=list)
    supersedes: list[str] = Field(default_factory=list)
    notes: str | None = None


class ItemNodeSpec(BaseModel):
    model_config = _SPEC

    item: str
    label: str | None = None


class PoolRefSpec(BaseModel):
    """Inside a list only: the items of a pool of the same table, in place."""

    model_config = _SPEC

    pool: str


class AllOfSpec(BaseModel):
    model_config = _SPEC

    all_of: list[NodeOrPool] = Field(min_length=1)
    min_days: int | None = Field(default=None, gt=0)
    label: str | None = None


class AnyOfSpec(BaseModel):
    model_config = _SPEC

    any_of: list[NodeOrPool] = Field(min_length=1)
    min_days: int | None = Field(default=None, gt=0)
    label: str | None = None


class AtLeastSpec(BaseModel):
    model_config = _SPEC

    at_least: int = Field(ge=1)
    of: list[NodeOrPool] = Field(min_length=1)
    min_days: int | None = Field(default=None, gt=0)
    label: str | None = None


NodeSpec = str | ItemNodeSpec | AllOfSpec | AnyOfSpec | AtLeastSpec
NodeOrPool = str | ItemNodeSpec | AllOfSpec | AnyOfSpec | AtLeastSpec | PoolRefSpec


class ForemanSpec(BaseModel):
    model_config = _SPEC

    scope: Literal["職長", "職長又は班長"]
    days: int = Field(gt=0)


class LevelSpec(BaseModel):
    model_config = _SPEC

    days: int = Field(ge=0)
    foreman: ForemanSpec | None = None
    qualifications: NodeSpec | None = None
    provisional: bool = False
    notes: str | None = None


class PoolSpec(BaseModel):
    """Named list of items, used as ``{pool: name}`` inside a table's lists."""

    model_config = _SPEC

    items: list[str] = Field(min_length=1)


class TableSpec(BaseModel):
    """The criteria of one trade from one date on (its version is ``trade@effective_from``,
    ``trade@effective_from-r<n>`` for the n-th revision: a correction of the same table)."""

    model_config = _SPEC

    trade: str
    effective_from: date
    revision: int = Field(
        default=1,
        ge=1,
        description="1 for the table as first published; each correction of the same "
        "(trade, effective_from) is the next revision (criteria administration)",
    )
    source: str = Field(min_length=1)
    source_urls: list[str] = Field(default_factory=list)
    provisional: bool = False
    notes: str | None = None
    pools: dict[str, PoolSpec] = Field(default_factory=dict)
    levels: dict[int, LevelSpec]

    @field_validator("levels")
    @classmethod
    def _three_levels(cls, value: dict[int, LevelSpec]) -> dict[int, LevelSpec]:
        if set(value) != {2, 3, 4}:
            raise ValueError(f"levels must be exactly 2, 3 and 4, got {sorted(value)}")
        return value


class MasterDocument(BaseModel):
    """One master file. All sections are optional; documents are merged."""

    model_config = ConfigDict(
        extra="forbid",
        title="能力評価 基準マスタ (criteria master document)",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    settings: SettingsSpec | None = None
    trades: list[TradeSpec] = Field(default_factory=list)
    qualifications: list[QualificationSpec] = Field(default_factory=list)
    tables: list[TableSpec] = Field(default_factory=list)


for _model in (AllOfSpec, AnyOfSpec, AtLeastSpec, LevelSpec, TableSpec, MasterDocument):
    _model.model_rebuild()


def master_json_schema() -> dict[str, Any]:
    """The JSON Schema of a master document (exported as ``criteria/master.schema.json``)."""
    return MasterDocument.model_json_schema(by_alias=True)


# --------------------------------------------------------------------------- compiled form


def table_version(trade: str, effective_from: date, revision: int = 1) -> str:
    """A table's version (what a judgement records as ``criteria_version``)."""
    base = f"{trade}@{effective_from.isoformat()}"
    return base if revision == 1 else f"{base}-r{revision}"


@dataclass(frozen=True, slots=True)
class MasterSettings:
    master_version: str
    days_per_year: int
    pre_ccus_days_formula: str
    pre_ccus_days_rounding: str
    foreman_or_leader_conversion: str
    declared_excess_cut_order: tuple[str, ...]
    career_end_cap_applies_from: date
    career_end_cap: date
    career_certification_ignored_from: date
    kikan_validity_years: int
    supersedes_effective_from: date
    undated_qualifications_count: bool
    other_codes: frozenset[str]
    other_code_pattern: re.Pattern[str] | None
    name_replacements: tuple[tuple[str, str], ...]

    def months_to_days(self, months: int) -> int:
        """Certified months → days (policy ``pre_ccus_days_formula`` / ``_rounding``)."""
        numerator = months * self.days_per_year
        if self.pre_ccus_days_rounding == "floor":
            return numerator // 12
        if self.pre_ccus_days_rounding == "ceil":
            return -(-numerator // 12)
        return (2 * numerator + 12) // 24  # half_up

    def is_other_code(self, code: str) -> bool:
        """Whether ``code`` is a CCUS その他 code (``other_codes`` or ``other_code_pattern``)."""
        if code in self.other_codes:
            return True
        return bool(self.other_code_pattern and self.other_code_pattern.match(code))


@dataclass(frozen=True, slots=True)
class Body:
    name: str
    confirmed: bool
    judged_by: str | None

    def label_ja(self) -> str:
        text = self.name if self.confirmed else f"{self.name}（未確認）"
        if self.judged_by:
            text += f"（判定：{self.judged_by}）"
        return text


@dataclass(frozen=True, slots=True)
class Occupation:
    code: str
    name: str | None
    effective_from: date | None
    effective_until: date | None

    def in_force(self, on: date) -> bool:
        if self.effective_from and on < self.effective_from:
            return False
        return not (self.effective_until and on > self.effective_until)


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    codes: tuple[str, ...]
    aliases: tuple[str, ...]
    category: str
    includes: tuple[str, ...]
    supersedes: tuple[str, ...]

    @property
    def is_composite(self) -> bool:
        return bool(self.includes)

    @property
    def is_kikan(self) -> bool:
        return self.category == KIKAN_CATEGORY


@dataclass(frozen=True, slots=True)
class Level:
    number: int
    days: int
    foreman_scope: str | None  # "職長" | "職長又は班長" | None
    foreman_days: int
    qualifications: Node | None
    criteria_nodes: tuple[Node, ...]  # the top-level parts, one criterion each
    provisional: bool


@dataclass(frozen=True, eq=False)
class Table:
    trade: str
    effective_from: date
    source: str
    source_urls: tuple[str, ...]
    provisional: bool
    notes: str | None
    levels: Mapping[int, Level]
    items: frozenset[str]  # every catalogue item the table names (leaves)
    related: frozenset[str]  # those, their parts and the items that supersede them
    watch_names: tuple[tuple[str, str], ...]  # (normalised name, item) that "look required"
    revision: int = 1

    @property
    def version(self) -> str:
        """``trade@effective_from``; ``trade@effective_from-r<n>`` for a correction."""
        return table_version(self.trade, self.effective_from, self.revision)


@dataclass(frozen=True, eq=False)
class Trade:
    name: str
    aliases: tuple[str, ...]
    title: str | None
    bodies: tuple[Body, ...]
    applications_also_via: tuple[str, ...]
    in_force: str
    in_force_qualifier: str
    status: str
    occupations: tuple[Occupation, ...]
    notes: str | None
    sources: tuple[str, ...]
    tables: tuple[Table, ...] = ()  # ascending effective_from

    @property
    def judgeable(self) -> bool:
        return bool(self.tables)

    def bodies_ja(self) -> str:
        return "、".join(b.label_ja() for b in self.bodies) or "未確認"

    def occupation_codes(self, on: date) -> frozenset[str] | None:
        """The CCUS 職種 codes whose work counts on ``on``; None = no filter loaded."""
        if not self.occupations:
            return None
        return frozenset(o.code for o in self.occupations if o.in_force(on))

    def table_on(self, on: date) -> Table | None:
        chosen: Table | None = None
        for table in self.tables:
            if table.effective_from <= on:
                chosen = table
        return chosen


@dataclass(frozen=True, eq=False)
class Master:
    """The compiled, validated master with every lookup the engine needs precomputed."""

    settings: MasterSettings
    trades: Mapping[str, Trade]
    items: Mapping[str, Item]
    sources: tuple[str, ...]
    _trade_index: Mapping[str, str] = field(repr=False)
    _code_index: Mapping[str, str] = field(repr=False)
    _name_index: Mapping[str, str] = field(repr=False)
    _raw_name_index: Mapping[str, str] = field(repr=False)
    # item -> {implied item: how}, without and with the 上位資格 relations
    _closure_plain: Mapping[str, Mapping[str, HoldingKind]] = field(repr=False)
    _closure_higher: Mapping[str, Mapping[str, HoldingKind]] = field(repr=False)
    _normalised: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _other_code: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    @property
    def version(self) -> str:
        return self.settings.master_version

    def management_levels(self) -> list[int]:
        """The levels whose criteria count 職長・班長 time (a table level with a
        ``foreman_scope``): the one owner of that rule, published by ``GET /rules``."""
        return sorted(
            {
                level.number
                for trade in self.trades.values()
                for table in trade.tables
                for level in table.levels.values()
                if level.foreman_scope
            }
        )

    def normalise(self, name: str) -> str:
        """``normalise_name`` with the master's replacements (memoised: names repeat)."""
        cached = self._normalised.get(name)
        if cached is None:
            cached = normalise_name(name, self.settings.name_replacements)
            if len(self._normalised) >= _NORMALISED_CACHE:
                self._normalised.clear()
            self._normalised[name] = cached
        return cached

    def trade(self, name: str) -> Trade:
        """The trade called ``name`` (or one of its aliases); ``UnknownTrade`` otherwise."""
        key = self._trade_index.get(self.normalise(name))
        if key is None:
            raise UnknownTrade(name)
        return self.trades[key]

    def table_for(self, trade_name: str, on: date) -> Table:
        """The table in force on ``on``; refuses a trade without criteria, naming its body."""
        trade = self.trade(trade_name)
        table = trade.table_on(on)
        if table is not None:
            return table
        if not trade.tables:
            message = (
                f"この分野の判定基準はまだ登録されていません"
                f"（能力評価実施団体：{trade.bodies_ja()}）"
            )
        else:
            message = (
                f"{trade.name}の判定基準は{trade.tables[0].effective_from.isoformat()}から"
                f"有効です。申請日{on.isoformat()}に適用できる判定基準はありません"
                f"（能力評価実施団体：{trade.bodies_ja()}）"
            )
        raise CriteriaNotAvailable(trade.name, [b.name for b in trade.bodies], message)

    def item_by_code(self, code: str) -> str | None:
        return self._code_index.get(code)

    def is_other_code(self, code: str) -> bool:
        """``settings.is_other_code``, memoised (codes repeat)."""
        known = self._other_code.get(code)
        if known is None:
            known = self.settings.is_other_code(code)
            if len(self._other_code) >= _NORMALISED_CACHE:
                self._other_code.clear()
            self._other_code[code] = known
        return known

    def item_by_name(self, name: str) -> str | None:
        """Catalogue item whose name or alias matches ``name`` after normalisation."""
        exact = self._raw_name_index.get(name)
        if exact is not None:
            return exact
        return self._name_index.get(self.normalise(name))

    def closure(self, item: str, with_higher: bool) -> Mapping[str, HoldingKind]:
        """Every item a holder of ``item`` holds (itself, lower grades, 「1級又は2級…」 items)."""
        table = self._closure_higher if with_higher else self._closure_plain
        return table[item]


# --------------------------------------------------------------------------- building


def _fail(source: str, problem: str) -> MasterError:
    return MasterError(f"{source}: {problem}")


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _merge_settings(parts: list[tuple[str, SettingsSpec]]) -> MasterSettings:
    merged: dict[str, Any] = {}
    for _, part in parts:
        merged.update(part.model_dump(exclude_none=True))
    missing = [name for name in SettingsSpec.model_fields if merged.get(name) is None]
    if missing:
        where = ", ".join(s for s, _ in parts) or "(no settings section)"
        raise MasterError(f"{where}: settings missing {', '.join(missing)}")
    order = tuple(merged["declared_excess_cut_order"])
    if sorted(order) != ["foreman", "leader"]:
        raise MasterError("settings.declared_excess_cut_order must name leader and foreman once")
    pattern = merged["other_code_pattern"]
    return MasterSettings(
        master_version=merged["master_version"],
        days_per_year=merged["days_per_year"],
        pre_ccus_days_formula=merged["pre_ccus_days_formula"],
        pre_ccus_days_rounding=merged["pre_ccus_days_rounding"],
        foreman_or_leader_conversion=merged["foreman_or_leader_conversion"],
        declared_excess_cut_order=order,
        career_end_cap_applies_from=merged["career_end_cap_applies_from"],
        career_end_cap=merged["career_end_cap"],
        career_certification_ignored_from=merged["career_certification_ignored_from"],
        kikan_validity_years=merged["kikan_validity_years"],
        supersedes_effective_from=merged["supersedes_effective_from"],
        undated_qualifications_count=merged["undated_qualifications_count"],
        other_codes=frozenset(merged["other_codes"]),
        other_code_pattern=re.compile(pattern) if pattern else None,
        name_replacements=tuple((r["from_"], r["to"]) for r in merged["name_replacements"]),
    )


class _Builder:
    def __init__(self, settings: MasterSettings) -> None:
        self.settings = settings
        self.items: dict[str, Item] = {}
        self.item_source: dict[str, str] = {}
        self.code_index: dict[str, str] = {}
        self.name_index: dict[str, str] = {}
        self.raw_name_index: dict[str, str] = {}
        self.trades: dict[str, Trade] = {}
        self.trade_source: dict[str, str] = {}
        self.trade_index: dict[str, str] = {}
        self.tables: dict[str, list[Table]] = {}

    def norm(self, text: str) -> str:
        normalised: str = normalise_name(text, self.settings.name_replacements)
        return normalised

    # qualifications ------------------------------------------------------------------
    def add_item(self, source: str, spec: QualificationSpec) -> None:
        if spec.name in self.items:
            raise _fail(
                source, f"qualification {spec.name!r} also defined in {self.item_source[spec.name]}"
            )
        if spec.includes and spec.codes:
            raise _fail(source, f"{spec.name!r}: an item with includes cannot have codes")
        item = Item(
            name=spec.name,
            codes=tuple(normalise_code(c) for c in spec.codes),
            aliases=tuple(spec.aliases),
            category=spec.category,
            includes=tuple(spec.includes),
            supersedes=tuple(spec.supersedes),
        )
        self.items[spec.name] = item
        self.item_source[spec.name] = source
        for code in item.codes:
            if code in self.code_index:
                raise _fail(
                    source,
                    f"code {code} of {spec.name!r} already belongs to {self.code_index[code]!r}",
                )
            if self.settings.is_other_code(code):
                raise _fail(source, f"code {code} of {spec.name!r} is an その他 code")
            self.code_index[code] = spec.name
        if not item.is_composite:
            for text in (spec.name, *spec.aliases):
                key = self.norm(text)
                other = self.name_index.get(key)
                if other is not None and other != spec.name:
                    raise _fail(source, f"name {text!r} of {spec.name!r} normalises like {other!r}")
                self.name_index[key] = spec.name
                self.raw_name_index[text] = spec.name

    def check_items(self) -> None:
        for item in self.items.values():
            for ref in (*item.includes, *item.supersedes):
                if ref not in self.items:
                    raise _fail(
                        self.item_source[item.name],
                        f"{item.name!r} refers to unknown qualification {ref!r}",
                    )
            for lower in item.supersedes:
                if self.items[lower].is_composite:
                    raise _fail(
                        self.item_source[item.name],
                        f"{item.name!r} supersedes composite item {lower!r}",
                    )

    def closures(self, with_higher: bool) -> dict[str, dict[str, HoldingKind]]:
        containers: dict[str, list[str]] = {name: [] for name in self.items}
        for item in self.items.values():
            for part in item.includes:
                containers[part].append(item.name)
        result: dict[str, dict[str, HoldingKind]] = {}
        for name in self.items:
            kinds: dict[str, HoldingKind] = {name: "direct"}
            changed = True
            while changed:
                changed = False
                for held, kind in list(kinds.items()):
                    steps: list[tuple[str, HoldingKind]] = [(c, kind) for c in containers[held]]
                    if with_higher:
                        steps += [(lower, "higher") for lower in self.items[held].supersedes]
                    for target, how in steps:
                        current = kinds.get(target)
                        if current is None or (current == "higher" and how == "direct"):
                            kinds[target] = how
                            changed = True
            result[name] = kinds
        return result

    # trades --------------------------------------------------------------------------
    def add_trade(self, source: str, spec: TradeSpec) -> None:
        if spec.name in self.trades:
            raise _fail(
                source, f"trade {spec.name!r} also defined in {self.trade_source[spec.name]}"
            )
        for text in (spec.name, *spec.aliases):
            key = self.norm(text)
            if key in self.trade_index:
                raise _fail(source, f"trade name {text!r} clashes with {self.trade_index[key]!r}")
            self.trade_index[key] = spec.name
        self.trades[spec.name] = Trade(
            name=spec.name,
            aliases=tuple(spec.aliases),
            title=spec.title,
            bodies=tuple(Body(b.name, b.confirmed, b.judged_by) for b in spec.bodies),
            applications_also_via=tuple(spec.applications_also_via),
            in_force=spec.in_force,
            in_force_qualifier=spec.in_force_qualifier,
            status=spec.status,
            occupations=tuple(
                Occupation(o.code, o.name, o.effective_from, o.effective_until)
                for o in spec.occupations
            ),
            notes=spec.notes,
            sources=tuple(spec.sources),
        )
        self.trade_source[spec.name] = source

    # tables --------------------------------------------------------------------------
    def node(self, source: str, spec: TableSpec, node: NodeOrPool, where: str) -> list[Node]:
        """Compile one node; a pool reference expands to several leaves."""
        if isinstance(node, str):
            return [self.leaf(source, node, None, where)]
        if isinstance(node, ItemNodeSpec):
            return [self.leaf(source, node.item, node.label, where)]
        if isinstance(node, PoolRefSpec):
            pool = spec.pools.get(node.pool)
            if pool is None:
                raise _fail(source, f"{where}: unknown pool {node.pool!r}")
            return [self.leaf(source, name, None, where) for name in pool.items]
        if isinstance(node, AllOfSpec):
            return [
                AllOf.of(self.children(source, spec, node.all_of, where), node.min_days, node.label)
            ]
        if isinstance(node, AnyOfSpec):
            return [
                AnyOf.of(self.children(source, spec, node.any_of, where), node.min_days, node.label)
            ]
        children = self.children(source, spec, node.of, where)
        if node.at_least > len(children):
            raise _fail(source, f"{where}: at_least {node.at_least} of {len(children)} items")
        return [AtLeast.of(node.at_least, children, node.min_days, node.label)]

    def children(
        self, source: str, spec: TableSpec, nodes: list[NodeOrPool], where: str
    ) -> tuple[Node, ...]:
        out: list[Node] = []
        for i, child in enumerate(nodes):
            out.extend(self.node(source, spec, child, f"{where}.{i}"))
        return tuple(out)

    def leaf(self, source: str, name: str, label: str | None, where: str) -> Leaf:
        if name not in self.items:
            raise _fail(source, f"{where}: unknown qualification {name!r}")
        return Leaf.of(name, label)

    def add_table(self, source: str, spec: TableSpec) -> None:
        trade = self.trades.get(spec.trade)
        if trade is None:
            raise _fail(source, f"table for unknown trade {spec.trade!r}")
        for existing in self.tables.get(spec.trade, []):
            if existing.effective_from == spec.effective_from:
                raise _fail(source, f"second table {spec.trade}@{spec.effective_from}")
        levels: dict[int, Level] = {}
        items: set[str] = set()
        for number, level in sorted(spec.levels.items()):
            where = f"tables[{spec.trade}].levels.{number}.qualifications"
            tree: Node | None = None
            parts: tuple[Node, ...] = ()
            if level.qualifications is not None:
                (tree,) = self.node(source, spec, level.qualifications, where)
                parts = (
                    tree.children
                    if isinstance(tree, AllOf) and not (tree.min_days or tree.custom)
                    else (tree,)
                )
                items |= tree.items
            levels[number] = Level(
                number=number,
                days=level.days,
                foreman_scope=level.foreman.scope if level.foreman else None,
                foreman_days=level.foreman.days if level.foreman else 0,
                qualifications=tree,
                criteria_nodes=parts,
                provisional=level.provisional,
            )
        related = self.related(items)
        table = Table(
            trade=spec.trade,
            effective_from=spec.effective_from,
            source=spec.source,
            source_urls=tuple(spec.source_urls),
            provisional=spec.provisional,
            notes=spec.notes,
            levels=levels,
            items=frozenset(items),
            related=frozenset(related),
            watch_names=self.watch_names(related),
            revision=spec.revision,
        )
        self.tables.setdefault(spec.trade, []).append(table)

    def related(self, items: set[str]) -> set[str]:
        """The items a table names, their parts and the items that supersede any of them."""
        related = set(items)
        changed = True
        while changed:
            before = len(related)
            for name in list(related):
                related.update(self.items[name].includes)
            related.update(
                i.name for i in self.items.values() if any(s in related for s in i.supersedes)
            )
            changed = len(related) != before
        return related

    def watch_names(self, related: set[str]) -> tuple[tuple[str, str], ...]:
        """(normalised name, item) of every non-composite item that "looks required"."""
        out: list[tuple[str, str]] = []
        for name in sorted(related):
            item = self.items[name]
            if item.is_composite:
                continue
            for text in (item.name, *item.aliases):
                out.append((self.norm(text), name))
        return tuple(out)


def build_master(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> Master:
    """Validate and compile master documents given as ``(source name, parsed content)``."""
    parsed: list[tuple[str, MasterDocument]] = []
    for source, content in documents:
        try:
            parsed.append((source, MasterDocument.model_validate(content)))
        except ValidationError as exc:
            raise _fail(source, _describe(exc)) from None
    if not parsed:
        raise MasterError("no master documents")
    settings = _merge_settings([(s, d.settings) for s, d in parsed if d.settings])
    builder = _Builder(settings)
    for source, doc in parsed:
        for item in doc.qualifications:
            builder.add_item(source, item)
    builder.check_items()
    for source, doc in parsed:
        for trade in doc.trades:
            builder.add_trade(source, trade)
    for source, doc in parsed:
        for table in doc.tables:
            builder.add_table(source, table)
    trades: dict[str, Trade] = {}
    for name, known in builder.trades.items():
        tables = tuple(sorted(builder.tables.get(name, []), key=lambda t: t.effective_from))
        if known.status == "table" and not tables:
            raise _fail(
                builder.trade_source[name],
                f"trade {name!r} has status 'table' but no table is loaded",
            )
        trades[name] = replace(known, tables=tables)
    return Master(
        settings=settings,
        trades=trades,
        items=dict(builder.items),
        sources=tuple(s for s, _ in parsed),
        _trade_index=dict(builder.trade_index),
        _code_index=dict(builder.code_index),
        _name_index=dict(builder.name_index),
        _raw_name_index=dict(builder.raw_name_index),
        _closure_plain=builder.closures(with_higher=False),
        _closure_higher=builder.closures(with_higher=True),
    )
