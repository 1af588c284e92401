"""Bulk re-judgement (issue 10, item 2): 100,000 stored workers judged again end to end.

    uv run python bench/bulk_rejudgement.py [--quick] [--json-out PATH] [--workers N]

Against the shared Kafka and FerretDB, with a topic prefix and database of its own
(``benchlib.Stack``; dropped at the end, except that a full run keeps its seeded database,
``bench_rejudge_cache_v<format>_<N>_judgement``, for the next run — the issue's "100,000
snapshots already stored"; ``BENCH_REJUDGE_RESEED=1`` seeds again):

1. seeds N synthetic とび workers straight into the judgement database, in the store's own
   format (``judging.snapshot_version_doc`` / a completed judgement document, written with
   ``DocumentStore.insert_many``): one CCUS snapshot each (30–200 work records, 3–8
   qualifications), its entry in the compact mirror (``ccus_compact``, which the service
   writes beside every snapshot it stores; a kept seed of before gets it topped up) and one
   completed judgement citing it; progress on standard error;
2. starts the judgement service (``python -m judgement serve``) as its own process;
3. runs the operators' command ``python -m judgement rejudge --trade とび --all --reason …``
   and reads ``judgement.judgements`` until every line's new JudgementCompleted v2 has
   arrived: lines per second from the command's start to the last event
   (``lines_per_second``: null unless every line was re-judged once), and the resident
   memory of each process (sampled every second).

Target: ≥ 1,000 judgements per second on this machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    ROOT,
    Stack,
    arguments,
    context,
    context_line,
    free_port,
    rss_mib,
    table,
    write_json,
)
from judgement_engine import QUALIFICATIONS

from judgement.core import compact

TARGET = 1000.0
TRADE = "とび"
REASON = "とび判定基準の転記誤りの訂正（ベンチマーク）"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
APPLICATION_DATE = date(2026, 11, 1)
RECORDS = (30, 200)


def work_history(rng: random.Random, registered: date, n: int) -> list[dict[str, Any]]:
    span = (APPLICATION_DATE - registered).days
    days = sorted(rng.sample(range(span), min(n, span)))
    out = []
    for d in days:
        roll = rng.random()
        out.append(
            {
                "date": (registered + timedelta(days=d)).isoformat(),
                "site_id": f"S{rng.randrange(1, 400):08d}",
                "role": "foreman" if roll < 0.2 else "leader" if roll < 0.35 else "worker",
                "occupation": "06-01" if rng.random() < 0.93 else "06-02",
            }
        )
    return out


def snapshot_doc(i: int) -> dict[str, Any]:
    """Worker ``i``'s stored snapshot, exactly as ``judging.snapshot_version_doc`` writes it."""
    rng = random.Random(i)
    worker_id = f"77{i:012d}"
    registered = date(2019, 4, 1) + timedelta(days=rng.randrange(0, 1500))
    n = rng.randint(*RECORDS)
    quals = rng.sample(QUALIFICATIONS, rng.randint(3, 8))
    ccus = {
        "worker_id": worker_id,
        "registration_type": "detailed",
        "registered_on": registered.isoformat(),
        "qualifications": [
            {
                "code": code or "",
                "name": name,
                "acquired_on": (date(2008, 4, 1) + timedelta(days=rng.randrange(5000))).isoformat(),
            }
            for code, name in quals
        ],
        "work_history": work_history(rng, registered, n),
    }
    return {
        "_id": f"{worker_id}@{AS_OF.isoformat()}",
        "worker_id": worker_id,
        "taken_at": AS_OF,
        "ccus_json": json.dumps(ccus, ensure_ascii=False, separators=(",", ":")),
        "ccus_compact": compact.encode(compact.from_ccus_json(ccus)),
    }


