"""レベル診断 (issue 25): the outlook of an employer with 1,000 consented workers.

    uv run python bench/outlook.py [--quick] [--workers N] [--json-out PATH]

A judgement process of its own (``python -m judgement serve``: own port, topic prefix and
database) receives N synthetic CCUS workers through the feed command (``judgement feed
synthetic``: realistic histories, several 職種 and qualifications) and one ConsentGranted
per worker for one employer, as in production (Kafka events, the service's own consumers).
Then ``GET /outlook`` (the portal's レベル診断 table: every consented worker, every 分野 its
職種 point to, today's level, the next one and what is missing) is timed: one warm-up and
``RUNS`` measured requests, one at a time. Figure: ``employer_1000_workers_ms`` = the
median (target < 1 s), with p95 and the request's server-side CPU unknown (the process is
one of several on the machine: the load average is reported).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    BENCH_SIGNING_KEY,
    Stack,
    arguments,
    context,
    context_line,
    table,
    write_json,
)

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentGranted
from shared_kernel.infra.auth import issue_token
from shared_kernel.infra.kafka import EventPublisher, make_broker
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.principal import Principal

TARGET_MS = 1000.0
EMPLOYER = "31000000000001"
AS_OF = "2026-11-20"
RUNS = 7


def token() -> str:
    principal = Principal(
        subject="benchoutlook", role="employer", employer_id=EMPLOYER, session="bench-outlook"
    )
    return issue_token(BENCH_SIGNING_KEY, principal, ttl=timedelta(hours=1))


def worker_ids(stack: Stack, count: int, timeout: float) -> list[str]:
    """The workers the judgement service has stored (the feed's ids), once all arrived."""
    from pymongo import MongoClient

    deadline = time.monotonic() + timeout
    with MongoClient(stack.env["MONGODB_URL"], serverSelectionTimeoutMS=5000) as mongo:
        workers = mongo[stack.db("judgement")]["ccus_workers"]
        while True:
            ids = [str(d["_id"]) for d in workers.find({}, projection={"_id": 1})]
            if len(ids) >= count or time.monotonic() > deadline:
                return sorted(ids)
            time.sleep(0.5)


async def grant_consents(stack: Stack, ids: list[str]) -> None:
    settings = ServiceSettings(
        service_name="bench-outlook",
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        topic_prefix=stack.prefix,
    )
    broker = make_broker(settings)
    await broker.start()
    try:
        publish = EventPublisher(broker, settings, ConsentGranted)
        now = datetime.now(UTC)
        for n, worker in enumerate(ids):
            await publish(
                Envelope(
                    ConsentGranted(
                        consent_id=f"CN-BENCH-{n:05d}",
                        employer_id=EMPLOYER,
                        worker_id=worker,
                        worker_name=f"技能者 {n:04d}",
                        worker_name_kana="ギノウシャ",
                        birth_date=date(1985, 4, 1),
                        scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
                        granted_at=now,
                        valid_until=(now + timedelta(days=365)).date(),
                        ends_on_first_judgement=True,
                    ),
                    source="consent",
                )
            )
    finally:
        await broker.stop()


async def measure(stack: Stack, count: int, timeout: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token()}"}
    url = f"{stack.url('judgement')}/outlook"
    async with httpx.AsyncClient(timeout=120) as client:
        deadline = time.monotonic() + timeout
        rows: list[Any] = []
        while time.monotonic() < deadline:  # the consents arrive through Kafka
            answer = await client.get(url, headers=headers, params={"on": AS_OF})
            answer.raise_for_status()
            rows = answer.json()
            if len({r["worker_id"] for r in rows}) >= count:
                break
            await asyncio.sleep(1)
        workers = len({r["worker_id"] for r in rows})
        if workers < count:
            return {"workers_listed": workers, "rows": len(rows), "runs_ms": []}
        runs: list[float] = []
        for _ in range(RUNS):
            started = time.perf_counter()
            answer = await client.get(url, headers=headers, params={"on": AS_OF})
            runs.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
        return {"workers_listed": workers, "rows": len(answer.json()), "runs_ms": runs}


def bench(quick: bool, workers: int) -> dict[str, Any]:
    stack = Stack("outlook", services=("judgement",))
    ctx = context()
    started = time.monotonic()
    try:
        stack.start()
        stack.cli(
            "judgement", "feed", "synthetic", "--count", str(workers), "--seed", "bench-outlook",
            "--as-of", AS_OF, timeout=600,
        )  # fmt: skip
        ids = worker_ids(stack, workers, timeout=300)
        seeded = time.monotonic() - started
        asyncio.run(grant_consents(stack, ids))
        result = asyncio.run(measure(stack, len(ids), timeout=300))
    finally:
        stack.stop()
    runs = result["runs_ms"]
    median = round(statistics.median(runs), 1) if runs else None
    p95 = round(sorted(runs)[max(0, round(0.95 * len(runs)) - 1)], 1) if runs else None
    return {
        "benchmark": "outlook",
        "quick": quick,
        "context_before": ctx,
        "figures": {
            "employer_1000_workers_ms": median if workers == 1000 else None,
            "workers": workers,
            "workers_listed": result["workers_listed"],
            "rows": result["rows"],
            "median_ms": median,
            "p95_ms": p95,
            "runs_ms": [round(r, 1) for r in runs],
            "target_ms": TARGET_MS,
            "meets_target": median is not None and median < TARGET_MS,
            "seed_seconds": round(seeded, 1),
        },
    }


def report(result: dict[str, Any]) -> str:
    f = result["figures"]
    verdict = "met" if f["meets_target"] else "**missed**"
    if f["median_ms"] is None:
        verdict = "not reached (the consents or workers did not all arrive)"
    lines = [
        "## レベル診断: the outlook of one employer's consented workers (issue 25)",
        "",
        context_line(result["context_before"]),
        "",
        f"{f['workers']} synthetic CCUS workers (the feed generator, as of {AS_OF}) and one "
        f"ConsentGranted each for one employer, through Kafka into a judgement process of the "
        f"benchmark's own (seeded in {f['seed_seconds']} s). `GET /outlook`, one request at a "
        f"time, {RUNS} runs after a warm-up.",
        "",
        table(
            [
                [
                    f"{f['workers_listed']} workers ({f['rows']} rows)",
                    f"{f['median_ms']} ms",
                    f"{f['p95_ms']} ms",
                    f"< {TARGET_MS:.0f} ms",
                    verdict,
                ]
            ],
            ["employer's workers", "median", "p95", "target", ""],
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    args = arguments(
        (__doc__ or "").splitlines()[0], [("--workers", {"type": int, "default": None})]
    )
    workers = args.workers or (100 if args.quick else 1000)
    result = bench(args.quick, workers)
    print(report(result))
    write_json(args.json_out, "outlook", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
