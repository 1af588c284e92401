"""Benchmark of the document service: 結果通知書 per second on one core, and memory.

    uv run python bench/documents.py [--runs 5] [--per-run 20]

The process is pinned to one CPU (``sched_setaffinity``). Each notice goes through the
service's per-notice work without the database: the notice context from a
JudgementCompletedV2, the verification code, the QR code, the WeasyPrint render (HTML +
CSS, layout, Noto CJK subsetting, PDF), the SHA-256 and its HMAC signature. The renderer
is built once, as in the service (fonts, stylesheet and templates once per process); the
first notice, which pays for loading the fonts, is reported on its own. Prints a Markdown
table (median of the runs, spread, CPU time per notice, PDF size, peak RSS of the process
from ``getrusage``) and writes ``bench/results/documents-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "document"))

import weasyprint

from document.adapters.outbound.pdf import PdfRenderer
from document.core import notice, signing
from tests.conftest import judged

KEY = "bench-signing-key-0123456789abcdef"
BASE = "http://127.0.0.1:8006"


def one_notice(renderer: PdfRenderer, event: Any) -> bytes:
    """What ``DocumentService.on_judgement`` computes for one notice, minus the I/O."""
    number = notice.notice_id(event.line_id)
    code = signing.verification_code(KEY, number)
    url = f"{BASE}/verify/{code}"
    context = notice.context(
        event, number=number, code=code, employer_name="株式会社髙﨑建設", verify_url=url
    )
    pdf = renderer.render_sync("result_notice.html", context, qr_url=url)
    signing.sign(KEY, signing.content_hash(pdf))
    return pdf


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-run", type=int, default=20)
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    events = [judged(f"AP-B-{n}", approved=n % 2 == 0) for n in range(args.per_run)]

    started = time.perf_counter()
    renderer = PdfRenderer()
    pdf = one_notice(renderer, events[0])
    first = time.perf_counter() - started

    rates: list[float] = []
    cpu_ms: list[float] = []
    for _ in range(args.runs):
        wall, cpu_time = time.perf_counter(), time.process_time()
        for event in events:
            pdf = one_notice(renderer, event)
        rates.append(args.per_run / (time.perf_counter() - wall))
        cpu_ms.append((time.process_time() - cpu_time) / args.per_run * 1000)
    consent_started = time.perf_counter()
    consent = {
        "employer_name": "株式会社髙﨑建設",
        "worker_name": "𠮷野 翔太",
        "worker_name_kana": "ヨシノ ショウタ",
        "worker_id": "99000000000002",
    }
    for _ in range(5):
        renderer.render_sync("consent_form.html", consent)
    consent_rate = 5 / (time.perf_counter() - consent_started)

    median = statistics.median(rates)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    load = os.getloadavg()[0]
    print("## Document benchmark (結果通知書)\n")
    print(
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, pinned to "
        f"CPU {cpu} of {os.cpu_count()}, load average {load:.2f} (machine shared)\n"
    )
    print("| figure | value |\n|---|---:|")
    print(
        f"| notices per second, one core (median of {args.runs} runs × {args.per_run}) "
        f"| **{median:.2f}** |"
    )
    print(f"| runs (notices per second) | {', '.join(f'{r:.2f}' for r in rates)} |")
    print(f"| wall time per notice (median) | {1000 / median:.0f} ms |")
    print(f"| CPU time per notice (median) | {statistics.median(cpu_ms):.0f} ms |")
    print(f"| first notice (loads fonts, stylesheet, templates) | {first:.2f} s |")
    print(f"| consent forms per second | {consent_rate:.2f} |")
    print(f"| PDF size | {len(pdf) / 1024:.0f} KiB |")
    print(f"| peak memory of the process (maxrss) | {peak_mib:.0f} MiB |")
    out = Path(__file__).resolve().parent / "results" / f"documents-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "notices_per_second_median": round(median, 2),
                "runs": [round(r, 2) for r in rates],
                "per_run": args.per_run,
                "wall_ms_per_notice_median": round(1000 / median, 1),
                "cpu_ms_per_notice_median": round(statistics.median(cpu_ms), 1),
                "first_notice_seconds": round(first, 2),
                "consent_forms_per_second": round(consent_rate, 2),
                "pdf_bytes": len(pdf),
                "peak_rss_mib": round(peak_mib),
                "cpu": cpu,
                "load_average": round(load, 2),
                "python": platform.python_version(),
                "weasyprint": weasyprint.__version__,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
