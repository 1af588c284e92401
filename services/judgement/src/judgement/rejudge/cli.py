"""``python -m judgement rejudge``: judge completed lines again after a criteria correction.

::

    rejudge --trade とび [--trade …] (--all | --line ID [--line ID …]) --reason TEXT
            [--by NAME] [--run-id ID] [--dry-run]

Selects the completed lines of the given 分野 (all, or the listed ones) that the engine
judged, reads the CCUS snapshot each one cited and each line's current judgement, publishes
one ``RejudgementPlanned`` per employer (the lines of the run, for the update mail), then
``RejudgementRequested`` events (chunks of lines with their inputs) for the judgement
service, which stores a new judgement per line (the next sequence) and emits
JudgementCompleted v2. With ``--all``, lines still waiting or in review, lines refused for
want of criteria and lines decided by an evaluator are skipped (counted in the summary); a
line named with ``--line`` that cannot be judged again is refused (exit 2). The run is
recorded in ``rejudge_runs`` first; running the command again with ``--run-id`` of an
interrupted run publishes its remaining lines again, and lines that were re-judged already
in that run are not judged twice.

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
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

from judgement.config import Settings
from judgement.core import current, judging, rejudging
from judgement.core.errors import MasterError, UnknownTrade
from judgement.core.master import Master
from judgement.criteria import default_master, load_master
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    RejudgementLine,
    RejudgementPlanned,
    RejudgementRequested,
)
from shared_kernel.events.envelope import MAX_EVENT_BYTES
from shared_kernel.kafka import EventPublisher, ensure_topics, make_broker
from shared_kernel.logging import correlation_scope
from shared_kernel.mongo import AlreadyExists, DocumentStore, connect

PROG = "python -m judgement rejudge"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1
CHUNK_BYTES = MAX_EVENT_BYTES // 2  # well under the broker's and consumers' 1 MB limit
PER_ID_LOOKUPS = 50  # fewer snapshots than this are read one by one, more in one scan
SOURCE = "judgement-rejudge"
PLAN_LINES = 5000  # line ids per RejudgementPlanned (a large employer's plan comes in parts)
PUBLISHES = (RejudgementPlanned, RejudgementRequested)
"""What this command publishes (its part of docs/asyncapi.json)."""


class InvalidInput(Exception):
    pass


class Unavailable(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(prog=PROG, description="判定基準の訂正後、完了した判定を再判定します。")
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
    if args.run_id is not None and not args.run_id.replace("-", "").isalnum():
        raise InvalidInput(f"--run-id {args.run_id!r}: letters, digits and '-' only")
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


async def run_async(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    master = load_master(settings.criteria_extra) if settings.criteria_extra else default_master()
    trades = trades_of(master, args.trade)
    now = datetime.now(UTC)
    run_id = args.run_id or new_run_id(now)
    requested_by = args.by or getpass.getuser()
    mongo = connect(settings.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        db = mongo[settings.db_name]
        judgements = db["judgements"]
        fields = dict.fromkeys(rejudging.SELECT_FIELDS, 1)
        later = db["rejudgements"]
        if args.line:
            found = [await judgements.find_one({"_id": i}, fields) for i in args.line]
            missing = [i for i, d in zip(args.line, found, strict=True) if d is None]
            if missing:
                raise InvalidInput(f"no judgement for line {missing[0]} (該当する明細がありません)")
            candidates = [d for d in found if d is not None]
            for doc in candidates:
                _refuse_named(master, trades, doc)
            chosen = {"line_id": {"$in": list(args.line)}}
        else:  # one scan (lookups by id scan the collection on FerretDB 1.24)
            candidates = [d async for d in judgements.find({}, fields, batch_size=2000)]
            chosen = {}
        latest = current.latest_by_line(
            [d async for d in later.find(chosen, LATEST_FIELDS, batch_size=5000)]
        )
        skipped: Counter[str] = Counter()
        by_snapshot: dict[str, list[dict[str, Any]]] = {}
        planned: dict[str, list[str]] = {}
        selected = 0
        for doc in candidates:
            if _trade(master, doc.get("trade")) not in trades:
                continue
            reason = rejudging.skip_reason(doc)
            held = latest.get(doc["_id"])
            if reason is None and held is not None and held.get("run_id") == run_id:
                reason = "already_rejudged_in_run"  # a resumed run: judged once is enough
                planned.setdefault(doc["employer_id"], []).append(doc["_id"])
            if reason is not None:
                skipped[reason] += 1
                continue
            by_snapshot.setdefault(doc["snapshot_id"], []).append({**doc, CURRENT: held})
            planned.setdefault(doc["employer_id"], []).append(doc["_id"])
            selected += 1
        del candidates, latest
        summary: dict[str, Any] = {
            "run_id": run_id,
            "trades": sorted(trades),
            "selected": selected,
            "skipped": dict(skipped),
            "master_version": master.version,
            "dry_run": args.dry_run,
            "select_seconds": round(time.perf_counter() - started, 2),
        }
        if args.dry_run or not selected:
            summary["seconds"] = round(time.perf_counter() - started, 2)
            return summary
        runs = DocumentStore(db, "rejudge_runs")
        with contextlib.suppress(AlreadyExists):  # resuming: the run is recorded already
            await runs.insert(
                {
                    "_id": run_id,
                    "trades": sorted(trades),
                    "reason": args.reason,
                    "requested_by": requested_by,
                    "requested_at": now,
                    "selected": selected,
                    "skipped": dict(skipped),
                    "master_version": master.version,
                }
            )

        def make(batch: list[RejudgementLine]) -> Envelope:
            return Envelope(
                RejudgementRequested(
                    run_id=run_id,
                    chunk_id=f"{run_id}/{batch[0].line_id}",
                    reason=args.reason,
                    requested_by=requested_by,
                    requested_at=now,
                    lines=batch,
                ),
                source=SOURCE,
            )

        plans = [
            Envelope(
                RejudgementPlanned(
                    run_id=run_id,
                    employer_id=employer_id,
                    line_ids=line_ids[start : start + PLAN_LINES],
                    reason=args.reason,
                    requested_at=now,
                ),
                source=SOURCE,
            )
            for employer_id, line_ids in sorted(planned.items())
            for start in range(0, len(line_ids), PLAN_LINES)
        ]
        summary["employers"] = len(planned)
        snapshots = db["ccus_snapshots"]
        missing_snapshots = Counter[str]()

        published = await _publish(
            settings, plans, _lines(snapshots, by_snapshot, missing_snapshots), make, run_id
        )
        if missing_snapshots:
            summary["skipped"]["snapshot_missing"] = sum(missing_snapshots.values())
        summary.update(
            lines_published=published[0],
            chunks=published[1],
            seconds=round(time.perf_counter() - started, 2),
        )
        summary["lines_per_second"] = round(published[0] / max(summary["seconds"], 1e-9), 1)
        return summary
    finally:
        await mongo.close()


CURRENT = "_current"  # a selected line's latest re-judgement, carried to its request
LATEST_FIELDS = dict.fromkeys(
    ("line_id", "sequence", "run_id", "judgement_id", "decision", "eligible_level"), 1
)


def _refuse_named(master: Master, trades: set[str], doc: dict[str, Any]) -> None:
    """A line the operator named that cannot be judged again: refused, with the reason."""
    line_id = doc["_id"]
    if _trade(master, doc.get("trade")) not in trades:
        raise InvalidInput(f"line {line_id} is of {doc.get('trade')}, not of the given --trade")
    reason = rejudging.skip_reason(doc)
    if reason == "not_completed":
        status = judging.STATUS_JA.get(str(doc.get("status")), str(doc.get("status")))
        raise InvalidInput(
            f"line {line_id} has no completed judgement ({status}): "
            "判定が完了していない明細は再判定できません"
        )
    if reason is not None:
        raise InvalidInput(f"line {line_id}: {rejudging.SKIP_REASONS_JA[reason]}は再判定できません")


def _trade(master: Master, name: Any) -> str | None:
    try:
        return master.trade(str(name)).name
    except UnknownTrade:
        return None


async def _lines(
    snapshots: Any, by_snapshot: dict[str, list[dict[str, Any]]], missing: Counter[str]
) -> AsyncIterator[RejudgementLine]:
    """Each selected line with its snapshot: read one by one, or in one scan when many."""
    wanted = set(by_snapshot)
    if len(wanted) <= PER_ID_LOOKUPS:
        for snapshot_id in sorted(wanted):
            stored = await snapshots.find_one({"_id": snapshot_id}, {"ccus": 1, "ccus_json": 1})
            if stored is None:
                missing[snapshot_id] += len(by_snapshot[snapshot_id])
                continue
            for doc in by_snapshot[snapshot_id]:
                yield rejudging.request_line(doc, judging.stored_ccus_json(stored), doc[CURRENT])
        return
    async for stored in snapshots.find({}, {"ccus": 1, "ccus_json": 1}, batch_size=500):
        docs = by_snapshot.get(stored["_id"])
        if docs is None:
            continue
        wanted.discard(stored["_id"])
        for doc in docs:
            yield rejudging.request_line(doc, judging.stored_ccus_json(stored), doc[CURRENT])
    for snapshot_id in wanted:
        missing[snapshot_id] += len(by_snapshot[snapshot_id])


async def _publish(
    settings: Settings,
    plans: Sequence[Envelope],
    lines: AsyncIterator[RejudgementLine],
    make: Callable[[list[RejudgementLine]], Envelope],
    run_id: str,
) -> tuple[int, int]:
    """Publish the chunks (up to 8 in flight); returns (lines, chunks) confirmed."""
    topics = [settings.topic(RejudgementRequested.TOPIC), settings.topic(RejudgementPlanned.TOPIC)]
    try:
        async with asyncio.timeout(15):
            await ensure_topics(settings, topics)
    except (KafkaError, OSError, TimeoutError) as exc:
        servers = settings.kafka_bootstrap_servers
        raise Unavailable(f"Kafka is not reachable at {servers}: {exc!r}") from None
    broker = make_broker(settings)
    sent_lines = sent_chunks = 0
    pending: set[asyncio.Task[None]] = set()
    batch: list[RejudgementLine] = []
    size = 0
    try:
        await broker.start()
        publish = EventPublisher(broker, settings, *PUBLISHES)
        with correlation_scope(run_id):
            # the plans first: the update mail waits for every planned line
            await asyncio.gather(*(publish(plan) for plan in plans))

            async def send(envelope: Envelope) -> None:
                nonlocal pending
                while len(pending) >= 8:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
                pending.add(asyncio.create_task(publish(envelope)))

            async for line in lines:
                line_size = len(line.model_dump_json())
                if batch and size + line_size > CHUNK_BYTES:
                    await send(make(batch))
                    sent_lines += len(batch)
                    sent_chunks += 1
                    batch, size = [], 0
                batch.append(line)
                size += line_size
            if batch:
                await send(make(batch))
                sent_lines += len(batch)
                sent_chunks += 1
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
            pending.clear()
    except (KafkaError, OSError) as exc:
        raise Unavailable(f"publishing to Kafka failed: {exc!r}") from None
    finally:
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await broker.stop()
    return sent_lines, sent_chunks


def run(argv: Sequence[str]) -> int:
    from judgement.feed.publish import quiet_kafka_logging

    try:
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
    print(json.dumps(summary, ensure_ascii=False))
    return 0
