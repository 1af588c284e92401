"""Run every benchmark of bench/ in sequence and write the dated report (``make bench``).

    uv run python bench/run_all.py [--quick] [--only NAME ...] [--out-dir DIR]

Each benchmark runs as ``python bench/<name>.py [--quick] --json-out <file>`` in its own
process, one after the other (they would disturb each other's figures). Its Markdown
section (stdout) and its JSON are gathered into ``bench/results/<date>-report.md`` and
``bench/results/<date>-report.json``, under a header with the machine's context (cores,
memory, load average before and after, the busiest other processes: the machine is shared
with Kafka, the database and whatever else runs). A benchmark that fails is reported as
such and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import RESULTS, ROOT, context, context_line

# (script, budget in seconds for a full run): the 20 minutes in all
BENCHMARKS = [
    ("judgement_engine", 180),
    ("bulk_rejudgement", 300),
    ("criteria_impact", 120),
    ("outlook", 120),
    ("documents", 60),
    ("stack", 60),
    ("http_load", 210),
    ("pipeline", 480),
]

# The headline figure of each benchmark beside its target (issues 10, 21, 24, 25): (benchmark,
# path of the figure in its JSON, what it is, target text, comparison, target value).
HEADLINES: list[tuple[str, tuple[str, ...], str, str, str, float]] = [
    (
        "judgement_engine",
        ("headline", "とび", "evaluations_per_second_median"),
        "`evaluate()` per second per core, 3,000 records (とび)",
        "≥ 2,000",
        ">=",
        2000,
    ),
    (
        "bulk_rejudgement",
        ("lines_per_second",),
        "bulk re-judgement, lines per second end to end (100,000 workers)",
        "≥ 1,000",
        ">=",
        1000,
    ),
    (
        "criteria_impact",
        ("workers_per_second",),
        "impact preview, stored workers per second",
        "≥ 2,000",
        ">=",
        2000,
    ),
    (
        "outlook",
        ("employer_1000_workers_ms",),
        "レベル診断 list, 1,000 workers (ms, median)",
        "< 1,000",
        "<",
        1000,
    ),
    (
        "documents",
        ("notices_per_second_per_core",),
        "結果通知書 per second per core",
        "≥ 100",
        ">=",
        100,
    ),
    (
        "http_load",
        ("portal_result_list_p99_ms_at_100rps",),
        "portal result list p99 at 100 req/s (ms)",
        "< 100",
        "<",
        100,
    ),
    (
        "http_load",
        ("portal_result_detail_p99_ms_at_100rps",),
        "portal result detail p99 at 100 req/s (ms)",
        "< 100",
        "<",
        100,
    ),
    (
        "pipeline",
        ("p95_submitted_to_completed_ms_at_10aps",),
        "申請 → JudgementCompleted p95 at 10 applications/s for 5 min (ms)",
        "< 1,000",
        "<",
        1000,
    ),
]


def hoisted(figures: Any) -> Any:
    """A benchmark's JSON with the keys of its own ``figures`` part also at the top, so the
    report's ``benchmarks.<name>.figures.<figure>`` names each figure as the issues do."""
    inner = figures.get("figures") if isinstance(figures, dict) else None
    if not isinstance(inner, dict):
        return figures
    return {**figures, **{k: v for k, v in inner.items() if k not in figures}}


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def headlines(gathered: dict[str, Any]) -> list[dict[str, Any]]:
    """Each headline figure (``None`` where the benchmark did not reach it) and its target."""
    rows = []
    for name, path, what, target, op, limit in HEADLINES:
        entry = gathered.get(name)
        if entry is None:
            continue
        value = dig(entry.get("figures"), path)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        # a figure not reached (null) is a target missed
        met = number is not None and (number >= limit if op == ">=" else number < limit)
        rows.append(
            {
                "benchmark": name,
                "figure": ".".join(path),
                "what": what,
                "value": number,
                "target": f"{target}",
                "met": met,
            }
        )
    return rows