def mirror_doc(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The worker's entry in the compact mirror (``ccus_compact``), as the service writes it
    beside every snapshot it stores (``judgement.impact.snapshots.keep_newest``)."""
    return {
        "_id": snapshot["worker_id"],
        "snapshot_id": snapshot["_id"],
        "taken_at": snapshot["taken_at"],
        "ccus_compact": snapshot["ccus_compact"],
    }


def check_format(doc: dict[str, Any]) -> None:
    """The seeded snapshot is what the service itself stores for the same CCUS data."""
    from judgement.core import judging
    from judgement.impact.snapshots import keep_newest
    from shared_kernel.events.catalogue import CcusWorkerSnapshot

    ccus = json.loads(doc["ccus_json"])
    snapshot = CcusWorkerSnapshot.model_validate(
        {
            "worker_id": doc["worker_id"],
            "taken_at": doc["taken_at"],
            "registration_type": ccus["registration_type"],
            "registered_on": ccus["registered_on"],
            "name": "ベンチ 太郎",
            "name_kana": "ベンチ タロウ",
            "birth_date": "1980-01-01",
            "qualifications": ccus["qualifications"],
            "work_history": [
                {
                    "date": r["date"],
                    "site_id": r["site_id"],
                    "role": r["role"],
                    "occupation_code": r["occupation"],
                }
                for r in ccus["work_history"]
            ],
        }
    )
    assert judging.snapshot_version_doc(snapshot) == doc, "seed format differs from the store's"
    change = keep_newest(doc)(None)
    assert change is not None
    assert {"_id": doc["worker_id"], **change[0]} == mirror_doc(doc), "mirror format differs"


def judgement_template() -> dict[str, Any]:
    """A completed judgement document as the service stores it (judged with a stale table)."""
    from judgement.core import judging
    from judgement.criteria import default_master
    from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted

    master = default_master()
    sample = snapshot_doc(0)
    line = ApplicationLine(
        line_id="B-0-1",
        worker_id=sample["worker_id"],
        worker_name="ベンチ 太郎",
        worker_name_kana="ベンチ タロウ",
        birth_date=date(1980, 1, 1),
        trade=TRADE,
        requested_level=2,
        fee_yen=0,
    )
    event = ApplicationSubmitted(
        application_id="B-0",
        employer_id="12345678901234",
        application_date=APPLICATION_DATE,
        submitted_at=AS_OF,
        fee_total_yen=0,
        lines=[line],
    )
    doc = judging.received(event, line, AS_OF, 7, master)
    ccus = judging.Ccus(sample["_id"], judging.stored_record(sample))
    judged, _ = judging.judge(doc, ccus, master, "auto", AS_OF)
    # as if judged before the correction: an older table version
    return {
        **judged.to_document(),
        "criteria_version": f"{TRADE}@2019-01-01",
        "master_version": "2026-01-01",
    }


def judgement_doc(template: dict[str, Any], i: int) -> dict[str, Any]:
    worker_id = f"77{i:012d}"
    line_id = f"B-{i}-1"
    return {
        **template,
        "_id": line_id,
        "judgement_id": f"J-{line_id}",
        "application_id": f"B-{i}",
        "worker_id": worker_id,
        "line": {**template["line"], "line_id": line_id, "worker_id": worker_id},
        "snapshot_id": f"{worker_id}@{AS_OF.isoformat()}",
    }


def progress_line(what: str, done: int, total: int, started: float) -> str:
    seconds = time.perf_counter() - started
    rate = done / seconds if seconds > 0 else 0.0
    return (
        f"bulk_rejudgement: {what}: {done:,} of {total:,} workers ({rate:,.0f}/s), {seconds:,.0f} s"
    )


async def seed(mongo_url: str, db_name: str, workers: int, batch: int = 500) -> dict[str, float]:
    from judgement.adapters.inbound.progress import Progress
    from shared_kernel.infra.mongo import DocumentStore, connect

    client = connect(mongo_url)
    db = client[db_name]
    snapshots = DocumentStore(db, "ccus_snapshots")
    judgements = DocumentStore(db, "judgements")
    mirror = DocumentStore(db, "ccus_compact")
    progress = Progress(sys.stderr)
    done = 0
    template = judgement_template()
    check_format(snapshot_doc(1))
    started = time.perf_counter()
    sizes: list[int] = []
    queue: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
    for start in range(0, workers, batch):
        queue.put_nowait((start, min(workers, start + batch)))

    async def writer() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            assert item is not None
            nonlocal done
            docs = [snapshot_doc(i) for i in range(*item)]
            sizes.extend(d["ccus_json"].count('"site_id"') for d in docs)
            await snapshots.insert_many(docs)
            await mirror.insert_many([mirror_doc(d) for d in docs])
            await judgements.insert_many([judgement_doc(template, i) for i in range(*item)])
            done += len(docs)
            progress.show(lambda n=done: progress_line("seeding", n, workers, started))

    await asyncio.gather(*(writer() for _ in range(3)))
    seconds = time.perf_counter() - started
    progress.done(progress_line("seeded", workers, workers, started))
    # what a lookup by _id costs with this many snapshots (FerretDB 1.24 scans)
    t0 = time.perf_counter()
    found = await db["ccus_snapshots"].find_one(
        {"_id": f"77{workers // 2:012d}@{AS_OF.isoformat()}"}
    )
    lookup = time.perf_counter() - t0
    assert found is not None
    await client.close()
    return {
        "seconds": round(seconds, 1),
        "documents_per_second": round(3 * workers / seconds, 1),
        "records_mean": round(sum(sizes) / len(sizes), 1),
        "records_min": min(sizes),
        "records_max": max(sizes),
        "snapshot_lookup_by_id_ms": round(lookup * 1000, 1),
    }


async def count_completed(
    bootstrap: str, topic: str, expected: int, timeout: float, started: float
) -> dict[str, Any]:
    """Read the judgements topic from its start until ``expected`` re-judgements arrived."""
    from aiokafka import AIOKafkaConsumer

    from shared_kernel.infra.kafka import ensure_topics
    from shared_kernel.infra.settings import ServiceSettings

    await ensure_topics(ServiceSettings(kafka_bootstrap_servers=bootstrap), [topic])
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    seen = 0
    first = last = None
    deadline = time.monotonic() + timeout
    try:
        while seen < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("ce_type", b"").endswith(b"judgement.completed.v2"):
                        seen += 1
                        now = time.monotonic()
                        first = first or now
                        last = now
    finally:
        await consumer.stop()
    return {
        "events": seen,
        "first_event_after_s": round((first or started) - started, 2),
        "last_event_after_s": round((last or started) - started, 2),
    }


def start_more_consumers(stack: Stack, count: int) -> list[subprocess.Popen[bytes]]:
    """More judgement service processes in the same consumer group (the topic has 3
    partitions); ``Stack.stop`` ends them with the first one."""
    import httpx

    started = []
    for n in range(count):
        port = free_port()
        env = {**stack.env, "JUDGEMENT_HTTP_PORT": str(port)}
        with (stack.logs / f"judgement-{n + 2}.log").open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "judgement", "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        stack.procs[f"judgement-{n + 2}"] = proc
        started.append(proc)
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=3) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
    return started


async def command_in_process(
    argv: list[str],
    env: dict[str, str],
    db_name: str,
    topic: str,
    workers: int,
    timeout: float,
    started: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``python -m judgement rejudge`` run in this process, next to the event count."""
    from judgement.config import Settings
    from judgement.rejudge import cli

    settings = Settings(
        topic_prefix=env["TOPIC_PREFIX"],
        db_name=db_name,
        mongodb_url=env["MONGODB_URL"],
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
    )
    counting = asyncio.create_task(
        count_completed(env["KAFKA_BOOTSTRAP_SERVERS"], topic, workers, timeout, started)
    )
    summary = await cli.run_async(cli.parse_args(argv), settings)
    return summary, await counting


SEED_FORMAT = 3
"""Bump when the stored format of snapshots or judgements changes (2: ``result_json``;
3: ``ccus_compact`` beside ``ccus_json``)."""
CACHE_PREFIX = "bench_rejudge_cache_"
RUN_COLLECTIONS = ("rejudgements", "rejudge_runs", "rejudge_chunks", "inbox", "_version_claims")


def cache_db(workers: int) -> str:
    return f"{CACHE_PREFIX}v{SEED_FORMAT}_{workers}_judgement"


def cached_seed(mongo_url: str, workers: int) -> dict[str, Any] | None:
    """The seed an earlier full run kept (``BENCH_REJUDGE_RESEED=1`` ignores it)."""
    from pymongo import MongoClient

    if os.environ.get("BENCH_REJUDGE_RESEED") == "1":
        return None
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as mongo:
        meta = mongo[cache_db(workers)]["bench_meta"].find_one({"_id": "seed"})
    return {k: v for k, v in meta.items() if k != "_id"} if meta else None


def drop_caches(mongo_url: str, workers: int) -> None:
    """Drop the kept seed of this size, and every seed of an older format."""
    from pymongo import MongoClient

    current = f"{CACHE_PREFIX}v{SEED_FORMAT}_"
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as mongo:
        for name in mongo.list_database_names():
            stale = name.startswith(CACHE_PREFIX) and not name.startswith(current)
            if stale or name == cache_db(workers):
                mongo.drop_database(name)


MIRRORING = "seeding the compact mirror"


async def top_up_mirror(mongo_url: str, db_name: str, workers: int, batch: int = 500) -> int:
    """A seed kept from before the compact mirror was seeded gets it (the service mirrors
    every snapshot it stores; a kept seed was written straight into the store)."""
    from judgement.adapters.inbound.progress import Progress
    from shared_kernel.infra.mongo import DocumentStore, connect

    client = connect(mongo_url)
    db = client[db_name]
    have = await db["ccus_compact"].estimated_document_count()
    if have >= workers:
        await client.close()
        return 0
    mirror = DocumentStore(db, "ccus_compact")
    progress = Progress(sys.stderr)
    started = time.perf_counter()
    for start in range(0, workers, batch):
        docs = [mirror_doc(snapshot_doc(i)) for i in range(start, min(workers, start + batch))]
        await mirror.insert_many(docs)  # the ones there already are left as they are
        done = start + len(docs)
        progress.show(lambda n=done: progress_line(MIRRORING, n, workers, started))
    progress.done(progress_line("mirror seeded", workers, workers, started))
    await client.close()
    return workers - have


async def keep_seed(mongo_url: str, db_name: str, seeded: dict[str, Any]) -> None:
    from shared_kernel.infra.mongo import connect

    client = connect(mongo_url)
    await client[db_name]["bench_meta"].insert_one({"_id": "seed", **seeded})
    await client.close()


async def lookup_ms(mongo_url: str, db_name: str, workers: int, n: int = 20) -> float:
    """Median time of a snapshot lookup by ``_id`` (after the service made its indexes)."""
    from shared_kernel.infra.mongo import connect

    client = connect(mongo_url)
    times = []
    for k in range(n):
        t0 = time.perf_counter()
        found = await client[db_name]["ccus_snapshots"].find_one(
            {"_id": f"77{(k * 7919) % workers:012d}@{AS_OF.isoformat()}"}
        )
        times.append(time.perf_counter() - t0)
        assert found is not None
    await client.close()
    return round(sorted(times)[n // 2] * 1000, 2)


async def forget_runs(mongo_url: str, db_name: str) -> None:
    """Drop what a re-judgement run adds (the seeded judgements are never changed by one)."""
    from shared_kernel.infra.mongo import connect

    client = connect(mongo_url)
    for name in RUN_COLLECTIONS:
        await client[db_name].drop_collection(name)
    await client.close()


class RssSampler(threading.Thread):
    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            for name, pid in list(self.pids.items()):
                self.peak[name] = max(self.peak.get(name, 0.0), rss_mib([pid]))


def main() -> int:
    args = arguments(
        (__doc__ or "").splitlines()[0],
        [
            ("--workers", {"type": int, "default": None}),
            (
                "--consumers",
                {"type": int, "default": None, "help": "judgement processes (≤ 3; 3, quick 1)"},
            ),
            (
                "--profile",
                {
                    "action": "store_true",
                    "help": "run the service and the command under pyinstrument",
                },
            ),
        ],
    )
    workers = args.workers or (60 if args.quick else 100_000)
    # one per partition of the requests topic: a process handles one chunk at a time
    args.consumers = args.consumers or (1 if args.quick else 3)
    ctx_before = context()
    mongo_url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    # "with 100,000 snapshots already stored": a full run's seed is kept for the next run
    keep = not args.quick
    extra = {"LOG_LEVEL": "WARNING"}
    cached = None
    if keep:
        extra["JUDGEMENT_DB_NAME"] = cache_db(workers)
        cached = cached_seed(mongo_url, workers)
        if cached is None:
            drop_caches(mongo_url, workers)
    stack = Stack(
        "rejudge",
        services=["judgement"],
        extra_env=extra,
        profile=("judgement",) if args.profile else (),
    )
    env = stack.env
    db_name = stack.db("judgement")
    figures: dict[str, Any] = {"workers": workers, "consumers": args.consumers}
    try:
        if cached is not None:
            figures["seed"] = {**cached, "reused": True}
            asyncio.run(forget_runs(mongo_url, db_name))
            topped = asyncio.run(top_up_mirror(mongo_url, db_name, workers))
            if topped:
                figures["seed"]["mirror_topped_up"] = topped
        else:
            figures["seed"] = asyncio.run(seed(env["MONGODB_URL"], db_name, workers))
            if keep:
                asyncio.run(keep_seed(mongo_url, db_name, figures["seed"]))
        ctx_run = context()
        stack.start()  # the service creates its lookup indexes at start-up
        figures["snapshot_lookup_indexed_ms"] = asyncio.run(
            lookup_ms(env["MONGODB_URL"], db_name, workers)
        )
        extra = start_more_consumers(stack, args.consumers - 1)
        sampler = RssSampler(
            {"judgement service": stack.procs["judgement"].pid, "bench (seeding)": os.getpid()}
        )
        for n, proc in enumerate(extra, 2):
            sampler.pids[f"judgement service #{n}"] = proc.pid
        sampler.start()
        started = time.monotonic()
        profiler = (
            [
                "-m",
                "pyinstrument",
                "-i",
                "0.005",
                "-r",
                "text",
                "-o",
                str(stack.logs / "rejudge-command.profile.txt"),
            ]
            if args.profile
            else []
        )
        argv = ["--trade", TRADE, "--all", "--reason", REASON, "--by", "bench"]
        topic = env["TOPIC_PREFIX"] + "judgement.judgements"
        timeout = 60 if args.quick else 3600
        if args.quick:  # the command in this process (no second interpreter start-up)
            figures["command"], done = asyncio.run(
                command_in_process(argv, env, db_name, topic, workers, timeout, started)
            )
        else:
            command = subprocess.Popen(
                [sys.executable, *profiler, "-m", "judgement", "rejudge", *argv],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=ROOT,
            )
            sampler.pids["rejudge command"] = command.pid
            done = asyncio.run(
                count_completed(env["KAFKA_BOOTSTRAP_SERVERS"], topic, workers, timeout, started)
            )
            out, err = command.communicate(timeout=60)
            if command.returncode != 0:
                raise RuntimeError(f"rejudge failed: {err.decode()[-1000:]}")
            figures["command"] = json.loads(out.decode().strip().splitlines()[-1])
        sampler.stopped.set()
        figures["end_to_end"] = done
        elapsed = done["last_event_after_s"] or 1e-9
        figures["judgements_per_second"] = round(done["events"] / elapsed, 1)
        window = done["last_event_after_s"] - done["first_event_after_s"]
        figures["consumer_per_second"] = round(done["events"] / max(window, 1e-9), 1)
        figures["rss_peak_mib"] = {k: round(v, 1) for k, v in sampler.peak.items()}
        figures["meets_target"] = figures["judgements_per_second"] >= TARGET
        figures["all_rejudged"] = done["events"] == workers
        # the headline (bench/run_all.py): only a run that re-judged every line has one
        figures["lines_per_second"] = (
            figures["judgements_per_second"] if figures["all_rejudged"] else None
        )
    finally:
        stack.stop(drop=True)
        if keep:  # the kept seed without this run's re-judgements, for the next run
            asyncio.run(forget_runs(mongo_url, db_name))
    ctx_after = context()

    seed_f = figures["seed"]
    cmd = figures["command"]
    print("## Bulk re-judgement (issue 10, item 2)\n")
    print(f"Before: {context_line(ctx_before)}.  \nDuring: {context_line(ctx_run)}.  ")
    print(f"After: {context_line(ctx_after)}.\n")
    print(
        f"{workers:,} synthetic {TRADE} workers, one stored CCUS snapshot each "
        f"({seed_f['records_min']}–{seed_f['records_max']} work records, mean "
        f"{seed_f['records_mean']}; 3–8 qualifications) and one completed judgement citing it; "
        f"`python -m judgement rejudge --trade {TRADE} --all` against {args.consumers} "
        "judgement service process(es), shared Kafka and FerretDB 1.24.\n"
    )
    rows = [
        (
            "re-judgements per second, end to end (command start → last JudgementCompleted v2)",
            f"{figures['judgements_per_second']:,.0f}",
            f"≥ {TARGET:,.0f}",
            "yes" if figures["meets_target"] else "**no**",
        ),
        (
            "lines re-judged / events received",
            f"{cmd.get('lines_published', 0):,} / {figures['end_to_end']['events']:,}",
            f"{workers:,}",
            "yes" if figures["all_rejudged"] else "**no**",
        ),
        (
            "command: select lines (one pass over `judgements`, publishing as it reads) / in all",
            f"{cmd.get('select_seconds', '?')} s / {cmd['seconds']} s",
            "–",
            "–",
        ),
        (
            "consumer alone: lines / (last event − first event)",
            f"{figures['consumer_per_second']:,.0f}/s",
            "–",
            "–",
        ),
        (
            "first / last event after",
            f"{figures['end_to_end']['first_event_after_s']} s / "
            f"{figures['end_to_end']['last_event_after_s']} s",
            "–",
            "–",
        ),
        (
            "seeding (snapshots + judgements, insert_many)",
            f"{seed_f['seconds']} s ({seed_f['documents_per_second']:,.0f} documents/s)"
            + (" — kept from an earlier run" if seed_f.get("reused") else ""),
            "–",
            "–",
        ),
        (
            "one snapshot lookup by `_id` with this many stored: no index / indexed (median)",
            f"{seed_f['snapshot_lookup_by_id_ms']} ms / {figures['snapshot_lookup_indexed_ms']} ms",
            "–",
            "–",
        ),
    ]
    rows += [
        (f"peak RSS: {name}", f"{mib:,.0f} MiB", "–", "–")
        for name, mib in figures["rss_peak_mib"].items()
    ]
    print(table(rows, ("figure", "value", "target", "met")))
    payload = {
        "benchmark": "bulk_rejudgement",
        "quick": args.quick,
        "context_before": ctx_before,
        "context_during": ctx_run,
        "context_after": ctx_after,
        "target_judgements_per_second": TARGET,
        **figures,
    }
    path = write_json(args.json_out, "bulk-rejudgement", payload)
    print(f"\nFigures: `{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}`")
    if args.profile:
        print(f"Profiles (pyinstrument): `{stack.logs.relative_to(ROOT)}/*.profile.txt`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
