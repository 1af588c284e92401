"""``python -m judgement rejudge``: judge completed lines again after a criteria correction.

::

    rejudge --trade とび [--trade …] (--all | --line ID [--line ID …]) --reason TEXT
            [--by NAME] [--run-id ID] [--dry-run]
    rejudge status RUN

Selects the completed lines of the given 分野 (all, or the listed ones) that the engine
judged and streams them, with the compact form of the CCUS snapshot each one cited and each
line's current judgement, as ``RejudgementRequested`` events (chunks of lines) to the
judgement service while it still reads (``judgement.rejudge.planning``); the service stores
a new judgement per line (the next sequence) and emits JudgementCompleted v2. One
``RejudgementPlanned`` per employer (the lines of the run, for the update mail) follows the
last chunk. With ``--all``, lines still waiting or in review, lines refused for want of
criteria and lines decided by an evaluator are skipped (counted in the summary); a line
named with ``--line`` that cannot be judged again is refused (exit 2). The run is recorded
in ``rejudge_runs`` first; running the command again with ``--run-id`` of an interrupted
run publishes its remaining lines again, and lines that were re-judged already in that run
are not judged twice.

``rejudge status RUN`` tells where a run is: one JSON line (``state`` — ``selecting``,
``publishing``, ``published``, ``done`` —, ``selected``, ``published``, ``judged``,
``remaining``, ``started``, ``published_at``, ``finished``); an unknown run id exits 2.

While it runs, the command writes a progress line to standard error every few seconds
(lines read, selected, published); standard output stays one JSON line.

Settings as the service reads them (``MONGODB_URL``, ``JUDGEMENT_DB_NAME``,
``KAFKA_BOOTSTRAP_SERVERS``, ``TOPIC_PREFIX``, ``JUDGEMENT_CRITERIA_EXTRA``). One JSON line
on standard output. Exit status: 0 done; 2 bad usage or input (one line on standard
error); 1 database or Kafka unreachable (one line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

from judgement.adapters.inbound.progress import Progress
from judgement.config import Settings
from judgement.core.errors import MasterError, UnknownTrade
from judgement.core.master import Master
from judgement.criteria import default_master, load_master
from judgement.rejudge import planning
from shared_kernel.cli import InvalidInput, Parser
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import RejudgementPlanned, RejudgementRequested
from shared_kernel.infra.kafka import EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.mongo import connect

PROG = "python -m judgement rejudge"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1
CHUNK_BYTES = planning.CHUNK_BYTES
SOURCE = planning.SOURCE
PUBLISHES = (RejudgementPlanned, RejudgementRequested)
"""What this command publishes (its part of docs/asyncapi.json)."""
EPILOG = f"{PROG} status RUN: where a run is (one JSON line; exit 2 for an unknown run id)"


class Unavailable(Exception):
    pass


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description="判定基準の訂正後、完了した判定を再判定します。",
        epilog=EPILOG,
    )
    parser.add_argument("--trade", action="append", required=True, help="分野 (repeatable)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every completed line of the trades")
    which.add_argument("--line", action="append", help="one line id (repeatable)")
    parser.add_argument("--reason", required=True, help="why (shown to employers and partners)")
    parser.add_argument("--by", default=None, help="operator name (default: the OS user)")
    parser.add_argument("--run-id", default=None, help="resume this run")
    parser.add_argument("--dry-run", action="store_true", help="select and count only")
    args = parser.parse_args(list(argv))
    if not args.reason.strip():
        raise InvalidInput("--reason must not be empty (it is shown to employers and partners)")
    if args.run_id is not None and not _run_id_ok(args.run_id):
        raise InvalidInput(f"--run-id {args.run_id!r}: letters, digits and '-' only")
    return args


def _run_id_ok(run_id: str) -> bool:
    return run_id.replace("-", "").isalnum()


def parse_status_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(
        prog=f"{PROG} status", description="再判定の実行状況を表示します（1行のJSON）。"
    )
    parser.add_argument("run_id", metavar="RUN", help="the run id (R…, from the command)")
    args = parser.parse_args(list(argv))
    if not _run_id_ok(args.run_id):
        raise InvalidInput(f"run id {args.run_id!r}: letters, digits and '-' only")
    return args


def new_run_id(now: datetime) -> str:
    return f"R{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def trades_of(master: Master, names: Sequence[str]) -> set[str]:
    found = set()
    for name in names:
        try:
            found.add(master.trade(name).name)
        except UnknownTrade as exc:
            raise InvalidInput(exc.message_ja) from None
    return found


def progress_line(selection: planning.Selection, seconds: float) -> str:
    """What the progress line says of a run (standard error)."""
    rate = selection.published / seconds if seconds > 0 else 0.0
    read = "read" if selection.scanned else "read so far"
    return (
        f"{PROG}: {selection.run_id}: {selection.read:,} judgements {read}, "
        f"{selection.selected:,} selected, {selection.published:,} published "
        f"({selection.chunks:,} chunks, {rate:,.0f} lines/s), {seconds:,.0f} s"
    )


async def run_async(
    args: argparse.Namespace, settings: Settings, stderr: IO[str] | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    master = load_master(settings.criteria_extra) if settings.criteria_extra else default_master()
    trades = trades_of(master, args.trade)
    now = datetime.now(UTC)
    run_id = args.run_id or new_run_id(now)
    requested_by = args.by or getpass.getuser()
    progress = Progress(stderr if stderr is not None else sys.stderr)
    mongo = connect(settings.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        db = mongo[settings.db_name]
        if args.dry_run:
            try:
                selection = await planning.select(
                    db, master, trades, run_id=run_id, line_ids=args.line or None
                )
            except planning.LineRefused as exc:
                raise InvalidInput(str(exc)) from None
            summary = planning.new_summary(selection, master, dry_run=True, started=started)
            summary["seconds"] = round(time.perf_counter() - started, 2)
            return summary
        broker = make_broker(settings)
        publisher = EventPublisher(broker, settings, *PUBLISHES)

        async def publish(envelope: Envelope) -> None:
            await publisher(envelope)

        async def connect_kafka() -> None:
            topics = [
                settings.topic(RejudgementRequested.TOPIC),
                settings.topic(RejudgementPlanned.TOPIC),
            ]
            try:
                async with asyncio.timeout(15):
                    await ensure_topics(settings, topics)
            except (KafkaError, OSError, TimeoutError) as exc:
                servers = settings.kafka_bootstrap_servers
                raise Unavailable(f"Kafka is not reachable at {servers}: {exc!r}") from None
            await broker.start()

        def report(selection: planning.Selection) -> None:
            progress.show(lambda: progress_line(selection, time.perf_counter() - started))

        try:
            summary = await planning.run(
                db,
                master,
                publish,
                trades=trades,
                run_id=run_id,
                reason=args.reason,
                requested_by=requested_by,
                now=now,
                line_ids=args.line or None,
                before_publishing=connect_kafka,
                report=report,
            )
        except planning.LineRefused as exc:
            raise InvalidInput(str(exc)) from None
        except (KafkaError, OSError) as exc:
            raise Unavailable(f"publishing to Kafka failed: {exc!r}") from None
        finally:
            with contextlib.suppress(Exception):
                await broker.stop()
        summary["dry_run"] = False
        summary["seconds"] = round(time.perf_counter() - started, 2)
        summary["lines_per_second"] = round(
            summary["lines_published"] / max(summary["seconds"], 1e-9), 1
        )
        progress.done(progress_line_of(summary))
        return summary
    finally:
        await mongo.close()


def progress_line_of(summary: dict[str, Any]) -> str:
    return (
        f"{PROG}: {summary['run_id']}: {summary['selected']:,} selected, "
        f"{summary['lines_published']:,} published in {summary['chunks']:,} chunks, "
        f"{summary['seconds']:,.1f} s"
    )


async def status_async(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    mongo = connect(settings.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        found = await planning.status(mongo[settings.db_name], args.run_id)
    finally:
        await mongo.close()
    if found is None:
        raise InvalidInput(f"no re-judgement run {args.run_id} (該当する再判定がありません)")
    return found


def run(argv: Sequence[str]) -> int:
    from judgement.feed.publish import quiet_kafka_logging

    try:
        if list(argv[:1]) == ["status"]:
            settings = Settings()
            summary = asyncio.run(status_async(parse_status_args(argv[1:]), settings))
        else:
            args = parse_args(argv)
            settings = Settings()
            quiet_kafka_logging()
            summary = asyncio.run(run_async(args, settings))
    except InvalidInput as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except MasterError as exc:
        print(f"{PROG}: criteria master: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except Unavailable as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except PyMongoError as exc:
        print(f"{PROG}: database unavailable: {type(exc).__name__}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (resume with --run-id; see {PROG} status)", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"{PROG}: internal error: {text}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(json.dumps(summary, ensure_ascii=False))
    return 0
