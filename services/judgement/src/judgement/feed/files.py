"""Reading CCUS worker snapshots from files (the formats are in docs/ccus-feed.md).

JSON
    A snapshot is the ``CcusWorkerSnapshot`` event payload as JSON. ``taken_at`` may be left
    out (the feed's run time is used); keys starting with ``_`` are notes for people and
    tools (``_trade``, ``_career``, ``_demo``) and are dropped. A ``.json`` file holds one
    object or an array of them; a ``.jsonl`` / ``.ndjson`` file (or a ``.json`` file holding
    more than one object, one per line) holds JSON lines, read as a stream.

CSV (UTF-8, header row; the kind of file is told by its header)
    ``workers``        worker_id, name, name_kana, birth_date, registration_type,
                       registered_on [, occupations] [, taken_at]
    ``qualifications`` worker_id, code, name, acquired_on
    ``work_history``   worker_id, date, site_id, role, occupation_code
    Every qualification and work-history row must belong to a worker of a workers file
    given in the same run. ``occupations`` is ``code:name`` pairs joined by ``;``.

Anything that is not a valid snapshot raises :class:`FeedInputError`, whose message is one
line naming the file, the line (or array item) and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared_kernel.events.catalogue import (
    CcusQualification,
    CcusWorkerSnapshot,
    CcusWorkRecord,
)

M = TypeVar("M", bound=BaseModel)

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
WORKER_ID = re.compile(r"[0-9]{14}")


class FeedInputError(ValueError):
    """Input that cannot be published; the message is one line for standard error."""


# --------------------------------------------------------------------------- validation


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: ValidationError) -> str:
    """The first problem of a pydantic error as ``field: what (got value)``."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "missing (required)"
    elif first["type"] == "extra_forbidden":
        message = "unknown field"
    value = first.get("input")
    got = ""
    if isinstance(value, str | int | float | bool) and first["type"] not in (
        "missing",
        "extra_forbidden",
    ):
        got = f" (got {json.dumps(value, ensure_ascii=False)})"
    more = f"; {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
    where = _location(first["loc"])
    return f"{where + ': ' if where else ''}{message}{got}{more}"


def check_worker_id(value: object) -> str | None:
    """The problem with a 技能者ID, or None."""
    if isinstance(value, str) and WORKER_ID.fullmatch(value):
        return None
    shown = json.dumps(value, ensure_ascii=False)
    return f"worker_id: must be 14 digits (got {shown})"


def snapshot_from(raw: object, *, now: datetime) -> CcusWorkerSnapshot:
    """Validate one snapshot object (JSON types); raise ValueError with the problem."""
    if not isinstance(raw, dict):
        kind = "an array" if isinstance(raw, list) else json.dumps(raw, ensure_ascii=False)[:40]
        raise ValueError(f"expected a snapshot object, got {kind}")
    data = {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("_"))}
    data.setdefault("taken_at", now.isoformat())
    problem = check_worker_id(data["worker_id"]) if "worker_id" in data else None
    snapshot = _validate(CcusWorkerSnapshot, data)
    if problem:
        raise ValueError(problem)
    if snapshot.taken_at.utcoffset() is None:
        raise ValueError(
            f"taken_at: needs a UTC offset, e.g. {snapshot.taken_at.isoformat()}+09:00"
        )
    if snapshot.registered_on < snapshot.birth_date:
        raise ValueError(
            f"registered_on: {snapshot.registered_on} is before birth_date {snapshot.birth_date}"
        )
    return snapshot


def _validate(model: type[M], data: dict[str, Any]) -> M:
    # Strict JSON validation: dates must be YYYY-MM-DD strings, codes strings (no 40040).
    try:
        return model.model_validate_json(json.dumps(data, ensure_ascii=False), strict=True)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None


# --------------------------------------------------------------------------- reading


def _cannot_read(path: str, exc: OSError) -> FeedInputError:
    return FeedInputError(f"{path}: cannot read: {exc.strerror or exc}")


def _not_utf8(path: str, exc: UnicodeDecodeError, line: int) -> FeedInputError:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return FeedInputError(
        f"{path}: line {line}: not UTF-8 text (byte 0x{byte}); save the file as UTF-8"
    )


