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
            entry["figures"] = json.loads(json_out.read_text())
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
        f"`make bench` ({'`--quick`' if args.quick else 'full'}), {total / 60:.1f} minutes in all "
        "(budget 20 minutes).\n",
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
