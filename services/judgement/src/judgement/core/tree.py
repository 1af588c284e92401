"""Qualification condition trees: ``all_of``, ``any_of``, ``at_least(k)`` and leaves.

A node may carry its own days requirement (``min_days``): it is met only when its
qualifications are held **and** the worker's total days reach it (電気工事 level 3).
Trees are built once when the master is loaded, with their labels and fixed message parts
precomputed; evaluation only reads a dict of held items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

HoldingKind = Literal["direct", "higher"]


class Holding(NamedTuple):
    """A catalogue item the worker holds, and the CCUS record that shows it."""

    item: str
    text: str  # the record as reported in ``actual``, e.g. 玉掛け技能講習（2012-05-10）
    acquired_on: date | None  # None only where the master lets undated records count
    kind: HoldingKind  # "higher": held through a 上位資格 (supersedes relation)


def holding_text(record_name: str, acquired_on: date | None, kind: HoldingKind) -> str:
    when = acquired_on.isoformat() if acquired_on else "取得日未登録"
    suffix = "、上位資格" if kind == "higher" else ""
    return f"{record_name}（{when}{suffix}）"


@dataclass(slots=True)
class TreeContext:
    """What a tree is evaluated against."""

    held: dict[str, Holding]
    not_counted: dict[str, str]  # item -> why a registered record of it does not count
    total_days: int


class Outcome(NamedTuple):
    met: bool
    actual: str | None
    problem: str | None  # Japanese, set when not met
    days_only: bool = False  # qualifications held, only the node's own days are short


def _days_suffix(min_days: int | None) -> str:
    return f"（就業日数{min_days:,}日以上）" if min_days else ""


def _nested(node: Node) -> str:
    return node.label if isinstance(node, Leaf) else f"「{node.label}」"


def _inner(children: tuple[Node, ...]) -> str:
    return "、".join(_nested(c) for c in children)


def _items(children: tuple[Node, ...]) -> frozenset[str]:
    return frozenset().union(*(c.items for c in children))


@dataclass(frozen=True, slots=True)
class Leaf:
    item: str
    label: str
    items: frozenset[str]
    missing: str

    @classmethod
    def of(cls, item: str, label: str | None = None) -> Leaf:
        text = label or item
        return cls(item, text, frozenset((item,)), f"{text}がCCUSに登録されていません")

    def evaluate(self, ctx: TreeContext) -> Outcome:
        holding = ctx.held.get(self.item)
        if holding is not None:
            return Outcome(True, holding.text, None)
        return Outcome(False, None, ctx.not_counted.get(self.item) or self.missing)


def _check_days(node: Group, ctx: TreeContext, actual: str | None) -> Outcome:
    if node.min_days is not None and ctx.total_days < node.min_days:
        return Outcome(
            False,
            actual,
            f"{node.label}の場合は就業日数{node.min_days:,}日以上が必要です"
            f"（現在 {ctx.total_days:,}日）",
            days_only=True,
        )
    return Outcome(True, actual, None)


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Node, ...]
    min_days: int | None
    label: str
    items: frozenset[str]
    custom: bool

    @classmethod
    def of(
        cls, children: tuple[Node, ...], min_days: int | None = None, label: str | None = None
    ) -> AllOf:
        text = label or "＋".join(_nested(c) for c in children) + _days_suffix(min_days)
        return cls(children, min_days, text, _items(children), label is not None)

    def evaluate(self, ctx: TreeContext) -> Outcome:
        outcomes = [c.evaluate(ctx) for c in self.children]
        actual = "、".join([o.actual for o in outcomes if o.actual]) or None
        if all(o.met for o in outcomes):
            return _check_days(self, ctx, actual)
        problem = "。".join([o.problem for o in outcomes if not o.met and o.problem])
        return Outcome(False, actual, problem)


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Node, ...]
    min_days: int | None
    label: str
    items: frozenset[str]
    missing: str

    @classmethod
    def of(
        cls, children: tuple[Node, ...], min_days: int | None = None, label: str | None = None
    ) -> AnyOf:
        inner = _inner(children)
        text = label or f"次のいずれか：{inner}{_days_suffix(min_days)}"
        if all(isinstance(c, Leaf) for c in children):
            missing = f"次のいずれかの資格がCCUSに登録されていません：{inner}"
        else:
            missing = f"次のいずれかの要件を満たしていません：{inner}"
        return cls(children, min_days, text, _items(children), missing)

    def evaluate(self, ctx: TreeContext) -> Outcome:
        outcomes = []
        for child in self.children:
            outcome = child.evaluate(ctx)
            if outcome.met:
                return _check_days(self, ctx, outcome.actual)
            outcomes.append(outcome)
        actual = "、".join([o.actual for o in outcomes if o.actual]) or None
        short = [o.problem for o in outcomes if o.days_only and o.problem]
        problem = self.missing + ("（" + "。".join(short) + "）" if short else "")
        return Outcome(False, actual, problem)


@dataclass(frozen=True, slots=True)
class AtLeast:
    k: int
    children: tuple[Node, ...]
    min_days: int | None
    label: str
    items: frozenset[str]
    inner: str

    @classmethod
    def of(
        cls,
        k: int,
        children: tuple[Node, ...],
        min_days: int | None = None,
        label: str | None = None,
    ) -> AtLeast:
        inner = _inner(children)
        text = label or f"次のうち{k}つ以上：{inner}{_days_suffix(min_days)}"
        return cls(k, children, min_days, text, _items(children), inner)

    def evaluate(self, ctx: TreeContext) -> Outcome:
        held = [o.actual or "" for o in (c.evaluate(ctx) for c in self.children) if o.met]
        count = len(held)
        actual = f"{count}件：" + "、".join(held) if held else None
        if count >= self.k:
            return _check_days(self, ctx, actual)
        problem = f"次の資格のうち{self.k}つ以上が必要です（現在 {count}つ）：{self.inner}"
        return Outcome(False, actual, problem)


Group = AllOf | AnyOf | AtLeast
Node = Leaf | AllOf | AnyOf | AtLeast
