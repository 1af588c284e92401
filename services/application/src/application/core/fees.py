"""The fee schedule (手数料表) as data: a default fee per line and dated periods.

``data/fee_schedule.json`` holds the figures and periods with their sources
(research.md §4.6): 4,000 yen per worker (3,000 judgement + 1,000 card) by default, 0 yen
for applications dated 2025-08-01 … 2026-03-31 (FCIP's fee support). The period is chosen
by the application date (the day of submission, Japan time), both ends inclusive.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class FeeRule:
    fee_yen: int
    label_ja: str
    start: date | None = None
    end: date | None = None

    def applies(self, on: date) -> bool:
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)

    def total(self, lines: int) -> int:
        """The fee of an application of ``lines`` workers."""
        return self.fee_yen * lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "fee_yen": self.fee_yen,
            "label_ja": self.label_ja,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class FeeSchedule:
    default: FeeRule
    periods: tuple[FeeRule, ...] = ()

    def rule_on(self, on: date) -> FeeRule:
        """The period that holds ``on`` (inclusive), else the default."""
        for period in self.periods:
            if period.applies(on):
                return period
        return self.default

    def fee_per_line(self, on: date) -> int:
        return self.rule_on(on).fee_yen


def _rule(raw: dict[str, Any], *, dated: bool) -> FeeRule:
    fee = raw.get("fee_yen")
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise ValueError(f"fee_yen must be a non-negative integer, got {fee!r}")
    label = raw.get("label_ja")
    if not isinstance(label, str) or not label:
        raise ValueError("every fee rule needs a label_ja")
    if not dated:
        return FeeRule(fee, label)
    start, end = date.fromisoformat(raw["from"]), date.fromisoformat(raw["to"])
    if end < start:
        raise ValueError(f"fee period {start}…{end} ends before it starts")
    return FeeRule(fee, label, start, end)


def parse_schedule(raw: dict[str, Any]) -> FeeSchedule:
    """Read and check a schedule document (periods must not overlap)."""
    periods = tuple(
        sorted(
            (_rule(p, dated=True) for p in raw.get("periods", [])),
            key=lambda r: r.start or date.min,
        )
    )
    for before, after in itertools.pairwise(periods):
        assert before.end is not None and after.start is not None
        if after.start <= before.end:
            raise ValueError(f"fee periods overlap: {before.as_dict()} and {after.as_dict()}")
    return FeeSchedule(_rule(raw["default"], dated=False), periods)
