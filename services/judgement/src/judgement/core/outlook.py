"""レベル診断 (outlook): what a worker reaches today and what keeps him from the next level.

Computed by the engine itself (``engine.evaluate_ccus`` for the criteria and the level,
the engine's own inputs for the qualifications held) against the master in force: no rule
is written twice here. What this module adds is reading the result forwards:

* for the next level and the one after, every criterion with 充足 / 不足 and the exact
  shortfall (days, 職長/班長 days, each missing qualification with its CCUS codes and the
  items that would also do: the other options of its group, higher grades, composites);
* the worker's pace: distinct work days (and 職長 / 班長 days) per month over the 12
  months up to the as-of date, and the month the day criteria will be met at that pace
  (none when the pace is zero; qualifications are never projected);
* warnings: the engine's (49999 and other catch-all codes, expired 基幹技能者 …), 簡略型,
  経歴証明 days that count only until the day before ``career_certification_ignored_from``.

Pure: no I/O, no clock (the as-of date is an argument).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from judgement.core import engine
from judgement.core.errors import CriteriaNotAvailable, UnknownTrade
from judgement.core.master import Master
from judgement.core.models import CareerCertification, CcusRecord, EvaluationResult
from judgement.core.normalise import normalise_occupation
from judgement.core.tree import AllOf, AnyOf, AtLeast, Holding, Leaf, Node, TreeContext
from shared_kernel.time import japan_today

__all__ = [
    "PURPOSES",
    "STALE_AFTER_DAYS",
    "add_months",
    "outlook",
    "trades_of",
]

PURPOSES = {
    "worker_outlook": "レベル診断（到達レベルと次のレベルまでの不足）の表示",
    "list_outlook": "レベル診断の一覧表示（同意を得た技能者）",
}
STALE_AFTER_DAYS = 30
PACE_MONTHS = 12
MET_JA = {True: "充足", False: "不足"}


def add_months(d: date, months: int) -> date:
    """``d`` moved ``months`` calendar months on (the day clamped to the month's last)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def trades_of(
    record: CcusRecord, master: Master, on: date, extra_codes: Iterable[str] = ()
) -> list[str]:
    """The 分野 the worker's CCUS 職種 codes point to: the trades whose master lists one of
    them (work history and registered 職種). Empty when no code maps to a trade."""
    # the work history's codes, normalised once by its index (not per record)
    codes = {code for code in record.history_index.by_occupation if code}
    codes |= {normalise_occupation(c) for c in extra_codes if c}
    return [name for name, allowed in _occupations_on(master, on) if not codes.isdisjoint(allowed)]


_OCCUPATIONS: WeakKeyDictionary[Master, dict[date, list[tuple[str, frozenset[str]]]]] = (
    WeakKeyDictionary()
)


def _occupations_on(master: Master, on: date) -> list[tuple[str, frozenset[str]]]:
    """Each trade with the 職種 codes in force on ``on`` (those with any), per master (a list
    asks it once per worker)."""
    known = _OCCUPATIONS.setdefault(master, {})
    found = known.get(on)
    if found is None:
        found = []
        for trade in master.trades.values():
            allowed = trade.occupation_codes(on)
            if allowed:
                found.append((trade.name, allowed))
        if len(known) > 64:
            known.clear()
        known[on] = found
    return found


# --------------------------------------------------------------------------- qualifications


_ALTERNATIVES: WeakKeyDictionary[Master, dict[tuple[str, bool], list[tuple[str, list[str]]]]] = (
    WeakKeyDictionary()
)
""":func:`_alternatives` per master (a scan of the catalogue; the list repeats it per worker)."""


def _alternatives(item: str, master: Master, with_higher: bool) -> list[dict[str, Any]]:
    """Catalogue items other than ``item`` whose holder holds it (higher grades, composites)."""
    known = _ALTERNATIVES.setdefault(master, {})
    found = known.get((item, with_higher))
    if found is None:
        found = [
            (other.name, list(other.codes))
            for other in master.items.values()
            if other.name != item and item in master.closure(other.name, with_higher)
        ]
        known[(item, with_higher)] = found
    return [{"item": name, "codes": list(codes)} for name, codes in found]


