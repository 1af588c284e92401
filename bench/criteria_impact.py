"""Criteria impact preview (影響確認, issues 21 and 24): 100,000 stored workers, and the cost of
judging a stored 3,000-record snapshot from its compact form against the JSON parse.

    uv run python bench/criteria_impact.py [--quick] [--workers N] [--json-out PATH]

1. **Seed** (kept for the next run, ``bench_impact_cache_v<format>_<N>_judgement``;
   ``BENCH_IMPACT_RESEED=1`` seeds again): N/10 synthetic とび workers of the CCUS feed
   generator (``judgement.feed.synthetic``, realistic histories: registered 2019–2025,
   50–250 days a year, engagements, roles, two 職種 codes, the trade's qualification
   ladder), each stored for 10 workers (another 技能者ID each: the generator's CPU is the
   seeding's bottleneck, and no cache of the job spans workers), in the store's own format
   (checked against the service's functions): the snapshot with its §5 JSON and compact
   form (``judging.snapshot_version_doc``), the worker's pointer (``judging.latest_snapshot``),
   the compact mirror (``judgement.impact.snapshots``), and for one worker in 10 a
   completed level-3 application line judged by the engine (``judging.judge``; half with a
   経歴証明). Generated in two processes, written by three writers
   (``DocumentStore.insert_many``).
2. **Preview**: the job itself (``judgement.impact.job.ImpactJobs``: ``serve`` as the
   service's background task, ``start`` as ``POST /criteria/drafts/{id}/impact`` does)
   in this process against the shared FerretDB, with the service's lookup indexes; the
   drafted master is the packaged one plus a とび table from 2025-04-01 (level 2 600 days
   instead of 645, level 3 1,505 instead of 1,720 with 645 職長・班長 days instead of 430).
   Reported: stored workers covered per second from the start to ``done``
   (``workers_per_second``; null unless the job finished), lines per second, the phases,
   CPU and memory of the process. Target: ≥ 2,000 workers/s on this 2-core machine.
3. **Compact form**: per 3,000-record snapshot (the engine benchmark's とび worker), CPU
   time (median) of decoding the compact text + ``evaluate_ccus`` against
   ``CcusRecord.model_validate_json`` + ``evaluate``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, arguments, context, context_line, rss_mib, table, write_json
from judgement_engine import synthetic_request

TARGET = 2000.0
TRADE = "とび"
SEED = "bench-impact"
AS_OF = date(2026, 11, 1)  # the snapshots' date and the lines' application date
COPIES = 10  # each generated history is stored for 10 workers (another 技能者ID each)
BATCH = 50  # histories per pool task
DRAFT = "CD-20261207-bench0"
SEED_FORMAT = 2
"""Bump when the stored form of snapshots, pointers, mirror or judgements changes."""
CACHE_PREFIX = "bench_impact_cache_"
RUN_COLLECTIONS = ("criteria_impacts", "criteria_impact_rows", "_version_claims")
INDEXES = {  # what the judgement service declares for these collections (inject.wire)
    "ccus_snapshots": ["_id"],
    "ccus_workers": ["_id"],
    "ccus_compact": ["_id"],
    "judgements": ["_id", "employer_id", "application_id", "worker_id", "status"],
    "criteria_impacts": ["_id", "status"],
    "criteria_impact_rows": ["_id", "impact_id"],
}
TABLES = ROOT / "services/judgement/src/judgement/criteria/master/tables"


def draft_file(where: Path) -> Path:
    text = (TABLES / "tobi.yaml").read_text(encoding="utf-8")
    text = text[text.index("tables:") :].replace(
        "effective_from: 2020-03-04", "effective_from: 2025-04-01", 1
    )
    for old, new in (
        ("        days: 645\n", "        days: 600\n"),
        ("days: 1720", "days: 1505"),
        ("foreman: {scope: 職長又は班長, days: 430}", "foreman: {scope: 職長又は班長, days: 645}"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    where.mkdir(parents=True, exist_ok=True)
    path = where / "impact-draft-tobi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- seeding


def worker_id(history: int, copy: int) -> str:
    return f"8{history * COPIES + copy:013d}"


def copied(docs: dict[str, Any], copy: int) -> dict[str, Any]:
    """The documents of copy ``copy`` of a history (copy 0 as generated): another 技能者ID."""
    old, new = docs["ids"][0], docs["ids"][copy]
    if copy == 0:
        return docs
    snapshot, pointer, mirror = docs["snapshot"], docs["pointer"], docs["mirror"]
    snapshot_id = snapshot["_id"].replace(old, new)
    return {
        "snapshot": {
            **snapshot,
            "_id": snapshot_id,
            "worker_id": new,
            "ccus_json": snapshot["ccus_json"].replace(f'"{old}"', f'"{new}"', 1),
        },
        "pointer": {
            **pointer,
            "_id": new,
            "snapshot_id": snapshot_id,
            "summary": {**pointer["summary"], "worker_id": new},
        },
        "mirror": {**mirror, "_id": new, "snapshot_id": snapshot_id},
        "records": docs["records"],
    }


def history_docs(start: int, stop: int) -> list[dict[str, Any]]:
    """Histories ``start``…``stop - 1`` as copy 0 stores them (run in a pool process): the
    snapshot, the pointer, the mirror and the completed line."""
    from judgement.core import judging
    from judgement.criteria import default_master
    from judgement.feed.synthetic import generate
    from judgement.impact.snapshots import keep_newest
    from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted

    master = default_master()
    out = []
    for worker in generate(stop - start, seed=SEED, as_of=AS_OF, start=start, trade=TRADE):
        ids = [worker_id(worker.index, copy) for copy in range(COPIES)]
        snapshot = worker.snapshot.model_copy(update={"worker_id": ids[0]})
        stored = judging.snapshot_version_doc(snapshot)
        mirrored = keep_newest(stored)(None)
        assert mirrored is not None
        docs: dict[str, Any] = {
            "ids": ids,
            "snapshot": stored,
            "pointer": judging.latest_snapshot(snapshot).to_document(),
            "mirror": {"_id": snapshot.worker_id, **mirrored[0]},
            "records": len(snapshot.work_history),
        }
        if worker.index == start:  # a copy is what the service stores for that worker
            other = snapshot.model_copy(update={"worker_id": ids[1]})
            again = copied(docs, 1)
            assert again["snapshot"] == judging.snapshot_version_doc(other)
            assert again["pointer"] == judging.latest_snapshot(other).to_document()
            assert again["mirror"]["ccus_compact"] == again["snapshot"]["ccus_compact"]
        # one copy of each history has a completed line (every 10th worker), half of them
        # with the 経歴証明 the employer could give
        career = worker.career if worker.index % 2 == 0 else None
        line = ApplicationLine(
            line_id=f"BI-{worker.index}-1",
            worker_id=snapshot.worker_id,
            worker_name=snapshot.name,
            worker_name_kana=snapshot.name_kana,
            birth_date=snapshot.birth_date,
            trade=TRADE,
            requested_level=3,
            fee_yen=0,
            career_start=career.start if career else None,
            career_end=career.end if career else None,
            foreman_months=career.foreman_months if career else 0,
            leader_months=career.leader_months if career else 0,
        )
        event = ApplicationSubmitted(
            application_id=f"BI-{worker.index}",
            employer_id="12345678901234",
            application_date=AS_OF,
            submitted_at=datetime(2026, 11, 1, tzinfo=UTC),
            fee_total_yen=0,
            lines=[line],
        )
        now = datetime(2026, 11, 1, 9, tzinfo=UTC)
        received = judging.received(event, line, now, 7, master)
        ccus = judging.Ccus(stored["_id"], judging.stored_record(stored))
        judged, _ = judging.judge(received, ccus, master, "auto", now)
        assert judged.status == judging.COMPLETED
        docs["judgement"] = judged.to_document()
        out.append(docs)
    return out


async def seed(mongo_url: str, db_name: str, workers: int) -> dict[str, Any]:
    from shared_kernel.infra.mongo import DocumentStore, connect

    client = connect(mongo_url)
    db = client[db_name]
    stores = {
        name: DocumentStore(db, collection)
        for name, collection in (
            ("snapshot", "ccus_snapshots"),
            ("pointer", "ccus_workers"),
            ("mirror", "ccus_compact"),
            ("judgement", "judgements"),
        )
    }
    started = time.perf_counter()
    records: list[int] = []
    sizes = {"json": 0, "compact": 0}
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=4)

    async def write() -> None:
        while (histories := await queue.get()) is not None:
            for copy in range(COPIES):
                batch = [copied(h, copy) for h in histories]
                records.extend(d["records"] for d in batch)
                sizes["json"] += sum(len(d["snapshot"]["ccus_json"]) for d in batch)
                sizes["compact"] += sum(len(d["snapshot"]["ccus_compact"]) for d in batch)
                for name, store in stores.items():
                    docs = [d[name] for d in batch if name in d]
                    if docs:
                        await store.insert_many(docs)
        await queue.put(None)  # let the next writer end too

    histories = workers // COPIES
    writers = [asyncio.create_task(write()) for _ in range(3)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        pending: list[asyncio.Future[list[dict[str, Any]]]] = []
        for start in range(0, histories, BATCH):
            stop = min(histories, start + BATCH)
            pending.append(loop.run_in_executor(pool, history_docs, start, stop))
            if len(pending) >= 3:
                await queue.put(await pending.pop(0))
        for future in pending:
            await queue.put(await future)
    await queue.put(None)
    await asyncio.gather(*writers)
    seconds = time.perf_counter() - started
    await client.close()
    return {
        "seconds": round(seconds, 1),
        "workers_per_second": round(workers / seconds, 1),
        "histories": histories,
        "copies": COPIES,
        "records_mean": round(statistics.mean(records), 1),
        "records_min": min(records),
        "records_max": max(records),
        "ccus_json_kib_mean": round(sizes["json"] / workers / 1024, 1),
        "ccus_compact_kib_mean": round(sizes["compact"] / workers / 1024, 2),
        "lines": histories,
    }


def cache_db(workers: int) -> str:
    return f"{CACHE_PREFIX}v{SEED_FORMAT}_{workers}_judgement"


def cached_seed(mongo_url: str, db_name: str) -> dict[str, Any] | None:
    from pymongo import MongoClient

    if os.environ.get("BENCH_IMPACT_RESEED") == "1":
        return None
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as mongo:
        meta = mongo[db_name]["bench_meta"].find_one({"_id": "seed"})
    return {k: v for k, v in meta.items() if k != "_id"} if meta else None


def drop(mongo_url: str, names: list[str], *, prefix_stale: bool = False) -> None:
    from pymongo import MongoClient

    current = f"{CACHE_PREFIX}v{SEED_FORMAT}_"
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as mongo:
        for name in mongo.list_database_names():
            stale = prefix_stale and name.startswith(CACHE_PREFIX) and not name.startswith(current)
            if stale or name in names:
                mongo.drop_database(name)


async def forget_runs(mongo_url: str, db_name: str) -> None:
    from shared_kernel.infra.mongo import connect

    client = connect(mongo_url)
    for name in RUN_COLLECTIONS:
        await client[db_name].drop_collection(name)
    await client.close()


async def keep_seed(mongo_url: str, db_name: str, seeded: dict[str, Any]) -> None:
    from shared_kernel.infra.mongo import connect

    client = connect(mongo_url)
    await client[db_name]["bench_meta"].insert_one({"_id": "seed", **seeded})
    await client.close()


# --------------------------------------------------------------------------- the preview


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.peak = max(self.peak, rss_mib([os.getpid()]))


async def preview(mongo_url: str, db_name: str, draft: Path, timeout: float) -> dict[str, Any]:
    from judgement.criteria import default_master, load_master
    from judgement.impact.job import ImpactJobs
    from shared_kernel.infra.indexes import ensure_indexes
    from shared_kernel.infra.mongo import DocumentStore, connect
    from shared_kernel.infra.settings import ServiceSettings

    in_force, drafted = default_master(), load_master([draft])

    class Drafts:
        async def for_draft(self, draft_id: str) -> tuple[str, Any, Any]:
            return TRADE, in_force, drafted

    client = connect(mongo_url)
    db = client[db_name]
    await ensure_indexes(db, INDEXES, postgresql_url=ServiceSettings().ferretdb_postgresql_url)
    jobs = ImpactJobs(
        db,
        DocumentStore(db, "criteria_impacts"),
        DocumentStore(db, "criteria_impact_rows"),
        DocumentStore(db, "ccus_compact"),
        Drafts(),
    )
    sampler = Sampler()
    sampler.start()
    serving = asyncio.create_task(jobs.serve())
    cpu0 = time.process_time()
    started = time.perf_counter()
    await jobs.start(DRAFT, TRADE, in_force, drafted, requested_by="bench")
    phases: dict[str, float] = {}
    doc: dict[str, Any] = {}
    while time.perf_counter() - started < timeout:
        doc = await jobs.get(DRAFT) or {}
        phases.setdefault(str(doc.get("phase")), round(time.perf_counter() - started, 2))
        if doc.get("status") in ("done", "failed"):
            break
        await asyncio.sleep(0.25)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    serving.cancel()
    sampler.stopped.set()
    rows = 0
    if doc.get("status") == "done":
        rows = sum([len(part.splitlines()) async for part in jobs.csv_parts(doc)])
    await client.close()
    return {
        "status": doc.get("status"),
        "error": doc.get("error"),
        "seconds": round(seconds, 2),
        "job_seconds": doc.get("seconds"),
        "phases_started_after_s": phases,
        "total": doc.get("total"),
        "done": doc.get("done"),
        "workers_judged": doc.get("workers"),
        "counts": doc.get("counts"),
        "lines": doc.get("lines"),
        "csv_rows": rows,
        "sample_first": (doc.get("sample") or [])[:3],
        "cpu_seconds_bench_process": round(cpu, 1),
        "rss_peak_mib": round(sampler.peak, 1),
    }


# --------------------------------------------------------------------------- compact form


def cpu_median_us(fn: Callable[[], object], runs: int, per_run: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        for _ in range(per_run):
            fn()
        times.append((time.process_time() - t0) / per_run)
    return round(statistics.median(times) * 1e6, 1)


def compact_figures(quick: bool) -> dict[str, Any]:
    from judgement.core import compact
    from judgement.core.engine import evaluate, evaluate_ccus
    from judgement.core.models import CcusRecord, EvaluationRequest
    from judgement.criteria import default_master

    master = default_master()
    body = synthetic_request(3000)
    text = json.dumps(body["ccus"], ensure_ascii=False, separators=(",", ":"))
    record = CcusRecord.model_validate_json(text)
    packed = compact.encode(compact.from_record(record))
    on = date.fromisoformat(body["application_date"])
    runs, fast, slow = (3, 50, 3) if quick else (7, 400, 15)

    def from_compact() -> object:
        ccus = compact.decode(packed)
        return evaluate_ccus(ccus, master, trade=TRADE, requested_level=4, application_date=on)

    def from_json() -> object:
        parsed = CcusRecord.model_validate_json(text)
        request = EvaluationRequest(
            trade=TRADE, requested_level=4, application_date=on, ccus=parsed
        )
        return evaluate(request, master)

    assert from_compact() == from_json()
    decoded = compact.decode(packed)
    figures = {
        "records": len(body["ccus"]["work_history"]),
        "ccus_json_bytes": len(text.encode()),
        "ccus_compact_bytes": len(packed.encode()),
        "decode_us": cpu_median_us(lambda: compact.decode(packed), runs, fast),
        "evaluate_ccus_us": cpu_median_us(
            lambda: evaluate_ccus(
                decoded, master, trade=TRADE, requested_level=4, application_date=on
            ),
            runs,
            fast,
        ),
        "compact_decode_and_judge_us": cpu_median_us(from_compact, runs, fast),
        "json_parse_and_judge_us": cpu_median_us(from_json, runs, slow),
        "json_parse_only_us": cpu_median_us(
            lambda: CcusRecord.model_validate_json(text), runs, slow
        ),
        "compact_from_json_us": cpu_median_us(lambda: compact.from_ccus_json(text), runs, slow),
    }
    figures["speedup"] = round(
        figures["json_parse_and_judge_us"] / figures["compact_decode_and_judge_us"], 1
    )
    figures["meets_target_under_1ms"] = figures["compact_decode_and_judge_us"] < 1000
    return figures


# --------------------------------------------------------------------------- main


def counted(found: dict[str, int] | None) -> str:
    return " / ".join(f"{(found or {}).get(k, 0):,}" for k in ("up", "down", "unchanged"))


def main() -> int:
    args = arguments(
        (__doc__ or "").splitlines()[0], [("--workers", {"type": int, "default": None})]
    )
    workers = args.workers or (2000 if args.quick else 100_000)
    workers -= workers % COPIES
    mongo_url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    keep = not args.quick
    db_name = cache_db(workers) if keep else f"bench_impact_quick_{os.getpid()}_judgement"
    ctx_before = context()
    figures: dict[str, Any] = {"workers": workers, "trade": TRADE, "copies": COPIES}
    figures["compact_judgement"] = compact_figures(args.quick)
    draft = draft_file(ROOT / "var" / "bench")
    try:
        cached = cached_seed(mongo_url, db_name) if keep else None
        if cached is not None:
            figures["seed"] = {**cached, "reused": True}
            asyncio.run(forget_runs(mongo_url, db_name))
        else:
            drop(mongo_url, [db_name], prefix_stale=keep)
            figures["seed"] = asyncio.run(seed(mongo_url, db_name, workers))
            if keep:
                asyncio.run(keep_seed(mongo_url, db_name, figures["seed"]))
        ctx_run = context()
        run = asyncio.run(preview(mongo_url, db_name, draft, 120 if args.quick else 1800))
        figures["preview"] = run
        # finished: done, and every stored worker and line examined
        finished = run["status"] == "done" and run["done"] >= workers + figures["seed"]["lines"]
        seconds = run["seconds"]
        figures["workers_per_second"] = round(workers / seconds, 1) if finished else None
        figures["lines_per_second"] = (
            round(sum((run["lines"] or {}).values()) / seconds, 1) if finished else None
        )
        figures["meets_target"] = bool(finished and figures["workers_per_second"] >= TARGET)
    finally:
        if keep:
            asyncio.run(forget_runs(mongo_url, db_name))
        else:
            drop(mongo_url, [db_name])
    ctx_after = context()

    seed_f, run, cf = figures["seed"], figures["preview"], figures["compact_judgement"]
    print("## Criteria impact preview (issues 21, 24)\n")
    print(f"Before: {context_line(ctx_before)}.  \nDuring: {context_line(ctx_run)}.  ")
    print(f"After: {context_line(ctx_after)}.\n")
    print(
        f"{workers:,} {TRADE} workers stored in the service's format ({seed_f['histories']:,} "
        f"synthetic histories of the CCUS feed generator, {seed_f['copies']} workers each; "
        f"{seed_f['records_min']:,}–{seed_f['records_max']:,} work records, "
        f"mean {seed_f['records_mean']:,}; §5 JSON {seed_f['ccus_json_kib_mean']} KiB, compact "
        f"{seed_f['ccus_compact_kib_mean']} KiB a worker) and {seed_f['lines']:,} completed "
        "level-3 lines; the preview job of a drafted とび table, in one process (as in the "
        "judgement service), against the shared FerretDB 1.24.\n"
    )
    wps = figures["workers_per_second"]
    rows = [
        (
            "workers per second (stored workers covered, start → done)",
            f"{wps:,.0f}" if wps is not None else "null (not finished)",
            f"≥ {TARGET:,.0f}",
            "yes" if figures["meets_target"] else "**no**",
        ),
        (
            "preview: seconds / job's own seconds",
            f"{run['seconds']} s / {run['job_seconds']} s",
            "–",
            "–",
        ),
        ("phases started after (s)", json.dumps(run["phases_started_after_s"]), "–", "–"),
        (
            "workers judged (of the 分野) / up / down / unchanged",
            f"{run['workers_judged']:,} / "
            + " / ".join(
                f"{(run['counts'] or {}).get(k, 0):,}" for k in ("up", "down", "unchanged")
            ),
            "–",
            "–",
        ),
        (
            "lines up / down / unchanged; lines per second",
            counted(run["lines"]) + f"; {figures['lines_per_second']}",
            "–",
            "–",
        ),
        ("CSV rows (changed outcomes)", f"{run['csv_rows']:,}", "–", "–"),
        (
            "CPU of the process / peak RSS",
            f"{run['cpu_seconds_bench_process']} s / {run['rss_peak_mib']} MiB",
            "–",
            "–",
        ),
        (
            "seeding (snapshots, pointers, mirror, lines)",
            f"{seed_f['seconds']} s ({seed_f['workers_per_second']:,.0f} workers/s)"
            + (" — kept from an earlier run" if seed_f.get("reused") else ""),
            "–",
            "–",
        ),
    ]
    print(table(rows, ("figure", "value", "target", "met")))
    print(
        f"\nOne stored {cf['records']:,}-record snapshot judged (CPU time, median; §5 JSON "
        f"{cf['ccus_json_bytes']:,} B, compact {cf['ccus_compact_bytes']:,} B):\n"
    )
    print(
        table(
            [
                ("compact: decode", f"{cf['decode_us']:,} µs"),
                ("compact: `evaluate_ccus`", f"{cf['evaluate_ccus_us']:,} µs"),
                (
                    "**compact: decode + judge** (target well under 1 ms)",
                    f"**{cf['compact_decode_and_judge_us']:,} µs**",
                ),
                ("JSON: `CcusRecord.model_validate_json` only", f"{cf['json_parse_only_us']:,} µs"),
                ("JSON: parse + `evaluate`", f"{cf['json_parse_and_judge_us']:,} µs"),
                (
                    "compact form built from the JSON (legacy snapshots)",
                    f"{cf['compact_from_json_us']:,} µs",
                ),
                ("speed-up of the compact path", f"×{cf['speedup']}"),
            ],
            ("per 3,000-record snapshot", "CPU time"),
        )
    )
    payload = {
        "benchmark": "criteria_impact",
        "quick": args.quick,
        "context_before": ctx_before,
        "context_during": ctx_run,
        "context_after": ctx_after,
        "target_workers_per_second": TARGET,
        **figures,
    }
    path = write_json(args.json_out, "criteria-impact", payload)
    print(f"\nFigures: `{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
