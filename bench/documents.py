"""Benchmark of the document service: 結果通知書 per second on one core, and memory.

    uv run python bench/documents.py [--quick] [--json-out PATH] [--runs 5] [--per-run 200]

The process is pinned to one CPU (``sched_setaffinity``). Each notice goes through the
service's per-notice work without the database: the notice context from a
JudgementCompletedV2, the verification code, the QR code, the Typst source and its
compilation (layout, Noto CJK subset, PDF), the SHA-256 and its HMAC signature. Every
notice is another line, worker name and employer name (as in production, nothing is the
same twice). The renderer is built as in the service (one Typst compiler per process);
the first notice, which loads the fonts, is reported on its own.

Figures (median of the runs): ``notices_per_second_per_core`` = notices per second of the
process's CPU time (one core's capacity: the machine is shared, so the wall-clock rate of
the pinned process also counts the time other processes had that core) and the
wall-clock rate of the pinned process beside it; where a notice's time goes (timers
around each step); PDF size; the worker's memory (RSS after imports, after the first
notice and after every notice: the Typst caches stay bounded). Prints a Markdown table
and writes ``bench/results/documents-<date>.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "document"))

from benchlib import context, context_line, write_json

from document.adapters.outbound.pdf import PdfRenderer, pdf_time
from document.core import notice, signing
from tests.conftest import judged

KEY = "bench-signing-key-0123456789abcdef"
TARGET = 100.0  # notices per second per core (issue 24)
BASE = "http://127.0.0.1:8006"
TEMPLATE = "result_notice.typ"


def event(n: int) -> Any:
    """Notice ``n``: its own line, worker name and employer name; every other one rejected."""
    return judged(f"AP-B-{n}", approved=n % 2 == 0).model_copy(
        update={"worker_name": f"𠮷野 翔太{n}", "employer_id": f"E{n:013d}"}
    )


def one_notice(renderer: PdfRenderer, event: Any, steps: dict[str, float] | None = None) -> bytes:
    """What ``DocumentService.on_judgement`` computes for one notice, minus the I/O; with
    ``steps``, the CPU time of each step is added to it."""
    clock = time.process_time
    t0 = clock()
    number = notice.notice_id(event.line_id)
    code = signing.verification_code(KEY, number)
    url = f"{BASE}/verify/{code}"
    ctx = notice.context(
        event,
        number=number,
        code=code,
        employer_name=f"株式会社髙﨑建設{event.employer_id[-4:]}",
        verify_url=url,
    )
    if steps is None:
        pdf = renderer.render_sync(TEMPLATE, ctx, qr_url=url, created=event.judged_at)
        signing.sign(KEY, signing.content_hash(pdf))
        return pdf
    t1 = clock()
    source = renderer.source(TEMPLATE, ctx, url).encode()  # QR code included
    t2 = clock()
    compiled = renderer.compiler().compile(
        input=source, format="pdf", timestamp=pdf_time(event.judged_at), pdf_tags=False
    )
    assert isinstance(compiled, bytes)
    t3 = clock()
    signing.sign(KEY, signing.content_hash(compiled))
    t4 = clock()
    for name, spent in (
        ("context and verification code", t1 - t0),
        ("QR code and Typst source", t2 - t1),
        ("Typst compile (layout, fonts, PDF)", t3 - t2),
        ("SHA-256 and signature", t4 - t3),
    ):
        steps[name] = steps.get(name, 0.0) + spent
    return compiled


def rss_now_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def breakdown(renderer: PdfRenderer, events: list[Any]) -> dict[str, Any]:
    """Where a notice's CPU time goes, by step (share and milliseconds per notice)."""
    steps: dict[str, float] = {}
    for item in events:
        one_notice(renderer, item, steps)
    total = sum(steps.values())
    return {
        "notices": len(events),
        "ms_per_notice": {k: round(v / len(events) * 1000, 2) for k, v in steps.items()},
        "shares": {k: round(v / total, 3) for k, v in steps.items()} if total else {},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-run", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke run (2 runs of 30)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.per_run = 2, 30
    ctx = context()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    total = args.runs * args.per_run
    events = [event(n) for n in range(total + 2)]
    rss_imported = rss_now_mib()

    started, cpu_started = time.perf_counter(), time.process_time()
    renderer = PdfRenderer()
    pdf = one_notice(renderer, events[0])  # loads the fonts (the compiler is built lazily)
    first = time.perf_counter() - started
    first_cpu = time.process_time() - cpu_started
    rss_first = rss_now_mib()
    second_started = time.perf_counter()
    one_notice(renderer, events[1])
    second = time.perf_counter() - second_started

    per_core: list[float] = []
    wall: list[float] = []
    for run in range(args.runs):
        batch = events[2 + run * args.per_run : 2 + (run + 1) * args.per_run]
        wall_started, cpu_time = time.perf_counter(), time.process_time()
        for item in batch:
            pdf = one_notice(renderer, item)
        wall.append(args.per_run / (time.perf_counter() - wall_started))
        per_core.append(args.per_run / (time.process_time() - cpu_time))
    consent = {
        "employer_name": "株式会社髙﨑建設",
        "worker_name": "𠮷野 翔太",
        "worker_name_kana": "ヨシノ ショウタ",
        "worker_id": "99000000000002",
    }
    consent_started = time.process_time()
    for n in range(20):
        renderer.render_sync("consent_form.typ", {**consent, "worker_id": f"990000000{n:05d}"})
    consent_rate = 20 / (time.process_time() - consent_started)

    median = statistics.median(per_core)
    median_wall = statistics.median(wall)
    rss_after = rss_now_mib()
    profile = breakdown(renderer, [event(total + 10 + n) for n in range(max(20, total // 5))])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    load = os.getloadavg()[0]
    typst_version = version("typst")
    met = "met" if median >= TARGET else "**missed**"
    print("## Documents (結果通知書)\n")
    print(f"Context: {context_line(ctx)}.\n")
    print(
        f"Python {platform.python_version()}, typst {typst_version} (Python package), pinned "
        f"to CPU {cpu} of {os.cpu_count()}, load average {load:.2f} at the end (machine "
        f"shared); target ≥ {TARGET:.0f} notices per second per core (issue 24).\n"
    )
    print("| figure | value |\n|---|---:|")
    print(
        f"| notices per second per core (CPU time; median of {args.runs} runs × "
        f"{args.per_run}) | **{median:.0f}** ({met}) |"
    )
    print(f"| runs (per core) | {', '.join(f'{r:.0f}' for r in per_core)} |")
    print(f"| CPU time per notice (median) | {1000 / median:.1f} ms |")
    print(
        f"| notices per second, wall clock of the pinned process (median; runs "
        f"{', '.join(f'{r:.0f}' for r in wall)}) | {median_wall:.0f} |"
    )
    print(
        f"| first notice of a process (compiler and fonts loaded) | {first:.2f} s "
        f"({first_cpu:.2f} s CPU) |"
    )
    print(f"| second notice | {second * 1000:.1f} ms |")
    print(f"| consent forms per second per core | {consent_rate:.0f} |")
    print(f"| PDF size | {len(pdf) / 1024:.0f} KiB |")
    print(f"| peak memory of the process (maxrss) | {peak_mib:.0f} MiB |")
    print(
        f"| worker RSS: code imported / after the first notice / after {total} notices "
        f"| {rss_imported:.0f} / {rss_first:.0f} / {rss_after:.0f} MiB |"
    )
    print(
        f"\nCPU time of a notice by step ({profile['notices']} notices): "
        + "; ".join(
            f"{k} {profile['ms_per_notice'][k]:.2f} ms ({v * 100:.0f} %)"
            for k, v in sorted(profile["shares"].items(), key=lambda kv: -kv[1])
        )
        + "."
    )
    out = write_json(
        args.json_out,
        "documents",
        {
            "notices_per_second_per_core": round(median, 1),
            "target_notices_per_second_per_core": TARGET,
            "meets_target": median >= TARGET,
            "runs_per_core": [round(r, 1) for r in per_core],
            "notices_per_second_wall_pinned": round(median_wall, 1),
            "runs_wall_pinned": [round(r, 1) for r in wall],
            "per_run": args.per_run,
            "cpu_ms_per_notice_median": round(1000 / median, 2),
            "first_notice_seconds": round(first, 3),
            "first_notice_cpu_seconds": round(first_cpu, 3),
            "second_notice_seconds": round(second, 4),
            "consent_forms_per_second_per_core": round(consent_rate, 1),
            "pdf_bytes": len(pdf),
            "peak_rss_mib": round(peak_mib),
            "rss_mib": {"imported": rss_imported, "first_notice": rss_first, "after": rss_after},
            "cpu": cpu,
            "load_average": round(load, 2),
            "python": platform.python_version(),
            "typst": typst_version,
            "breakdown": profile,
            "context": ctx,
            "quick": args.quick,
        },
    )
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