def _read_text(path: str) -> str:
    """The whole file as text (UTF-8, a BOM allowed)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = bytes(exc.object).count(b"\n", 0, exc.start) + 1
        raise _not_utf8(path, exc, line) from None


def _text_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, read as a stream (UTF-8, a BOM allowed)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below; open errors reported here)
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    with handle:
        try:
            for number, raw in enumerate(handle, 1):
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise _not_utf8(path, exc, number) from None
                yield number, text
        except OSError as exc:
            raise _cannot_read(path, exc) from None


def _bad_json(path: str, exc: json.JSONDecodeError, line_offset: int = 0) -> FeedInputError:
    return FeedInputError(
        f"{path}: line {exc.lineno + line_offset} column {exc.colno}: bad JSON: {exc.msg}"
    )


def read_json(path: str, *, now: datetime) -> Iterator[CcusWorkerSnapshot]:
    """Snapshots of one JSON or JSON-lines file, in file order."""
    if path.lower().endswith(JSON_LINES_SUFFIXES):
        yield from _read_json_lines(path, now=now)
        return
    text = _read_text(path)
    if not text.strip():
        raise FeedInputError(f"{path}: empty file (no snapshot)")
    start = len(text) - len(text.lstrip())
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        first_object = text[start : exc.pos].rstrip()
        if exc.msg != "Extra data" or "\n" in first_object or text[start] != "{":
            raise _bad_json(path, exc) from None
        # a first object on one line and more after it: JSON lines in a .json file
        del text
        yield from _read_json_lines(path, now=now)
        return
    if isinstance(content, list):
        yield from _read_json_array(path, text, now=now)
        return
    try:
        yield snapshot_from(content, now=now)
    except ValueError as exc:
        raise FeedInputError(f"{path}: {exc}") from None


def _read_json_lines(path: str, *, now: datetime) -> Iterator[CcusWorkerSnapshot]:
    seen = 0
    for number, line in _text_lines(path):
        if not line.strip():
            continue
        try:
            content = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad_json(path, exc, number - 1) from None
        try:
            yield snapshot_from(content, now=now)
        except ValueError as exc:
            raise FeedInputError(f"{path}: line {number}: {exc}") from None
        seen += 1
    if not seen:
        raise FeedInputError(f"{path}: empty file (no snapshot)")


def _read_json_array(path: str, text: str, *, now: datetime) -> Iterator[CcusWorkerSnapshot]:
    """Items of a top-level array (already known to be valid JSON), each validated with
    the line it starts on for error messages."""
    decoder = json.JSONDecoder()
    whitespace = re.compile(r"\s*")
    line, counted = 1, 0

    def skip(i: int) -> int:
        match = whitespace.match(text, i)
        return match.end() if match else i

    def error(msg: str, pos: int) -> FeedInputError:
        return _bad_json(path, json.JSONDecodeError(msg, text, pos))

    i = skip(skip(0) + 1)  # past "["
    if i < len(text) and text[i] == "]":
        i += 1
    else:
        item = 0
        while True:
            try:
                content, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                raise _bad_json(path, exc) from None
            line += text.count("\n", counted, i)
            counted = i
            try:
                yield snapshot_from(content, now=now)
            except ValueError as exc:
                raise FeedInputError(f"{path}: line {line} (item {item}): {exc}") from None
            item += 1
            i = skip(end)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
                continue
            if i < len(text) and text[i] == "]":
                i += 1
                break
            raise error("Expecting ',' delimiter" if i < len(text) else "Expecting ']'", i)
    i = skip(i)
    if i != len(text):
        raise error("Extra data", i)


# --------------------------------------------------------------------------- CSV

WORKER_COLUMNS = ("worker_id", "name", "name_kana", "birth_date", "registration_type",
                  "registered_on")  # fmt: skip
WORKER_OPTIONAL = ("occupations", "taken_at")
QUALIFICATION_COLUMNS = ("worker_id", "code", "name", "acquired_on")
WORK_COLUMNS = ("worker_id", "date", "site_id", "role", "occupation_code")
REGISTRATION_TYPES = {"detailed": "detailed", "simple": "simple", "詳細型": "detailed",
                      "簡略型": "simple"}  # fmt: skip
ROLES = {"": "worker", "worker": "worker", "leader": "leader", "foreman": "foreman",
         "職長": "foreman", "班長": "leader"}  # fmt: skip


@dataclass
class _Worker:
    where: str  # "path: line N", for errors found once the worker is assembled
    data: dict[str, Any]
    qualifications: list[dict[str, Any]] = field(default_factory=list)
    work_history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Row:
    where: str
    worker_id: str
    item: dict[str, Any]


def _csv_kind(path: str, header: list[str]) -> str:
    columns = set(header)
    required: tuple[str, ...]
    optional: tuple[str, ...]
    if "name_kana" in columns:
        kind, required, optional = "workers", WORKER_COLUMNS, WORKER_OPTIONAL
    elif "acquired_on" in columns:
        kind, required, optional = "qualifications", QUALIFICATION_COLUMNS, ()
    elif "site_id" in columns or "date" in columns:
        kind, required, optional = "work_history", WORK_COLUMNS, ()
    else:
        raise FeedInputError(
            f"{path}: line 1: unrecognised CSV header {','.join(header)!r}: expected a"
            " workers, qualifications or work_history file (see docs/ccus-feed.md)"
        )
    for name in header:
        if name not in required and name not in optional:
            raise FeedInputError(f"{path}: line 1: unknown column {name!r} in a {kind} file")
        if header.count(name) > 1:
            raise FeedInputError(f"{path}: line 1: column {name!r} appears twice")
    missing = [c for c in required if c not in columns]
    if missing:
        raise FeedInputError(f"{path}: line 1: {kind} file without column(s) {', '.join(missing)}")
    return kind


def _csv_rows(path: str) -> tuple[str, Iterator[tuple[int, dict[str, str]]]]:
    """The kind of the file and its rows (line number, column → cell)."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)

    def next_row() -> list[str] | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise FeedInputError(f"{path}: line {reader.line_num}: bad CSV: {exc}") from None

    header = next_row()
    if header is None:
        raise FeedInputError(f"{path}: empty file (no header row)")
    header = [h.strip() for h in header]
    kind = _csv_kind(path, header)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            first_line = reader.line_num + 1
            row = next_row()
            if row is None:
                return
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise FeedInputError(
                    f"{path}: line {first_line}: {len(row)} fields, the header has {len(header)}"
                )
            yield first_line, {h: c.strip() for h, c in zip(header, row, strict=True)}

    return kind, rows()


