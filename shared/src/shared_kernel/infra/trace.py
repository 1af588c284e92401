"""Follow one application across every service's log (README "Operations").

    uv run python -m shared_kernel.infra.trace ID [--log-dir var/log] [--json]

``ID`` is a correlation id (the ``X-Correlation-ID`` response header, an event's
``ce_correlationid``) or an application number (申請番号 ``AP-YYYYMMDD-XXXXXX``). For an
application number, the correlation ids are those of the lines that name the application in
any field (``application_id``, ``subject`` ``AP-…``/``J-AP-…-01``, ``mail_id`` …); the trace
is every line with one of them, plus the lines that name the application without one.

The JSON lines of ``--log-dir``/*.log (one file per service, ``var/log`` by default) that
match are merged in timestamp order and printed one readable line each (``--json``: as
they are). Other lines (Kafka's, PostgreSQL's …) are skipped. Exit status 0 when something
matched, 1 when nothing did, 2 on bad usage; a message is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

# application.core.applications.new_application_id: AP-, the day, 6 Crockford base32 letters
APPLICATION_NUMBER = re.compile(r"AP-\d{8}-[0-9A-HJKMNP-TV-Z]{6}")
# shown first, in this order; the rest follow as logged
LEADING = ("type", "event_id", "subject", "outcome", "method", "path", "route", "status")
HIDDEN = frozenset({"timestamp", "service", "message", "event", "correlation_id", "level"})
NO_TIME = datetime.max.replace(tzinfo=UTC)
# var/log/<service>.log: the file says who wrote a line even where a field named ``service``
# means something else (the portal's ops.failure names the service that failed)
SERVICES = frozenset(
    {"identity", "consent", "application", "judgement", "notification", "document", "portal"}
)


@dataclass(frozen=True)
class Line:
    """One JSON log line and where it came from."""

    record: dict[str, Any]
    raw: str
    source: str  # the log file's name without .log

    @property
    def service(self) -> str:
        if self.source in SERVICES:
            return self.source
        return str(self.record.get("service") or self.source)

    @property
    def at(self) -> datetime:
        try:
            at = datetime.fromisoformat(str(self.record.get("timestamp")))
        except ValueError:
            return NO_TIME
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    @property
    def correlation_id(self) -> str | None:
        cid = self.record.get("correlation_id")
        return cid if isinstance(cid, str) else None


def parse(raw: str, source: str) -> Line | None:
    """The line as a JSON object, or ``None`` for anything else."""
    text = raw.strip()
    if not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return Line(record, text, source) if isinstance(record, dict) else None


def read(paths: Iterable[Path], needles: Iterable[str]) -> Iterator[Line]:
    """The JSON lines of ``paths`` that contain one of ``needles`` (a cheap first filter)."""
    wanted = tuple(needles)
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for raw in lines:
                if any(n in raw for n in wanted) and (line := parse(raw, path.stem)):
                    yield line


def names(value: Any, application: re.Pattern[str]) -> bool:
    """Whether ``value`` (or any string nested in it) names the application."""
    if isinstance(value, str):
        return application.search(value) is not None
    if isinstance(value, dict):
        return any(names(v, application) for v in value.values())
    if isinstance(value, list):
        return any(names(v, application) for v in value)
    return False


def naming(number: str) -> re.Pattern[str]:
    """The application number as a whole token: ``AP-…``, ``J-AP-…-01``, ``x:AP-…:y``."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])")


def trace(paths: Sequence[Path], wanted: str) -> list[Line]:
    """The lines of one correlation id, or of one application number, in time order."""
    number = wanted.upper()
    if APPLICATION_NUMBER.fullmatch(number):
        application = naming(number)
        named = [x for x in read(paths, [number]) if names(x.record, application)]
        cids = {cid for x in named if (cid := x.correlation_id)}
        found = [x for x in read(paths, cids) if x.correlation_id in cids] if cids else []
        found += [x for x in named if x.correlation_id is None]
    else:
        found = [x for x in read(paths, [wanted]) if x.correlation_id == wanted]
    return sorted(found, key=lambda x: x.at)


def text(value: Any) -> str:
    """A string as it is unless empty or spaced; anything else as JSON."""
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return value
    return json.dumps(value, ensure_ascii=False)


def render(line: Line, *, with_cid: bool = False) -> str:
    """``time  service  event  key=value …`` (the level only when it is not info)."""
    record = line.record
    event = str(record.get("message", record.get("event", "-")))
    fields = [k for k in LEADING if k in record]
    fields += [k for k in record if k not in HIDDEN and k not in LEADING]
    if record.get("service", line.service) != line.service:  # a field of its own, then
        fields.append("service")
    parts = [str(record.get("timestamp", "-")), f"{line.service:<12}"]
    if with_cid:
        parts.append((line.correlation_id or "-")[:8].ljust(8))
    level = record.get("level", "info")
    parts.append(event if level == "info" else f"[{level}] {event}")
    parts += [f"{k}={text(record[k])}" for k in fields]
    return "  ".join(parts)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not the usage block
        self.exit(2, f"trace: {message} (--help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m shared_kernel.infra.trace",
        description="Follow one application across every service's log.",
    )
    parser.add_argument("id", help="correlation id or application number (AP-YYYYMMDD-XXXXXX)")
    parser.add_argument("--log-dir", type=Path, default=Path("var/log"), help="default var/log")
    parser.add_argument("--json", action="store_true", help="print the matching lines as they are")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    wanted = args.id.strip()
    paths = sorted(args.log_dir.glob("*.log"))
    if not wanted:
        print("trace: 空の ID / empty id", file=sys.stderr)
        return 2
    if not paths:
        print(f"trace: {args.log_dir}/*.log がありません / no log files there", file=sys.stderr)
        return 2
    try:
        found = trace(paths, wanted)
        if not found:
            print(
                f"trace: {wanted} に一致するログ行はありません / no log line matches in "
                f"{args.log_dir}/*.log",
                file=sys.stderr,
            )
            return 1
        cids = {x.correlation_id for x in found}
        for line in found:
            print(line.raw if args.json else render(line, with_cid=len(cids) > 1))
        sys.stdout.flush()
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # `… | head`: the reader has enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"trace: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