def headline_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Figures beside their targets\n",
        "| benchmark | figure | value | target | met |",
        "|---|---|---:|---|---|",
    ]
    for row in rows:
        value = "not reached (null)" if row["value"] is None else f"{row['value']:,}"
        met = "yes" if row["met"] else "**no**"
        lines.append(
            f"| {row['benchmark']} | {row['what']} (`{row['figure']}`) | {value} | "
            f"{row['target']} | {met} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the < 30 s smoke version of each")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (script names)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    day = datetime.now(UTC).date().isoformat()
    suffix = "-quick" if args.quick else ""
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # each script's own JSON (also inside the report's JSON): kept out of bench/results/
    parts_root = ROOT / "var" / "bench" if args.out_dir == RESULTS else args.out_dir
    parts_dir = parts_root / f"{day}{suffix}-parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    before = context()
    started = time.monotonic()
    sections: list[str] = []
    gathered: dict[str, Any] = {}
    failed: list[str] = []
    for name, budget in BENCHMARKS:
        script = ROOT / "bench" / f"{name}.py"
        if args.only and name not in args.only:
            continue
        if not script.exists():
            gathered[name] = {"status": "absent"}
            continue
        json_out = parts_dir / f"{name}.json"
        json_out.unlink(missing_ok=True)
        command = [sys.executable, str(script), "--json-out", str(json_out)]
        if args.quick:
            command.insert(2, "--quick")
        print(f"[bench] {name} …", flush=True)
        t0 = time.monotonic()
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            out, err = proc.communicate(timeout=budget * 5)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            # SIGINT first: the script's `finally` stops its services and drops its databases
            proc.send_signal(signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            code, err = -1, f"timed out after {budget * 5} s"
        seconds = round(time.monotonic() - t0, 1)
        entry: dict[str, Any] = {
            "status": "ok" if code == 0 else "failed",
            "seconds": seconds,
            "budget_seconds": budget,
        }
        if json_out.exists():
            entry["figures"] = hoisted(json.loads(json_out.read_text()))
        if code != 0:
            failed.append(name)
            entry["error"] = err[-3000:]
            sections.append(f"## {name}: FAILED (exit {code})\n\n```\n{err[-3000:]}\n```")
        else:
            body = out.split("\nwritten:")[0].strip()
            sections.append(body + f"\n\n_({name}: {seconds:.0f} s)_")
        gathered[name] = entry
        print(f"[bench] {name}: {entry['status']} in {seconds:.0f} s", flush=True)
    after = context()
    total = round(time.monotonic() - started, 1)
    header = [
        f"# Benchmark report {day}{' (quick smoke run)' if args.quick else ''}\n",
        f"`make bench` ({'`--quick`' if args.quick else 'full'}"
        f"{', only ' + ', '.join(args.only) if args.only else ''}), "
        f"{total / 60:.1f} minutes in all (budget 20 minutes).\n",
        f"* Before: {context_line(before)}.",
        f"* After: {context_line(after)}.",
        "* Every figure below carries the load average at the time it was taken; on a 2-core "
        "machine a load above 2 means the benchmark waited for the CPU.\n",
        "| benchmark | status | time |",
        "|---|---|---|",
    ]
    header += [
        f"| {name} | {entry['status']} | {entry.get('seconds', '—')} s |"
        for name, entry in gathered.items()
    ]
    summary = headlines(gathered)
    header += ["", *headline_table(summary)]
    report = "\n".join(header) + "\n\n" + "\n\n".join(sections) + "\n"
    md = args.out_dir / f"{day}{suffix}-report.md"
    js = args.out_dir / f"{day}{suffix}-report.json"
    md.write_text(report)
    js.write_text(
        json.dumps(
            {
                "date": day,
                "quick": args.quick,
                "seconds": total,
                "context_before": before,
                "context_after": after,
                "headlines": summary,
                "benchmarks": gathered,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
        + "\n"
    )
    print(report)
    print(f"[bench] written: {md} and {js}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
