"""The compact form of a worker's CCUS data: exactly what the engine reads, cheap to decode.

Judging a stored snapshot from its §5 JSON (``ccus_json``) means validating one pydantic
object per work record (≈ 7 ms for 3,000 records) for a judgement of ≈ 0.2 ms. The compact
form keeps, beside the JSON (which stays the record of what was received), only what the
engine needs: the registration, the qualifications and, per CCUS 職種 code and role of the
day, the sorted distinct work dates packed as integers. Decoding it is one small
``json.loads`` and a few ``base64`` → ``array`` copies; counting days is a binary search.

**Format, version 1** — one JSON text (ASCII apart from qualification names)::

    {"v": 1,
     "type": "詳細型" | "簡略型",           # registration type, as the engine reads it
     "registered_on": 737516,              # date.toordinal()
     "q": [["40040", "玉掛け技能講習", 735000], [null, "…", null], …],
                                           # qualifications as registered, in order:
                                           # code (normalised, null when none), name,
                                           # 取得年月日 as an ordinal (null when none)
     "base": 737520,                       # the first date worked (0 without any)
     "w": [[[["06-01", "F"]], DAYS],       # per (職種 code, role of the day): the dates
           [[["06-01", "N"]], DAYS],       # worked, sorted and distinct
           [[[null, "N"], ["06-02", "L"]], DAYS], …]}

Each entry of ``w`` names (職種 code — ``NN-NN``, null for records without one —, role of
the day under that code: ``F`` a 職長 record, ``L`` a 班長 record and no 職長 one, ``N``
neither) and holds the dates with exactly those pairs: a date worked under one code is in
that code's entry for its role; a date worked under two codes (two sites) is in an entry
naming both. The entries therefore split the dates worked without overlap, and every count
the engine makes — distinct days, 職長 days, 職長・班長 days, days without a code, under any
set of allowed codes — is a sum of binary searches over the entries that qualify (no set
operations). ``DAYS`` is the base64 text of the sorted dates as days after ``base``, in
little-endian unsigned 16-bit integers (``array('H')``: 179 years) — or 32-bit signed ones
(``array('i')``) when the text has ``"wide": true`` (dates further apart than that, which
only a garbled record gives). Counting works on the offsets: no date is converted.
:class:`CompactCcus` is a :class:`judgement.core.engine.CcusInput`: ``evaluate_ccus`` judges
it exactly as ``evaluate`` judges the §5 request it came from (unit tests over synthetic and
demo workers check it).

Pure: no I/O. Building: :func:`from_record` (a validated ``CcusRecord``), :func:`from_parts`
(plain values, e.g. a ``CcusWorkerSnapshot`` event) and :func:`from_ccus_json` (the stored
§5 JSON, read without pydantic: it was validated when received). :func:`encode` /
:func:`decode` write and read the text.
"""

from __future__ import annotations

import base64
import json
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from itertools import compress, repeat
from operator import eq, is_, itemgetter, methodcaller
from typing import Any, NamedTuple

from pydantic_core import from_json

from judgement.core.history import FOREMAN_ROLES, LEADER_ROLES, Counts
from judgement.core.normalise import normalise_code, normalise_occupation

__all__ = [
    "FORMAT_VERSION",
    "CompactCcus",
    "CompactFormatError",
    "CompactIndex",
    "CompactQualification",
    "decode",
    "encode",
    "from_ccus_json",
    "from_parts",
    "from_record",
]

FORMAT_VERSION = 1
DETAILED, SIMPLE = "詳細型", "簡略型"
_REGISTRATION = {"detailed": DETAILED, "simple": SIMPLE, DETAILED: DETAILED, SIMPLE: SIMPLE}
_BIG_ENDIAN = sys.byteorder == "big"
if array("i").itemsize != 4:  # pragma: no cover - every platform we run on
    raise ImportError("judgement.core.compact needs 32-bit C ints")

Days = Sequence[int]  # sorted distinct ordinals (an array('i') once decoded)


class CompactFormatError(ValueError):
    """A compact text that is not version 1 of the format."""


class CompactQualification(NamedTuple):
    """A CCUS qualification as the engine reads it (``engine.QualificationRecord``)."""

    code: str | None
    name: str
    acquired_on: date | None