def _occupations(cell: str) -> list[dict[str, str]]:
    out = []
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        code, sep, name = part.partition(":")
        if not sep or not code.strip() or not name.strip():
            raise ValueError(f"occupations: {part!r} is not code:name (e.g. 06-01:とび工)")
        out.append({"code": code.strip(), "name": name.strip()})
    return out


def _worker_row(cells: dict[str, str]) -> dict[str, Any]:
    kind = REGISTRATION_TYPES.get(cells["registration_type"])
    if kind is None:
        shown = json.dumps(cells["registration_type"], ensure_ascii=False)
        raise ValueError(f"registration_type: must be detailed or simple (got {shown})")
    data: dict[str, Any] = {
        "worker_id": cells["worker_id"],
        "registration_type": kind,
        "registered_on": cells["registered_on"],
        "name": cells["name"],
        "name_kana": cells["name_kana"],
        "birth_date": cells["birth_date"],
        "occupations": _occupations(cells.get("occupations", "")),
    }
    if cells.get("taken_at"):
        data["taken_at"] = cells["taken_at"]
    for column in ("name", "name_kana", "birth_date", "registered_on"):
        if not data[column]:
            raise ValueError(f"{column}: missing (required)")
    return data


def _work_row(cells: dict[str, str]) -> dict[str, Any]:
    role = ROLES.get(cells["role"])
    if role is None:
        shown = json.dumps(cells["role"], ensure_ascii=False)
        raise ValueError(f"role: must be foreman, leader or worker (got {shown})")
    if not cells["date"]:
        raise ValueError("date: missing (required)")
    return {
        "date": cells["date"],
        "site_id": cells["site_id"],
        "role": role,
        "occupation_code": cells["occupation_code"] or None,
    }


def read_csv_files(paths: Sequence[str], *, now: datetime) -> Iterator[CcusWorkerSnapshot]:
    """Snapshots assembled from workers / qualifications / work_history CSV files."""
    workers: dict[str, _Worker] = {}
    parts: list[tuple[str, _Row]] = []
    for path in paths:
        kind, rows = _csv_rows(path)
        for number, cells in rows:
            where = f"{path}: line {number}"
            problem = check_worker_id(cells["worker_id"])
            if problem:
                raise FeedInputError(f"{where}: {problem}")
            try:
                if kind == "workers":
                    data = _worker_row(cells)
                    _validate(CcusWorkerSnapshot, {**data, "taken_at": now.isoformat()})
                else:
                    item = _part(kind, cells)
            except ValueError as exc:
                raise FeedInputError(f"{where}: {exc}") from None
            if kind == "workers":
                earlier = workers.get(data["worker_id"])
                if earlier is not None:
                    raise FeedInputError(
                        f"{where}: worker {data['worker_id']} is already listed ({earlier.where})"
                    )
                workers[data["worker_id"]] = _Worker(where, data)
            else:
                parts.append((kind, _Row(where, cells["worker_id"], item)))
    for kind, row in parts:
        owner = workers.get(row.worker_id)
        if owner is None:
            raise FeedInputError(
                f"{row.where}: worker {row.worker_id} is not in any workers CSV file given"
            )
        (owner.qualifications if kind == "qualifications" else owner.work_history).append(row.item)
    for worker in workers.values():
        body = {
            **worker.data,
            "qualifications": worker.qualifications,
            "work_history": worker.work_history,
        }
        try:
            yield snapshot_from(body, now=now)
        except ValueError as exc:
            raise FeedInputError(f"{worker.where}: {exc}") from None


def _part(kind: str, cells: dict[str, str]) -> dict[str, Any]:
    model: type[BaseModel]
    if kind == "qualifications":
        model, item = CcusQualification, _qualification_fields(cells)
    else:
        model, item = CcusWorkRecord, _work_row(cells)
    _validate(model, item)
    return item


def _qualification_fields(cells: dict[str, str]) -> dict[str, Any]:
    if not cells["name"]:
        raise ValueError("name: missing (required)")
    return {
        "code": cells["code"],
        "name": cells["name"],
        "acquired_on": cells["acquired_on"] or None,
    }


# --------------------------------------------------------------------------- all files


def read_snapshots(paths: Iterable[str], *, now: datetime) -> Iterator[CcusWorkerSnapshot]:
    """Every snapshot of the given files: JSON files in order, then the CSV set."""
    paths = list(paths)
    csv_paths = [p for p in paths if p.lower().endswith(CSV_SUFFIXES)]
    for path in paths:
        if path not in csv_paths:
            yield from read_json(path, now=now)
    if csv_paths:
        yield from read_csv_files(csv_paths, now=now)