def _describe(node: Node, ctx: TreeContext, master: Master, with_higher: bool) -> dict[str, Any]:
    """A qualification (sub)tree as the outlook shows it: each option held or not."""
    met = node.evaluate(ctx).met
    if isinstance(node, Leaf):
        holding: Holding | None = ctx.held.get(node.item)
        item = master.items.get(node.item)
        return {
            "rule": "item",
            "item": node.item,
            "label": node.label,
            "codes": list(item.codes) if item else [],
            "met": met,
            "held": holding.text if holding else None,
            "not_counted_ja": ctx.not_counted.get(node.item),
            "alternatives": [] if met else _alternatives(node.item, master, with_higher),
        }
    options = [_describe(c, ctx, master, with_higher) for c in node.children]
    held = sum(1 for o in options if o["met"])
    described: dict[str, Any] = {
        "label": node.label,
        "met": met,
        "held_count": held,
        "min_days": node.min_days,
        "options": options,
    }
    if isinstance(node, AllOf):
        described.update(rule="all_of", needed=len(options))
    elif isinstance(node, AnyOf):
        described.update(rule="any_of", needed=1)
    else:
        assert isinstance(node, AtLeast)
        described.update(rule="at_least", needed=node.k)
    if node.min_days is not None:
        described["days_short"] = max(0, node.min_days - ctx.total_days)
    return described