Role = str  # "F" 職長, "L" 班長 (no 職長 record that day), "N" neither
Signature = tuple[tuple[str | None, Role], ...]  # (職種 code, role of the day), sorted


def _in(days: Days, start: int, end: int) -> int:
    return bisect_right(days, end) - bisect_left(days, start)


class CompactIndex:
    """Day counting over the compact entries (``judgement.core.engine.DayCounter``).

    ``entries`` maps each signature — the (職種 code, role of the day) pairs of a date — to
    the sorted dates that have exactly it, as days after ``base`` (an ordinal). Same answers
    as ``WorkHistoryIndex.count`` for the same work history.
    """

    __slots__ = ("base", "entries")

    def __init__(self, entries: Mapping[Signature, Days], base: int = 0) -> None:
        self.entries = entries
        self.base = base

    @classmethod
    def of(cls, dates: Mapping[Signature, Sequence[int]]) -> CompactIndex:
        """From sorted ordinals per signature (offsets from the first date worked)."""
        base = min((days[0] for days in dates.values() if days), default=0)
        last = max((days[-1] for days in dates.values() if days), default=0)
        kind = "H" if last - base < 1 << 16 else "i"
        return cls(
            {sig: array(kind, [d - base for d in days]) for sig, days in dates.items()}, base
        )

    def ordinals(self) -> dict[Signature, list[int]]:
        """The dates of each signature as ordinals."""
        base = self.base
        return {sig: [base + d for d in days] for sig, days in self.entries.items()}

    @property
    def codes(self) -> frozenset[str | None]:
        return frozenset(code for signature in self.entries for code, _ in signature)

    def count(self, first: date, last: date, allowed: frozenset[str] | None) -> Counts:
        """Distinct dates in ``[first, last]``, only under ``allowed`` codes (None = all).

        Records without a code always count; ``unchecked`` says on how many dates (only
        when a filter applies).
        """
        if last < first:
            return Counts()
        start, end = first.toordinal() - self.base, last.toordinal() - self.base
        days = foreman = either = unchecked = unfiltered = 0
        for signature, dates in self.entries.items():
            n = _in(dates, start, end)
            if not n:
                continue
            unfiltered += n
            counted = False
            as_foreman = as_either = False
            for code, role in signature:
                if code is None:
                    if allowed is not None:
                        unchecked += n
                elif allowed is not None and code not in allowed:
                    continue
                counted = True
                if role == "F":
                    as_foreman = as_either = True
                elif role == "L":
                    as_either = True
            if counted:
                days += n
                if as_foreman:
                    foreman += n
                if as_either:
                    either += n
        return Counts(
            days=days,
            foreman=foreman,
            leader=either - foreman,
            foreman_or_leader=either,
            unchecked=unchecked,
            unfiltered=unfiltered,
        )


