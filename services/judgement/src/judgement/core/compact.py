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
operations). ``DAYS`` is the base64 text of the sorted ordinals as little-endian 32-bit
integers (``array('i')``). :class:`CompactCcus` is a
:class:`judgement.core.engine.CcusInput`: ``evaluate_ccus`` judges it exactly as ``evaluate``
judges the §5 request it came from (unit tests over synthetic and demo workers check it).

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
from datetime import date
from typing import Any, NamedTuple

from judgement.core.history import Counts, WorkHistoryIndex
from judgement.core.normalise import normalise_code

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
    the sorted dates that have exactly it. Same answers as ``WorkHistoryIndex.count`` for
    the same work history.
    """

    __slots__ = ("entries",)

    def __init__(self, entries: Mapping[Signature, Days]) -> None:
        self.entries = entries

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
        start, end = first.toordinal(), last.toordinal()
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
        {sig: list(days) for sig, days in ccus.history_index.entries.items()},
    )


# --------------------------------------------------------------------------- building


def _entries(index: WorkHistoryIndex) -> dict[Signature, Days]:
    """The dates of a validated index, split by signature (see the module's docstring)."""
    groups = sorted(index.by_occupation.items(), key=lambda kv: kv[0] or "")
    if len(groups) == 1:  # the usual case: set operations only
        ((code, sets),) = groups
        foreman = sets.foreman_set
        leader = sets.either_set - foreman
        other = sets.date_set - sets.either_set
        parts: list[tuple[Signature, set[int] | frozenset[int]]] = [
            (((code, "F"),), foreman),
            (((code, "L"),), leader),
            (((code, "N"),), other),
        ]
        return {sig: array("i", sorted(days)) for sig, days in parts if days}
    signature_of: dict[int, Signature] = {}
    get = signature_of.get
    for code, sets in groups:  # in code order: each signature lists its pairs in order
        foreman = sets.foreman_set
        for role, days in (
            ("F", foreman),
            ("L", sets.either_set - foreman),
            ("N", sets.date_set - sets.either_set),
        ):
            pair = ((code, role),)
            for day in days:
                signature_of[day] = get(day, ()) + pair
    by_signature: dict[Signature, list[int]] = {}
    for day, signature in signature_of.items():
        by_signature.setdefault(signature, []).append(day)
    return {sig: array("i", sorted(days)) for sig, days in sorted(by_signature.items(), key=_order)}


def _order(item: tuple[Signature, Any]) -> list[tuple[str, str]]:
    return [(code or "", role) for code, role in item[0]]


def _qualification(code: str | None, name: str, acquired_on: date | None) -> CompactQualification:
    normalised = normalise_code(code) or None if isinstance(code, str) else None
    return CompactQualification(normalised, name, acquired_on)


def from_record(record: Any) -> CompactCcus:
    """From a validated ``CcusRecord`` (its index is the engine's own)."""
    return CompactCcus(
        record.registration_type,
        record.registered_on,
        tuple(CompactQualification(q.code, q.name, q.acquired_on) for q in record.qualifications),
        CompactIndex(_entries(record.history_index)),
    )


class _Work(NamedTuple):
    """A work record as ``WorkHistoryIndex.build`` reads it."""

    date: date
    role: str | None
    occupation: str | None


def from_parts(
    registration_type: str,
    registered_on: date,
    qualifications: Iterable[tuple[str | None, str, date | None]],
    work: Iterable[tuple[date, str | None, str | None]],
) -> CompactCcus:
    """From plain values: ``registration_type`` (詳細型 / 簡略型 or detailed / simple),
    qualifications as ``(code, name, acquired_on)`` and work records as
    ``(date, role, 職種 code)`` (roles 職長 / foreman, 班長 / leader, anything else none).

    The work records are indexed by ``WorkHistoryIndex.build``, the validated record's own
    indexer, so codes are normalised and roles read exactly as when judging the JSON.
    """
    try:
        kind = _REGISTRATION[registration_type]
    except KeyError:
        raise ValueError(f"unknown registration type {registration_type!r}") from None
    records: Any = [_Work(*w) for w in work]  # duck-typed WorkRecords (date, role, code)
    index = WorkHistoryIndex.build(records)
    return CompactCcus(
        kind,
        registered_on,
        tuple(_qualification(*q) for q in qualifications),
        CompactIndex(_entries(index)),
    )


def _day(text: Any) -> date | None:
    return None if text is None else date.fromisoformat(text)


def from_ccus_json(text: str | bytes | Mapping[str, Any]) -> CompactCcus:
    """From a stored snapshot's §5 ``ccus`` part (JSON text, or already parsed).

    Plain ``json.loads``, no pydantic: the JSON was validated when the snapshot was received
    (``judging.snapshot_version_doc``). A date that is not ``YYYY-MM-DD`` raises
    ``ValueError``.
    """
    data = json.loads(text) if isinstance(text, str | bytes) else text
    return from_parts(
        data["registration_type"],
        date.fromisoformat(data["registered_on"]),
        (
            (q.get("code"), q["name"], _day(q.get("acquired_on")))
            for q in data.get("qualifications") or ()
        ),
        (
            (
                date.fromisoformat(r["date"]),
                r.get("role"),
                r["occupation"] if "occupation" in r else r.get("occupation_code"),
            )
            for r in data.get("work_history") or ()
        ),
    )


# --------------------------------------------------------------------------- text


def _pack(days: Days) -> str:
    packed = days if isinstance(days, array) else array("i", days)
    if _BIG_ENDIAN:  # pragma: no cover
        packed = array("i", packed)
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack(text: str) -> array[int]:
    days = array("i")
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
        "w": [[[list(pair) for pair in sig], _pack(days)] for sig, days in index.entries.items()],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> CompactCcus:
    """A :class:`CompactCcus` from its text; :class:`CompactFormatError` if it is not one."""
    try:
        body = json.loads(text)
        if body.get("v") != FORMAT_VERSION:
            raise CompactFormatError(f"compact CCUS form version {body.get('v')!r}, not 1")
        fromordinal = date.fromordinal
        entries = {
            tuple((code, role) for code, role in signature): _unpack(days)
            for signature, days in body["w"]
        }
        return CompactCcus(
            body["type"],
            fromordinal(body["registered_on"]),
            tuple(
                CompactQualification(code, name, None if day is None else fromordinal(day))
                for code, name, day in body["q"]
            ),
            CompactIndex(entries),
        )
    except CompactFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CompactFormatError(f"not a compact CCUS form: {exc!r}") from None
