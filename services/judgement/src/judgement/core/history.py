"""A compact index of a worker's CCUS 就業履歴, so that counting days is cheap.

Built in one pass when the request is validated (``CcusRecord``): per CCUS 職種 code (None
for records without one) the sorted distinct dates worked, the dates with a 職長 record and
the dates with a 職長 or 班長 record. Counting the distinct dates between the registration
date and the application date for the trade's codes is then a binary search per code, or a
C-level set union when only some codes count.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import compress, repeat
from operator import attrgetter, eq, is_
from typing import Protocol

from judgement.core.normalise import normalise_occupation


class WorkRecord(Protocol):
    """One day of the work history as the index reads it (``core.models.WorkRecord``)."""

    @property
    def date(self) -> date: ...

    @property
    def role(self) -> str | None: ...

    @property
    def occupation(self) -> str | None: ...


FOREMAN_ROLES = frozenset(("職長", "foreman"))
LEADER_ROLES = frozenset(("班長", "leader"))
_DATE = attrgetter("date")
_ROLE = attrgetter("role")
_OCCUPATION = attrgetter("occupation")


@dataclass(frozen=True, slots=True)
class DaySets:
    """Sorted distinct dates (as ordinals): worked, as 職長, as 職長 or 班長 (+ as sets)."""

    dates: tuple[int, ...] = ()
    foreman: tuple[int, ...] = ()
    either: tuple[int, ...] = ()
    date_set: frozenset[int] = frozenset()
    foreman_set: frozenset[int] = frozenset()
    either_set: frozenset[int] = frozenset()

    @classmethod
    def of(cls, dates: set[int], foreman: set[int], either: set[int]) -> DaySets:
        """From sets (sorted here once)."""
        return cls(
            tuple(sorted(dates)),
            tuple(sorted(foreman)),
            tuple(sorted(either)),
            frozenset(dates),
            frozenset(foreman),
            frozenset(either),
        )


def _window(days: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    return days[bisect_left(days, start) : bisect_right(days, end)]


def count_in(days: tuple[int, ...], start: int, end: int) -> int:
    """Number of dates in ``[start, end]`` (inclusive) of a sorted tuple."""
    return bisect_right(days, end) - bisect_left(days, start)


def _union_count(parts: list[tuple[tuple[int, ...], frozenset[int]]]) -> int:
    """Size of the union of windows; each part is (window, all dates of its group).

    A date in a window that also belongs to an earlier group is inside that group's
    window too, so membership in the whole group is the right test. Largest window first,
    so the work is proportional to the smaller groups (C-level set operations only).
    """
    parts = sorted(parts, key=lambda p: len(p[0]), reverse=True)
    total = 0
    seen: list[frozenset[int]] = []
    for window, group in parts:
        if not seen:
            total += len(window)
        else:
            fresh = set(window)
            for earlier in seen:
                fresh = fresh.difference(earlier)  # iterates ``fresh`` only
            total += len(fresh)
        seen.append(group)
    return total


@dataclass(frozen=True, slots=True)
class Counts:
    days: int = 0
    foreman: int = 0
    leader: int = 0  # 班長 dates that are not also 職長 dates
    foreman_or_leader: int = 0
    unchecked: int = 0  # counted dates with a record without 職種 code (filter active only)
    unfiltered: int = 0  # distinct dates in the window before the 職種 filter


@dataclass(frozen=True, slots=True)
class WorkHistoryIndex:
    all: DaySets
    by_occupation: Mapping[str | None, DaySets]

    @classmethod
    def build(cls, records: Sequence[WorkRecord]) -> WorkHistoryIndex:
        """One pass of C-level iterators per distinct 職種 code (there are few)."""
        if not records:
            return cls(DaySets(), {})
        dates = list(map(date.toordinal, map(_DATE, records)))
        roles = list(map(_ROLE, records))
        occupations = list(map(_OCCUPATION, records))
        kinds = set(roles)
        with_foreman = not kinds.isdisjoint(FOREMAN_ROLES)
        with_leader = not kinds.isdisjoint(LEADER_ROLES)

        def day_sets(days: list[int], who: list[str | None]) -> tuple[set[int], ...]:
            foreman = (
                set(compress(days, map(FOREMAN_ROLES.__contains__, who))) if with_foreman else set()
            )
            leader = (
                set(compress(days, map(LEADER_ROLES.__contains__, who))) if with_leader else set()
            )
            return set(days), foreman, foreman | leader

        raw_codes = set(occupations)
        code_of = {raw: normalise_occupation(raw) or None if raw else None for raw in raw_codes}
        if len(raw_codes) == 1:
            (raw,) = raw_codes
            groups = {code_of[raw]: day_sets(dates, roles)}
        else:
            groups = {}
            for raw in raw_codes:
                mask = list(map(is_ if raw is None else eq, occupations, repeat(raw)))
                parts = day_sets(list(compress(dates, mask)), list(compress(roles, mask)))
                code = code_of[raw]
                if code in groups:
                    groups[code] = tuple(a | b for a, b in zip(groups[code], parts, strict=True))
                else:
                    groups[code] = parts
        by_occupation = {code: DaySets.of(*parts) for code, parts in groups.items()}
        return cls(_merge(by_occupation.values()), by_occupation)

    def count(self, first: date, last: date, allowed: frozenset[str] | None) -> Counts:
        """Distinct dates in ``[first, last]``, only under ``allowed`` codes (None = all).

        Records without a code always count; ``unchecked`` says on how many dates.
        """
        if last < first:
            return Counts()
        start, end = first.toordinal(), last.toordinal()
        everything = self.all
        unfiltered = count_in(everything.dates, start, end)
        groups = self.by_occupation
        if allowed is None or all(code is None or code in allowed for code in groups):
            days = unfiltered
            foreman = count_in(everything.foreman, start, end)
            either = count_in(everything.either, start, end)
        else:
            chosen = [g for code, g in groups.items() if code is None or code in allowed]
            days = _union_count([(_window(g.dates, start, end), g.date_set) for g in chosen])
            foreman = _union_count(
                [(_window(g.foreman, start, end), g.foreman_set) for g in chosen]
            )
            either = _union_count([(_window(g.either, start, end), g.either_set) for g in chosen])
        unchecked = 0
        if allowed is not None and None in groups:
            unchecked = count_in(groups[None].dates, start, end)
        return Counts(
            days=days,
            foreman=foreman,
            leader=either - foreman,
            foreman_or_leader=either,
            unchecked=unchecked,
            unfiltered=unfiltered,
        )


def _merge(parts: Iterable[DaySets]) -> DaySets:
    items = list(parts)
    if not items:
        return DaySets()
    if len(items) == 1:
        return items[0]
    return DaySets.of(
        set().union(*(p.date_set for p in items)),
        set().union(*(p.foreman_set for p in items)),
        set().union(*(p.either_set for p in items)),
    )
