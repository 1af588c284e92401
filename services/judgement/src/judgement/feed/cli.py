"""``python -m judgement feed …``: the stand-in for the CCUS partner system's snapshot feed.

::

    feed synthetic --count N --seed S [--as-of YYYY-MM-DD] [--start K] [--dry-run] [--out F]
    feed file PATH [PATH …] [--dry-run]
    feed demo [--dry-run]

``synthetic`` generates workers (:mod:`judgement.feed.synthetic`) and publishes them, or
writes them as JSON lines with ``--out`` (file format plus ``_trade`` / ``_career`` notes),
or only counts them with ``--dry-run``. ``file`` reads JSON / JSON-lines / CSV files
(:mod:`judgement.feed.files`), checks every snapshot first, then publishes them all; nothing
is published unless every file is valid. ``demo`` publishes the packaged curated workers
(``demo_workers.json``, documented in docs/ccus-feed.md).

Kafka is found through ``KAFKA_BOOTSTRAP_SERVERS`` and ``TOPIC_PREFIX`` (:class:`FeedSettings`).
A one-line JSON summary goes to standard output; while publishing, a progress line goes to
standard error every few seconds. Exit status: 0 done; 2 bad input or usage
(one line on standard error naming the file, line and problem); 1 Kafka unreachable or a
send failed (one line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from judgement.adapters.inbound.cli import one_line, write_out
from judgement.adapters.inbound.progress import Progress
from judgement.feed.files import FeedInputError, describe, read_snapshots
from judgement.feed.settings import FeedSettings
from judgement.feed.synthetic import Generated, check_as_of, default_as_of, generate
from shared_kernel.cli import USAGE_HINT, InvalidInput, Parser
from shared_kernel.events.catalogue import CcusWorkerSnapshot
from shared_kernel.events.envelope import MAX_EVENT_BYTES

PROG = "python -m judgement feed"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1
DEMO_FILE = "demo_workers.json"


class Unavailable(Exception):
    """Kafka could not be reached or refused the events (one line)."""


def _as_of(text: str) -> date:
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a possible YYYY-MM-DD date: {text!r}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Publish CCUS worker snapshots (CcusWorkerSnapshot).",
        error_format=USAGE_HINT,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    synthetic = commands.add_parser("synthetic", help="generate synthetic workers")
    synthetic.add_argument("--count", type=_count, required=True, help="how many workers")
    synthetic.add_argument("--seed", required=True, help="seed (same seed, same workers)")
    synthetic.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="YYYY-MM-DD",
        help="reference date: history runs to the day before (default: today in Tokyo)",
    )
    synthetic.add_argument(
        "--start", type=_count, default=0, help="index of the first worker (default 0)"
    )
    synthetic.add_argument("--dry-run", action="store_true", help="generate, do not publish")
    synthetic.add_argument(
        "--out", metavar="FILE.jsonl", help="write JSON lines instead of publishing"
    )

    files = commands.add_parser("file", help="publish snapshots read from JSON or CSV files")
    files.add_argument("paths", nargs="+", metavar="PATH", help=".json, .jsonl or .csv file")
    files.add_argument("--dry-run", action="store_true", help="check the files, do not publish")

    demo = commands.add_parser("demo", help=f"publish the curated demo workers ({DEMO_FILE})")
    demo.add_argument("--dry-run", action="store_true", help="check, do not publish")
    return parser


def demo_path() -> Path:
    """The packaged demo workers file."""
    return Path(str(resources.files("judgement.feed").joinpath(DEMO_FILE)))


# --------------------------------------------------------------------------- summaries


class _Tally:
    """Counts what went by, for the summary line."""

    def __init__(self) -> None:
        self.count = 0
        self.workers: set[str] = set()
        self.types: Counter[str] = Counter()
        self.trades: Counter[str] = Counter()
        self.roles: Counter[str] = Counter()
        self.records = 0
        self.work_days = 0
        self.miscoded = 0
        self.rare_names = 0

    def add(self, snapshot: CcusWorkerSnapshot, trade: str | None = None) -> None:
        self.count += 1
        self.workers.add(snapshot.worker_id)
        self.types[snapshot.registration_type] += 1
        if trade:
            self.trades[trade] += 1
        self.records += len(snapshot.work_history)
        self.work_days += len({r.date for r in snapshot.work_history})
        self.roles.update(r.role for r in snapshot.work_history)
        self.miscoded += any(q.code == "49999" for q in snapshot.qualifications)
        self.rare_names += any(c in snapshot.name for c in "髙﨑𠮷濵邊邉齋德")

    def summary(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "snapshots": self.count,
            "workers": len(self.workers),
            "registration_types": dict(sorted(self.types.items())),
        }
        if self.trades:
            out["trades"] = dict(self.trades.most_common())
        out["work_records"] = self.records
        out["work_days_per_worker"] = round(self.work_days / self.count, 1) if self.count else 0
        if self.records:
            out["roles"] = {k: round(v / self.records, 3) for k, v in self.roles.most_common()}
        out["workers_with_49999"] = self.miscoded
        out["workers_with_rare_kanji"] = self.rare_names
        return {**out, **extra}


def _timed(extra: dict[str, Any], started: float, count: int) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {
        **extra,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1) if seconds > 0 else None,
    }


# --------------------------------------------------------------------------- commands


def _settings() -> FeedSettings:
    try:
        return FeedSettings()
    except ValidationError as exc:
        raise InvalidInput(f"configuration: {describe(exc)}") from None


def _publish(
    snapshots: Iterable[CcusWorkerSnapshot], settings: FeedSettings, stderr: IO[str]
) -> int:
    # Imported here: the Kafka client stack is slow to import and bad input never needs it.
    from judgement.feed.publish import KafkaUnavailable, publish_snapshots, quiet_kafka_logging

    quiet_kafka_logging()
    progress = Progress(stderr)
    started = time.perf_counter()

    def line(count: int) -> str:
        seconds = time.perf_counter() - started
        rate = count / seconds if seconds > 0 else 0.0
        return f"{PROG}: {count:,} snapshots published ({rate:,.0f}/s), {seconds:,.0f} s"

    try:
        published = asyncio.run(
            publish_snapshots(
                snapshots,
                settings,
                concurrency=settings.feed_concurrency,
                connect_timeout=settings.feed_connect_timeout_seconds,
                progress=lambda count: progress.show(lambda: line(count)),
            )
        )
    except KafkaUnavailable as exc:
        raise Unavailable(str(exc)) from None
    progress.done(line(published))
    return published


def _synthetic(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    as_of = args.as_of or default_as_of()
    try:
        check_as_of(as_of)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    workers = generate(args.count, seed=args.seed, as_of=as_of, start=args.start)
    tally = _Tally()

    def tallied(items: Iterable[Generated]) -> Iterator[CcusWorkerSnapshot]:
        for generated in items:
            tally.add(generated.snapshot, generated.trade)
            yield generated.snapshot

    extra: dict[str, Any] = {"seed": args.seed, "start": args.start, "as_of": str(as_of)}
    started = time.perf_counter()
    if args.out:
        _write_jsonl(Path(args.out), workers, tally)
        extra["written"] = args.out
    elif args.dry_run:
        for _ in tallied(workers):
            pass
        extra["dry_run"] = True
    else:
        settings = _settings()
        published = _publish(tallied(workers), settings, stderr)
        extra |= {"published": published, "topic": settings.topic(CcusWorkerSnapshot.TOPIC)}
    write_out(stdout, _summary_line(tally.summary(**_timed(extra, started, tally.count))))
    return 0


def _write_jsonl(path: Path, workers: Iterable[Generated], tally: _Tally) -> None:
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write: {exc.strerror or exc}") from None
    with handle:
        for generated in workers:
            tally.add(generated.snapshot, generated.trade)
            notes = json.dumps(
                {
                    "_trade": generated.trade,
                    "_career": {
                        "start": generated.career.start.isoformat(),
                        "end": generated.career.end.isoformat(),
                        "foreman_months": generated.career.foreman_months,
                        "leader_months": generated.career.leader_months,
                    },
                },
                ensure_ascii=False,
            )
            handle.write(f"{notes[:-1]},{generated.snapshot.model_dump_json()[1:]}\n")


def _files(
    paths: Sequence[str],
    dry_run: bool,
    stdout: IO[str],
    stderr: IO[str],
    *,
    demo: bool = False,
) -> int:
    now = datetime.now(UTC)  # taken_at of snapshots that do not give one (same in both passes)
    tally = _Tally()
    started = time.perf_counter()
    for snapshot in read_snapshots(paths, now=now):  # pass 1: check everything
        size = len(snapshot.model_dump_json())
        if size > MAX_EVENT_BYTES:
            raise InvalidInput(
                f"worker {snapshot.worker_id}: the snapshot is {size:,} bytes as JSON, over the"
                f" {MAX_EVENT_BYTES:,}-byte event limit"
            )
        tally.add(snapshot)
    if not tally.count:
        raise InvalidInput(f"{', '.join(paths)}: no snapshot to publish")
    extra: dict[str, Any] = {"files": list(paths)} if not demo else {"demo": True}
    if dry_run:
        extra["dry_run"] = True
    else:
        settings = _settings()
        published = _publish(read_snapshots(paths, now=now), settings, stderr)  # pass 2
        extra |= {"published": published, "topic": settings.topic(CcusWorkerSnapshot.TOPIC)}
    write_out(stdout, _summary_line(tally.summary(**_timed(extra, started, tally.count))))
    return 0


def _summary_line(summary: dict[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False) + "\n"


def run(argv: Sequence[str], stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Entry point of ``feed``; returns the exit status, never raises."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = _parser().parse_args(list(argv))
        if args.command == "synthetic":
            return _synthetic(args, stdout, stderr)
        if args.command == "file":
            return _files(args.paths, args.dry_run, stdout, stderr)
        return _files([str(demo_path())], args.dry_run, stdout, stderr, demo=True)
    except (InvalidInput, FeedInputError) as exc:
        write_out(stderr, f"{PROG}: {one_line(str(exc))}\n")
        return EXIT_INVALID
    except Unavailable as exc:
        write_out(stderr, f"{PROG}: {one_line(str(exc))}\n")
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        write_out(stderr, f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_UNAVAILABLE
    except Exception as exc:  # the CLI promises one line, never a traceback
        write_out(stderr, f"{PROG}: internal error: {one_line(f'{type(exc).__name__}: {exc}')}\n")
        return EXIT_UNAVAILABLE
