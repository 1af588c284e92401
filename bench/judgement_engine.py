"""Benchmark of the judgement engine (issues 3 and 10): evaluations per second on one core.

Run from the repository root::

    uv run python bench/judgement_engine.py [--quick] [--json-out PATH]

It builds a synthetic worker (とび, the costliest table: occupation filter, 12-item pools,
foreman and leader roles) with 3,000 work-history records and 20 qualifications and calls
``judgement.core.engine.evaluate(request, master)``, the function the
ApplicationSubmitted consumer, the preview endpoint and the CLI call, with the packaged
master loaded once. It reports the median of several timed runs, the same for a trade
without occupation filter (鉄筋), the cost of parsing the §5 JSON into the request model
(paid once per judgement by the callers), and the growth curve over 100 … 50,000 records.
It also measures the consumer path (``judging.judge`` with the cached CCUS record, and with
the record parsed) and reports time per call, per record and the ratio between sizes.
Prints a Markdown section (figures, targets, machine context) and writes the figures as
JSON to ``--json-out`` (default ``bench/results/judgement-engine-<date>.json``).
Target: at least 2,000 evaluations per second per core at 3,000 records.
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from judgement.core.engine import evaluate
from judgement.core.master import Master
from judgement.core.models import EvaluationRequest, EvaluationResult
from judgement.criteria import default_master
from shared_kernel.infra.logging import correlation_scope

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, arguments, context, context_line, table, write_json

TARGET = 2000.0
SIZES = (100, 1_000, 3_000, 10_000, 50_000)
APPLICATION_DATE = date(2026, 11, 1)

QUALIFICATIONS = [
    ("40040", "玉掛け技能講習"),
    ("60001", "職長・安全衛生責任者教育"),
    ("40011", "足場の組立て等作業主任者技能講習"),
    ("40010", "型枠支保工の組立て等作業主任者技能講習"),
    ("40031", "小型移動式クレーン運転技能講習"),
    ("40039", "高所作業車運転技能講習"),
    ("10902", "2級とび技能士"),
    ("49999", "ガス溶接技能講習"),  # mis-coded: exercises the warning path
    ("00016", "登録鳶・土工基幹技能者"),
    ("91002", "優秀施工者国土交通大臣顕彰"),
    (None, "フルハーネス型墜落制止用器具特別教育"),
    ("50001", "アーク溶接特別教育"),
    ("50002", "研削といし取替試運転作業者特別教育"),
    ("40005", "地山の掘削及び土止め支保工作業主任者"),
    ("40012", "建築物等の鉄骨の組立て等作業主任者技能講習"),
    ("40035", "車両系建設機械（整地・運搬・積込み用及び掘削用）運転技能講習"),
    ("40036", "車両系建設機械（解体用）運転技能講習"),
    (None, "酸素欠乏・硫化水素危険作業主任者技能講習"),
    ("30008", "2級建築施工管理技士"),
    (None, "ＫＹＴトレーナー研修"),
]


def synthetic_request(records: int, trade: str = "とび", seed: int = 3) -> dict[str, Any]:
    """A §5 request with ``records`` work-history records (about 1.2 records per day)."""
    rng = random.Random(seed)
    registered = date(2019, 4, 1)
    span = (APPLICATION_DATE - registered).days
    history = []
    for _ in range(records):
        day = registered + timedelta(days=rng.randrange(span + 30))  # some after the date
        roll = rng.random()
        role = "職長" if roll < 0.25 else "班長" if roll < 0.4 else None
        occ = rng.random()
        occupation = "06-01" if occ < 0.8 else "06-02" if occ < 0.95 else None
        history.append(
            {
                "date": day.isoformat(),
                "site_id": f"S{rng.randrange(1, 400):05d}",
                "role": role,
                "occupation": occupation,
            }
        )
    qualifications = [
        {
            "code": code,
            "name": name,
            "acquired_on": (date(2006, 4, 1) + timedelta(days=300 * i)).isoformat(),
        }
        for i, (code, name) in enumerate(QUALIFICATIONS)
    ]
    return {
        "trade": trade,
        "requested_level": 4,
        "application_date": APPLICATION_DATE.isoformat(),
        "ccus": {
            "worker_id": "12345678901234",
            "registration_type": "詳細型",
            "registered_on": registered.isoformat(),
            "qualifications": qualifications,
            "work_history": history,
        },
        "career_certification": {
            "start": "2005-04-10",
            "end": "2019-05-20",
            "foreman": {"years": 5, "months": 0},
            "leader": {"years": 3, "months": 6},
        },
    }


def validate_and_evaluate(raw: dict[str, Any], master: Master) -> EvaluationResult:
    """What a caller holding the §5 JSON does: build the request, then judge it."""
    return evaluate(EvaluationRequest.model_validate(raw), master)


def consumer_path(raw: dict[str, Any], master: Master) -> Callable[[], object]:
    """What the ApplicationSubmitted consumer does per line once the worker's CCUS record is
    parsed (the service parses each snapshot once and keeps it in memory): build the
    request, evaluate, build the stored document and the events."""
    from datetime import UTC, datetime

    from judgement.core import judging
    from judgement.core.models import CcusRecord
    from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted

    record = CcusRecord.model_validate(raw["ccus"])
    ccus = judging.Ccus("bench@1", record)
    now = datetime.now(UTC)
    event = ApplicationSubmitted(
        application_id="BENCH",
        employer_id="12345678901234",
        application_date=date.fromisoformat(raw["application_date"]),
        submitted_at=now,
        fee_total_yen=0,
        lines=[
            ApplicationLine(
                line_id="BENCH-1",
                worker_id=record.worker_id,
                worker_name="ベンチ",
                worker_name_kana="ベンチ",
                birth_date=date(1980, 1, 1),
                trade=raw["trade"],
                requested_level=raw["requested_level"],
                fee_yen=0,
            )
        ],
    )
    doc = judging.received(event, event.lines[0], now, 7, master)
    return partial(judging.judge, doc, ccus, master, "auto", now)


def rate(call: Callable[[], object], runs: int, seconds: float) -> tuple[float, list[float]]:
    """Median calls per second over ``runs`` runs of about ``seconds`` each."""
    call()  # warm up
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds / 5 or n < 3:
        call()
        n += 1
    per_run = max(1, n * 5)  # about ``seconds`` per run
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(per_run):
            call()
        rates.append(per_run / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def parse_and_judge(raw: dict[str, Any], master: Master) -> Callable[[], object]:
    """The consumer path when the snapshot is not cached: parse the stored CCUS record too."""
    from judgement.core.models import CcusRecord

    judge = consumer_path(raw, master)
    parse = partial(CcusRecord.model_validate, raw["ccus"])

    def both() -> object:
        parse()
        return judge()

    return both


def growth_rows(
    master: Master, runs: int, seconds: float, sizes: tuple[int, ...]
) -> list[dict[str, Any]]:
    """Time per call and per record of each path at each size, and the growth between sizes."""
    from judgement.core.models import CcusRecord

    rows: list[dict[str, Any]] = []
    for size in sizes:
        raw = synthetic_request(size)
        request = EvaluationRequest.model_validate(raw)
        paths = {
            "evaluate": partial(evaluate, request, master),
            "consumer_cached": consumer_path(raw, master),
            "ccus_parse": partial(CcusRecord.model_validate, raw["ccus"]),
            "validate_and_evaluate": partial(validate_and_evaluate, raw, master),
        }
        row: dict[str, Any] = {"records": size}
        for name, call in paths.items():
            per_second, _ = rate(call, runs, seconds)
            row[name] = {
                "per_second_median": round(per_second, 1),
                "microseconds_per_call": round(1e6 / per_second, 1),
                "nanoseconds_per_record": round(1e9 / per_second / size, 1),
            }
        rows.append(row)
    for before, after in itertools.pairwise(rows):
        size_ratio = after["records"] / before["records"]
        after["growth_vs_previous"] = {
            "size_ratio": size_ratio,
            **{
                name: round(
                    after[name]["microseconds_per_call"] / before[name]["microseconds_per_call"], 2
                )
                for name in ("evaluate", "consumer_cached", "ccus_parse", "validate_and_evaluate")
            },
        }
    return rows


def main() -> int:
    args = arguments((__doc__ or "").splitlines()[0], [("--runs", {"type": int, "default": 5})])
    seconds = 0.05 if args.quick else 0.5
    runs = 2 if args.quick else args.runs
    sizes = (100, 1_000) if args.quick else SIZES
    ctx_before = context()

    master = default_master()
    headline: dict[str, Any] = {}
    for trade in ("とび", "鉄筋"):
        raw = synthetic_request(3_000, trade)
        request = EvaluationRequest.model_validate(raw)
        result = evaluate(request, master)
        median, rates = rate(partial(evaluate, request, master), runs, seconds)
        headline[trade] = {
            "records": 3_000,
            "qualifications": len(QUALIFICATIONS),
            "evaluations_per_second_median": round(median, 1),
            "runs": [round(r, 1) for r in rates],
            "microseconds_per_evaluation": round(1e6 / median, 1),
            "result_eligible_level": result.eligible_level,
            "result_days": result.days.model_dump(),
            "meets_target": median >= TARGET,
        }
    raw = synthetic_request(3_000)
    with correlation_scope("bench-consumer-path"):  # as in the consumer (no new id per event)
        consumer_median, consumer_runs = rate(consumer_path(raw, master), runs, seconds)
        uncached_median, _ = rate(parse_and_judge(raw, master), runs, seconds)
    headline["consumer_path"] = {
        "records": 3_000,
        "what": "judging.judge(line, cached CCUS record): request, evaluate, document, events",
        "judgements_per_second_median": round(consumer_median, 1),
        "runs": [round(r, 1) for r in consumer_runs],
        "meets_target": consumer_median >= TARGET,
    }
    parse_median, _ = rate(partial(EvaluationRequest.model_validate, raw), runs, seconds)
    full_median, _ = rate(partial(validate_and_evaluate, raw, master), runs, seconds)
    growth = growth_rows(master, max(2, runs // 2), seconds, sizes)
    ctx = context()

    print("## Judgement engine (issue 10, item 1)\n")
    print(f"Before: {context_line(ctx_before)}.  \nAfter: {context_line(ctx)}.\n")
    print(
        f"Synthetic とび worker (3,000 work records, {len(QUALIFICATIONS)} qualifications, "
        f"mixed 職種 codes and roles), master {master.version}, one process on one core, "
        f"median of {runs} runs of ~{seconds:g} s. Target ≥ {TARGET:,.0f}/s per core.\n"
    )
    rows = []
    for trade in ("とび", "鉄筋"):
        row = headline[trade]
        rows.append(
            (
                f"`evaluate()`, {trade}",
                f"{row['evaluations_per_second_median']:,.0f}",
                f"{row['microseconds_per_evaluation']:,.0f}",
                f"≥ {TARGET:,.0f}",
                "yes" if row["meets_target"] else "**no**",
            )
        )
    rows.append(
        (
            "consumer path: `judging.judge()` with the cached CCUS record (request, evaluate, "
            "stored document, events)",
            f"{consumer_median:,.0f}",
            f"{1e6 / consumer_median:,.0f}",
            f"≥ {TARGET:,.0f}",
            "yes" if consumer_median >= TARGET else "**no**",
        )
    )
    rows.append(
        (
            "consumer path with the snapshot parsed (`CcusRecord.model_validate` + judge)",
            f"{uncached_median:,.0f}",
            f"{1e6 / uncached_median:,.0f}",
            "–",
            "–",
        )
    )
    rows.append(
        (
            "`model_validate()` of the §5 JSON",
            f"{parse_median:,.0f}",
            f"{1e6 / parse_median:,.0f}",
            "–",
            "–",
        )
    )
    rows.append(
        (
            "`model_validate()` + `evaluate()`",
            f"{full_median:,.0f}",
            f"{1e6 / full_median:,.0f}",
            "–",
            "–",
        )
    )
    print(table(rows, ("case (3,000 records)", "per second", "µs each", "target", "met")))
    print("\n### Growth with the work history (とび)\n")
    print(
        "µs per call and ns per record; × = time ratio to the previous size (the size ratio "
        "is in the first column: a ratio at or below it is linear or better).\n"
    )
    growth_table = []
    for row in growth:
        g = row.get("growth_vs_previous")

        def cell(name: str, row: dict[str, Any] = row, g: dict[str, Any] | None = g) -> str:
            figures = row[name]
            text = (
                f"{figures['microseconds_per_call']:,.0f} µs, "
                f"{figures['nanoseconds_per_record']:,.0f} ns/rec"
            )
            return text + (f", ×{g[name]:.1f}" if g else "")

        growth_table.append(
            (
                f"{row['records']:,}" + (f" (×{g['size_ratio']:g})" if g else ""),
                cell("evaluate"),
                cell("consumer_cached"),
                cell("ccus_parse"),
                cell("validate_and_evaluate"),
            )
        )
    print(
        table(
            growth_table,
            (
                "records",
                "`evaluate()`",
                "consumer path (cached)",
                "`CcusRecord` parse",
                "validate + evaluate",
            ),
        )
    )
    linear = all(
        row["growth_vs_previous"][name] <= row["growth_vs_previous"]["size_ratio"] * 1.25
        for row in growth[1:]
        for name in ("evaluate", "consumer_cached", "ccus_parse", "validate_and_evaluate")
    )
    print(f"\nLinear or better at every step (within 25 % noise): {'yes' if linear else '**no**'}.")

    payload = {
        "benchmark": "judgement_engine",
        "quick": args.quick,
        "context_before": ctx_before,
        "context_after": ctx,
        "master_version": master.version,
        "target_per_second_per_core": TARGET,
        "headline": headline,
        "consumer_path_with_parse_per_second_median": round(uncached_median, 1),
        "parse_only_per_second_median": round(parse_median, 1),
        "parse_and_evaluate_per_second_median": round(full_median, 1),
        "growth": growth,
        "growth_linear_or_better": linear,
    }
    out = write_json(args.json_out, "judgement-engine", payload)
    print(f"\nFigures: `{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
