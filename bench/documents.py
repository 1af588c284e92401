"""Benchmark of the document service: 結果通知書 rendered per second on one core, and memory.

    uv run python bench/documents.py [--runs 5] [--per-run 20]

Renders notices through the same renderer the service uses (fonts and templates loaded once
per process), reports the median of several runs, the cost of the first notice (font and
template loading) and the process's peak memory; writes bench/results/documents-<date>.json.
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
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "document"))

from document.adapters.outbound.pdf import PdfRenderer, qr_data_uri
from document.core import notice
from tests.conftest import judged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-run", type=int, default=20)
    args = parser.parse_args()
    key = "bench-signing-key-0123456789abcdef"
    events = [judged(f"AP-B-{n}", approved=n % 2 == 0) for n in range(args.per_run)]

    def context(n: int) -> dict[str, object]:
        number = notice.notice_id(events[n].line_id)
        code = notice.verification_code(key, number)
        url = f"http://127.0.0.1:8006/verify/{code}"
        ctx = notice.context(
            events[n],
            number=number,
            code=code,
            employer_name="株式会社髙﨑建設",
            verify_url=url,
            issued_at=datetime.now(UTC),
        )
        return {**ctx, "qr": qr_data_uri(url)}

    started = time.perf_counter()
    renderer = PdfRenderer()
    renderer.render_sync("result_notice.html", context(0))
    first = time.perf_counter() - started
    rates = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for n in range(args.per_run):
            pdf = renderer.render_sync("result_notice.html", context(n))
        rates.append(args.per_run / (time.perf_counter() - t0))
    median = statistics.median(rates)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("## Document benchmark (結果通知書)\n")
    print(
        f"Python {platform.python_version()}, one process on one core, "
        f"load average {os.getloadavg()[0]:.2f}\n"
    )
    print("| figure | value |\n|---|---:|")
    print(f"| notices per second (median of {args.runs} runs × {args.per_run}) | {median:.1f} |")
    print(f"| runs | {', '.join(f'{r:.1f}' for r in rates)} |")
    print(f"| first notice (loads fonts and templates) | {first:.2f} s |")
    print(f"| PDF size | {len(pdf) / 1024:.0f} KiB |")
    print(f"| peak memory of the process | {peak_mib:.0f} MiB |")
    out = Path(__file__).resolve().parent / "results" / f"documents-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "notices_per_second_median": round(median, 2),
                "runs": [round(r, 2) for r in rates],
                "first_notice_seconds": round(first, 2),
                "pdf_bytes": len(pdf),
                "peak_rss_mib": round(peak_mib),
                "load_average": os.getloadavg()[0],
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