class CompactCcus:
    """A worker's CCUS data in compact form (``judgement.core.engine.CcusInput``)."""

    __slots__ = ("history_index", "qualifications", "registered_on", "registration_type")

    def __init__(
        self,
        registration_type: str,
        registered_on: date,
        qualifications: Sequence[CompactQualification],
        history_index: CompactIndex,
    ) -> None:
        self.registration_type = registration_type
        self.registered_on = registered_on
        self.qualifications = qualifications
        self.history_index = history_index

    @property
    def occupation_codes(self) -> frozenset[str | None]:
        """The 職種 codes the worker has work records under (None: records without one)."""
        return self.history_index.codes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactCcus):
            return NotImplemented
        return _plain(self) == _plain(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        entries = {sig: len(days) for sig, days in self.history_index.entries.items()}
        return (
            f"CompactCcus({self.registration_type}, {self.registered_on}, "
            f"{len(self.qualifications)} qualifications, dates by (code, role) {entries})"
        )


def _plain(ccus: CompactCcus) -> tuple[Any, ...]:
    return (
        ccus.registration_type,
        ccus.registered_on,
        [tuple(q) for q in ccus.qualifications],
        ccus.history_index.ordinals(),
    )


# --------------------------------------------------------------------------- building

# per 職種 code: (dates worked, dates with a 職長 record, dates with a 職長 or 班長 record)
DaySets = tuple[set[int], set[int], set[int]]
Groups = Mapping[str | None, tuple[AbstractSet[int], AbstractSet[int], AbstractSet[int]]]


def _groups(
    ordinals: Sequence[int], roles: Sequence[str | None], occupations: Sequence[str | None]
) -> Groups:
    """The day sets of ``WorkHistoryIndex.build`` (same normalisation of codes and roles),
    from parallel lists, with C-level iterators only."""
    if not ordinals:
        return {}
    kinds = set(roles)
    with_foreman = not kinds.isdisjoint(FOREMAN_ROLES)
    with_leader = not kinds.isdisjoint(LEADER_ROLES)

    def day_sets(days: Sequence[int], who: Sequence[str | None]) -> DaySets:
        foreman: set[int] = set()
        leader: set[int] = set()
        if with_foreman:
            foreman = set(compress(days, map(FOREMAN_ROLES.__contains__, who)))
        if with_leader:
            leader = set(compress(days, map(LEADER_ROLES.__contains__, who)))
        return set(days), foreman, foreman | leader

    raw_codes = set(occupations)
    code_of = {raw: normalise_occupation(raw) or None if raw else None for raw in raw_codes}
    if len(raw_codes) == 1:
        (raw,) = raw_codes
        return {code_of[raw]: day_sets(ordinals, roles)}
    groups: dict[str | None, DaySets] = {}
    for raw in raw_codes:
        mask = list(map(is_ if raw is None else eq, occupations, repeat(raw)))
        parts = day_sets(list(compress(ordinals, mask)), list(compress(roles, mask)))
        code = code_of[raw]
        if code in groups:
            old = groups[code]
            groups[code] = (old[0] | parts[0], old[1] | parts[1], old[2] | parts[2])
        else:
            groups[code] = parts
    return groups


def _entries(groups: Groups) -> CompactIndex:
    """The dates split by signature (see the module's docstring): set operations for the
    dates worked under one code, a pass over the (few) dates worked under several."""
    codes = sorted(groups, key=lambda code: code or "")
    overlap: set[int] = set()
    seen: set[int] = set()
    for code in codes:
        dates = groups[code][0]
        overlap |= seen & dates
        seen |= dates
    found: dict[Signature, Iterable[int]] = {}
    for code in codes:
        dates, foreman, either = groups[code]
        single = dates - overlap if overlap else dates
        for role, days in (
            ("F", foreman & single),
            ("L", (either - foreman) & single),
            ("N", single - either),
        ):
            if days:
                found[((code, role),)] = days
    if overlap:
        by_signature: dict[Signature, list[int]] = {}
        for day in overlap:
            signature = tuple(
                (code, "F" if day in foreman else "L" if day in either else "N")
                for code in codes
                for dates, foreman, either in (groups[code],)
                if day in dates
            )
            by_signature.setdefault(signature, []).append(day)
        found.update(by_signature)
    return CompactIndex.of({sig: sorted(days) for sig, days in sorted(found.items(), key=_order)})


def _order(item: tuple[Signature, Any]) -> list[tuple[str, str]]:
    return [(code or "", role) for code, role in item[0]]


def _qualification(code: str | None, name: str, acquired_on: date | None) -> CompactQualification:
    normalised = normalise_code(code) or None if isinstance(code, str) else None
    return CompactQualification(normalised, name, acquired_on)


def from_record(record: Any) -> CompactCcus:
    """From a validated ``CcusRecord`` (its index is the engine's own)."""
    groups = {
        code: (sets.date_set, sets.foreman_set, sets.either_set)
        for code, sets in record.history_index.by_occupation.items()
    }
    return CompactCcus(
        record.registration_type,
        record.registered_on,
        tuple(CompactQualification(q.code, q.name, q.acquired_on) for q in record.qualifications),
        _entries(groups),
    )


def _registration(registration_type: str) -> str:
    try:
        return _REGISTRATION[registration_type]
    except KeyError:
        raise ValueError(f"unknown registration type {registration_type!r}") from None


def from_parts(
    registration_type: str,
    registered_on: date,
    qualifications: Iterable[tuple[str | None, str, date | None]],
    work: Iterable[tuple[date, str | None, str | None]],
) -> CompactCcus:
    """From plain values: ``registration_type`` (詳細型 / 簡略型 or detailed / simple),
    qualifications as ``(code, name, acquired_on)`` and work records as
    ``(date, role, 職種 code)`` (roles 職長 / foreman, 班長 / leader, anything else none).

    Codes and roles are read exactly as ``WorkHistoryIndex.build`` reads the validated
    record's (the unit tests compare both forms).
    """
    records = list(work)
    groups = _groups(
        [day.toordinal() for day, _, _ in records],
        [role for _, role, _ in records],
        [code for _, _, code in records],
    )
    return CompactCcus(
        _registration(registration_type),
        registered_on,
        tuple(_qualification(*q) for q in qualifications),
        _entries(groups),
    )


def _day(text: Any) -> date | None:
    return None if text is None else date.fromisoformat(text)


_DATE, _ROLE, _OCCUPATION = (
    itemgetter("date"),
    methodcaller("get", "role"),
    itemgetter("occupation"),
)


def from_ccus_json(text: str | bytes | Mapping[str, Any]) -> CompactCcus:
    """From a stored snapshot's §5 ``ccus`` part (JSON text, or already parsed).

    No per-record models: the JSON was validated when the snapshot was received
    (``judging.snapshot_version_doc``); C-level passes over the records, each distinct date
    parsed once. A date that is not ``YYYY-MM-DD`` raises ``ValueError``.
    """
    data = from_json(text) if isinstance(text, str | bytes) else text
    records = data.get("work_history") or []
    days = list(map(_DATE, records))
    ordinal = {day: date.fromisoformat(day).toordinal() for day in set(days)}
    try:
        occupations = list(map(_OCCUPATION, records))
    except KeyError:  # "occupation_code", the snapshot's own name, in some records
        occupations = [
            r["occupation"] if "occupation" in r else r.get("occupation_code") for r in records
        ]
    groups = _groups(list(map(ordinal.__getitem__, days)), list(map(_ROLE, records)), occupations)
    return CompactCcus(
        _registration(data["registration_type"]),
        date.fromisoformat(data["registered_on"]),
        tuple(
            _qualification(q.get("code"), q["name"], _day(q.get("acquired_on")))
            for q in data.get("qualifications") or ()
        ),
        _entries(groups),
    )


# --------------------------------------------------------------------------- text


def _pack(days: Days) -> str:
    packed = days if isinstance(days, array) else array("i", days)
    if _BIG_ENDIAN:  # pragma: no cover
        packed = array(packed.typecode, packed)
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack(text: str, kind: str) -> array[int]:
    days = array(kind)
    days.frombytes(base64.b64decode(text))
    if _BIG_ENDIAN:  # pragma: no cover
        days.byteswap()
    return days


def encode(ccus: CompactCcus) -> str:
    """The version-1 text of ``ccus`` (see the module's docstring)."""
    index = ccus.history_index
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "type": ccus.registration_type,
        "registered_on": ccus.registered_on.toordinal(),
        "q": [
            [q.code, q.name, q.acquired_on.toordinal() if q.acquired_on else None]
            for q in ccus.qualifications
        ],
        "base": index.base,
        "w": [[[list(pair) for pair in sig], _pack(days)] for sig, days in index.entries.items()],
    }
    if any(getattr(days, "typecode", "H") != "H" for days in index.entries.values()):
        body["wide"] = True
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> CompactCcus:
    """A :class:`CompactCcus` from its text; :class:`CompactFormatError` if it is not one."""
    try:
        body = json.loads(text)
        if body.get("v") != FORMAT_VERSION:
            raise CompactFormatError(f"compact CCUS form version {body.get('v')!r}, not 1")
        fromordinal = date.fromordinal
        kind = "i" if body.get("wide") else "H"
        entries = {
            tuple((code, role) for code, role in signature): _unpack(days, kind)
            for signature, days in body["w"]
        }
        return CompactCcus(
            body["type"],
            fromordinal(body["registered_on"]),
            tuple(
                CompactQualification(code, name, None if day is None else fromordinal(day))
                for code, name, day in body["q"]
            ),
            CompactIndex(entries, body["base"]),
        )
    except CompactFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CompactFormatError(f"not a compact CCUS form: {exc!r}") from None