def _missing(described: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The missing items of an unmet tree, flat: each with its codes and what else would do."""
    if described["met"]:
        return []
    if described["rule"] == "item":
        return [
            {
                "item": described["item"],
                "codes": described["codes"],
                "alternatives": described["alternatives"],
                "not_counted_ja": described["not_counted_ja"],
            }
        ]
    out: list[dict[str, Any]] = []
    options = described["options"]
    if described["rule"] == "all_of":
        for option in options:
            out.extend(_missing(option))
        return out
    # any_of / at_least: every unmet option is one way; the others are its alternatives
    for option in options:
        if option["met"]:
            continue
        for entry in _missing(option):
            siblings = [
                {"item": o.get("item", o["label"]), "codes": o.get("codes", [])}
                for o in options
                if o is not option and not o["met"]
            ]
            out.append(
                {
                    **entry,
                    "alternatives": [*entry["alternatives"], *siblings],
                    "one_of": described["label"],
                }
            )
    return out


def _short_label(described: Mapping[str, Any]) -> str:
    if described["rule"] == "item":
        return str(described["item"])
    if described["rule"] == "any_of":
        return "いずれかの資格：" + "・".join(
            str(o.get("item", o["label"])) for o in described["options"]
        )
    if described["rule"] == "at_least":
        more = described["needed"] - described["held_count"]
        if more <= 0 and described.get("days_short"):
            return f"就業日数あと{described['days_short']:,}日（{described['label']}）"
        return f"資格あと{more}つ（{described['label']}）"
    missing = [str(m["item"]) for m in _missing(described)]
    if not missing and described.get("days_short"):
        return f"就業日数あと{described['days_short']:,}日（{described['label']}）"
    return "・".join(missing) or str(described["label"])


# --------------------------------------------------------------------------- pace


@dataclass(frozen=True, slots=True)
class Pace:
    since: date
    until: date
    days: int
    foreman: int
    foreman_or_leader: int

    def per_month(self, value: int) -> float:
        return round(value / PACE_MONTHS, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "months": PACE_MONTHS,
            "work_days": self.days,
            "work_days_per_month": self.per_month(self.days),
            "foreman_days_per_month": self.per_month(self.foreman),
            "foreman_or_leader_days_per_month": self.per_month(self.foreman_or_leader),
            "basis_ja": (
                f"直近{PACE_MONTHS}か月（{self.since.isoformat()}〜{self.until.isoformat()}）の"
                f"就業日数 {self.days:,}日 ÷ {PACE_MONTHS}（月あたり就業日数）"
            ),
        }


def _pace(record: CcusRecord, allowed: frozenset[str] | None, on: date) -> Pace:
    since = max(add_months(on, -PACE_MONTHS) + timedelta(days=1), record.registered_on)
    counts = record.history_index.count(since, on, allowed)
    return Pace(since, on, counts.days, counts.foreman, counts.foreman_or_leader)


def _months_to(shortfall: int, in_year: int) -> int | None:
    """Whole months until ``shortfall`` more days at ``in_year`` days per 12 months."""
    if shortfall <= 0:
        return 0
    if in_year <= 0:
        return None
    return math.ceil(shortfall * PACE_MONTHS / in_year)


# --------------------------------------------------------------------------- the outlook


def _not_judgeable(trade: str, message: str, bodies: str | None) -> dict[str, Any]:
    return {
        "trade": trade,
        "judgeable": False,
        "bodies_ja": bodies,
        "message_ja": message,
        "level_today": None,
        "can_apply_now": False,
        "next_levels": [],
        "main_shortfall_ja": None,
        "expected_month": None,
        "warnings": [],
    }


def outlook(
    record: CcusRecord,
    master: Master,
    trade: str,
    on: date,
    career_certification: CareerCertification | None = None,
) -> dict[str, Any]:
    """The outlook of one worker in one 分野 on ``on`` (JSON-ready)."""
    try:
        found = master.trade(trade)
    except UnknownTrade as exc:
        return _not_judgeable(trade, exc.message_ja, None)
    try:
        # with the engine's own inputs: the table in force and the qualifications it found held
        result, table, ctx = engine.evaluate_in_context(
            record,
            master,
            trade=found.name,
            requested_level=engine.LEVELS[0],
            application_date=on,
            career_certification=career_certification,
        )
    except CriteriaNotAvailable as exc:
        return _not_judgeable(found.name, exc.message_ja, found.bodies_ja())
    settings = master.settings
    with_higher = on >= settings.supersedes_effective_from
    detailed = record.registration_type == engine.DETAILED
    warnings: list[dict[str, Any]] = [w.model_dump() for w in result.warnings]
    if not detailed:
        warnings.insert(
            0,
            {
                "kind": "simple_registration",
                "message_ja": (
                    "簡略型の技能者登録のため判定できません（詳細型での技能者登録が必要です）。"
                    "下の不足は詳細型で登録した場合の見込みです"
                ),
            },
        )
    pre = result.days.pre_ccus
    cutoff = settings.career_certification_ignored_from
    if pre > 0 and on < cutoff:
        warnings.append(
            {
                "kind": "career_certification_until",
                "message_ja": (
                    f"経歴証明による就業日数（{pre:,}日）は"
                    f"{(cutoff - timedelta(days=1)).isoformat()}までの申請でのみ算入されます"
                ),
            }
        )

    allowed = found.occupation_codes(on)
    counts = record.history_index.count(record.registered_on, on, allowed)
    pace = _pace(record, allowed, on)
    level_today = result.eligible_level if detailed else 1
    # what a 詳細型 registration would reach (a 簡略型 result has no criteria beyond its type)
    judged = result
    if not detailed:
        judged = engine.evaluate_ccus(
            record.model_copy(update={"registration_type": engine.DETAILED}),
            master,
            trade=found.name,
            requested_level=engine.LEVELS[0],
            application_date=on,
            career_certification=career_certification,
        )
    reachable = judged.eligible_level
    next_levels = []
    for number in (reachable + 1, reachable + 2):
        if number not in table.levels:
            continue
        level = table.levels[number]
        nodes = iter(level.criteria_nodes)
        criteria: list[dict[str, Any]] = []
        if not detailed:
            criteria.append(
                {
                    "kind": "registration_type",
                    "met": False,
                    "status_ja": "不足",
                    "required": engine.DETAILED,
                    "actual": record.registration_type,
                    "message_ja": engine.SIMPLE_REJECTION,
                    "short_ja": "詳細型での技能者登録",
                }
            )
        for c in judged.criteria:
            if c.level != number:
                continue
            entry: dict[str, Any] = {
                "kind": c.kind,
                "met": c.met,
                "status_ja": MET_JA[c.met],
                "required": c.required,
                "actual": c.actual,
                "message_ja": c.message_ja,
            }
            if c.kind == "days":
                short = max(0, int(c.required) - int(c.actual or 0))
                entry.update(
                    shortfall_days=short,
                    pre_ccus_days=result.days.pre_ccus,
                    ccus_days=counts.days,
                    other_occupation_days=counts.unfiltered - counts.days,
                    occupation_codes=sorted(allowed) if allowed is not None else None,
                    short_ja=f"就業日数あと{short:,}日" if short else None,
                )
            elif c.kind in ("foreman_days", "foreman_or_leader_days"):
                short = max(0, int(c.required) - int(c.actual or 0))
                scope = "職長" if c.kind == "foreman_days" else "職長・班長"
                entry.update(
                    shortfall_days=short,
                    short_ja=f"{scope}日数あと{short:,}日" if short else None,
                )
            elif c.kind == "qualification":
                described = _describe(next(nodes), ctx, master, with_higher)
                entry.update(
                    tree=described,
                    missing=_missing(described),
                    short_ja=None if c.met else _short_label(described),
                )
            elif c.kind == "lower_level_qualifications":
                entry["short_ja"] = None if c.met else c.message_ja
            criteria.append(entry)
        expected = _expected(criteria, pace, on, pre, result, cutoff)
        next_levels.append(
            {
                "level": number,
                "met": all(c["met"] for c in criteria),
                "criteria": criteria,
                **expected,
            }
        )
    first = next_levels[0] if next_levels else None
    main = None
    if first is not None:
        main = "、".join(c["short_ja"] for c in first["criteria"] if c.get("short_ja")) or None
    return {
        "trade": found.name,
        "judgeable": True,
        "bodies_ja": found.bodies_ja(),
        "criteria_version": result.criteria_version,
        "as_of": on.isoformat(),
        "registration_type": record.registration_type,
        "level_today": level_today,
        "level_if_detailed": None if detailed else reachable,
        "can_apply_now": detailed and level_today >= engine.LEVELS[0],
        "days": {
            **result.days.model_dump(),
            "other_occupation_days": counts.unfiltered - counts.days,
            "occupation_codes": sorted(allowed) if allowed is not None else None,
        },
        "foreman_days": result.foreman_days.model_dump(),
        "pace": pace.as_dict(),
        "next_levels": next_levels,
        "main_shortfall_ja": main,
        "expected_month": first["expected_month"] if first else None,
        "reconciliation": [r.model_dump() for r in result.reconciliation],
        "warnings": warnings,
    }


def _expected(
    criteria: list[dict[str, Any]],
    pace: Pace,
    on: date,
    pre: int,
    result: EvaluationResult,
    cutoff: date,
) -> dict[str, Any]:
    """When the level's day criteria will be met at the worker's pace (None when never)."""
    waits: list[int | None] = []
    for c in criteria:
        if c["kind"] == "days":
            waits.append(_months_to(c["shortfall_days"], pace.days))
        elif c["kind"] == "foreman_days":
            waits.append(_months_to(c["shortfall_days"], pace.foreman))
        elif c["kind"] == "foreman_or_leader_days":
            waits.append(_months_to(c["shortfall_days"], pace.foreman_or_leader))
    days_only = [
        c for c in criteria if c["kind"] in ("days", "foreman_days", "foreman_or_leader_days")
    ]
    note = None
    if any(w is None for w in waits):
        months: int | None = None
        note = "直近12か月の就業日数が0日のため、日数要件を満たす時期は見込めません"
    else:
        months = max((w for w in waits if w is not None), default=0)
    when = add_months(on, months) if months else (on if months == 0 else None)
    if when is not None and pre > 0 and when >= cutoff and months:
        # the certified days stop counting: the CCUS days alone must reach the requirement
        day_c = next(c for c in days_only if c["kind"] == "days")
        alone = max(0, int(day_c["required"]) - result.days.ccus)
        wait = _months_to(alone, pace.days)
        if wait is None:
            when, note = None, "経歴証明の算入期限後はCCUSの就業日数だけでは要件に届きません"
        else:
            when = max(when, add_months(on, wait))
            last = (cutoff - timedelta(days=1)).isoformat()
            note = f"経歴証明の算入期限（{last}）後はCCUSの就業日数のみで見込んでいます"
    days_met = all(c["met"] for c in days_only)
    return {
        "days_met": days_met,
        "expected_on": None if days_met or when is None else when.isoformat(),
        "expected_month": None if days_met or when is None else when.strftime("%Y-%m"),
        "expected_note_ja": note
        if note
        else (None if days_met else "日数要件のみの見込みです（資格の取得は含みません）"),
    }


NO_TRADE = "CCUSの職種から分野を特定できませんでした。分野を指定してください（?trade=）。"


def _taken_at(summary: Mapping[str, Any]) -> datetime | None:
    text = summary.get("taken_at")
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def worker_view(
    worker_id: str,
    summary: Mapping[str, Any],
    on: date,
    source: str,
    outlooks: list[dict[str, Any]],
) -> dict[str, Any]:
    """One worker's レベル診断: who, as of when, from which snapshot, and an outlook per 分野
    (``source``: where the 分野 came from)."""
    warnings: list[dict[str, Any]] = []
    taken = _taken_at(summary)
    taken_on = japan_today(taken) if taken is not None else None
    stale = taken_on is not None and (on - taken_on).days > STALE_AFTER_DAYS
    if stale and taken_on is not None:
        warnings.append(
            {
                "kind": "stale_snapshot",
                "message_ja": (
                    f"CCUSデータは{taken_on.isoformat()}時点のものです"
                    f"（{STALE_AFTER_DAYS}日より前）。最新の就業履歴を反映していません"
                ),
            }
        )
    return {
        "worker_id": worker_id,
        "name": summary.get("name"),
        "name_kana": summary.get("name_kana"),
        "registration_type": summary.get("registration_type"),
        "as_of": on.isoformat(),
        "snapshot": {
            "taken_at": summary.get("taken_at"),
            "taken_on": taken_on.isoformat() if taken_on else None,
            "stale": stale,
        },
        "trades_from": source,
        "message_ja": None if outlooks else NO_TRADE,
        "warnings": warnings,
        "outlooks": outlooks,
    }
