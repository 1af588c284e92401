"""Benchmark of the document service: 結果通知書 per second on one core, and memory.

    uv run python bench/documents.py [--quick] [--json-out PATH] [--runs 3] [--per-run 15]

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
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "document"))

import weasyprint
from benchlib import context, context_line, write_json

from document.adapters.outbound.pdf import PdfRenderer
from document.core import notice, signing
from tests.conftest import judged

KEY = "bench-signing-key-0123456789abcdef"
TARGET_NOTE = "no figure in the issue; the pipeline needs 5 per application"
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


def rss_now_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def profile_summary(renderer: PdfRenderer, events: list[Any]) -> dict[str, Any]:
    """Where one notice's time goes: pyinstrument over a batch, by category (share of wall)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"error": "pyinstrument not installed (uv sync --group dev)"}
    profiler = Profiler(interval=0.001)
    profiler.start()
    for event in events:
        one_notice(renderer, event)
    profiler.stop()
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    total = root.time if root is not None else 0.0

    def spent(*names: str) -> float:
        """Time in frames named ``names`` (outermost only)."""
        found = 0.0
        todo = [root] if root is not None else []
        while todo:
            frame = todo.pop()
            label = f"{getattr(frame, 'class_name', None) or ''}.{frame.function}".lstrip(".")
            if label in names or frame.function in names:
                found += frame.time
            else:
                todo.extend(frame.children)
        return found

    fonts = spent("build_fonts_dictionary")
    qr = spent("qr_data_uri")
    parts = {
        "font subsetting (HarfBuzz, each face, each PDF)": fonts,
        "PDF drawing and writing": spent("Document.write_pdf") - fonts,
        "layout (boxes, text shaping, pages)": spent("HTML.render", "Document._render"),
        "HTML parsing": spent("HTML.__init__"),
        "QR code (qrcode, PNG)": qr,
        "Jinja2 template": spent("PdfRenderer.html") - qr,
    }
    parts["context, verification code, hash, signature"] = max(0.0, total - sum(parts.values()))
    shares = parts
    return {
        "notices": len(events),
        "wall_seconds": round(total, 3),
        "cpu_seconds": round(session.cpu_time, 3),
        "shares": {k: round(v / total, 3) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
        if total
        else {},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-run", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a smoke run (2 runs of 4)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.per_run = 2, 4
    ctx = context()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    events = [judged(f"AP-B-{n}", approved=n % 2 == 0) for n in range(args.per_run)]
    rss_imported = rss_now_mib()

    started = time.perf_counter()
    renderer = PdfRenderer()
    built = time.perf_counter() - started
    rss_renderer = rss_now_mib()
    pdf = one_notice(renderer, events[0])
    first = time.perf_counter() - started
    second_started = time.perf_counter()
    one_notice(renderer, events[1 % len(events)])
    second = time.perf_counter() - second_started

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
    rss_after = rss_now_mib()
    profile = profile_summary(renderer, events[: max(4, len(events) // 2)])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    load = os.getloadavg()[0]
    print("## Documents (結果通知書)\n")
    print(f"Context: {context_line(ctx)}.\n")
    print(
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, pinned to "
        f"CPU {cpu} of {os.cpu_count()}, load average {load:.2f} at the end (machine shared); "
        f"{TARGET_NOTE}.\n"
    )
    print("| figure | value |\n|---|---:|")
    print(
        f"| notices per second, one core (median of {args.runs} runs × {args.per_run}) "
        f"| **{median:.2f}** |"
    )
    print(f"| runs (notices per second) | {', '.join(f'{r:.2f}' for r in rates)} |")
    print(f"| wall time per notice (median) | {1000 / median:.0f} ms |")
    print(f"| CPU time per notice (median) | {statistics.median(cpu_ms):.0f} ms |")
    print(f"| renderer built (fonts, stylesheet, templates; once per process) | {built:.2f} s |")
    print(f"| first notice, renderer included | {first:.2f} s |")
    print(f"| second notice (nothing loaded again) | {second * 1000:.0f} ms |")
    print(f"| consent forms per second | {consent_rate:.2f} |")
    print(f"| PDF size | {len(pdf) / 1024:.0f} KiB |")
    print(f"| peak memory of the process (maxrss) | {peak_mib:.0f} MiB |")
    print(
        f"| worker RSS: code imported / renderer built / after {args.runs * args.per_run} notices "
        f"| {rss_imported:.0f} / {rss_renderer:.0f} / {rss_after:.0f} MiB |"
    )
    if "shares" in profile:
        print(
            f"\nProfile (pyinstrument, {profile['notices']} notices, share of wall time): "
            + "; ".join(f"{k} {v * 100:.0f} %" for k, v in profile["shares"].items())
            + "."
        )
    out = write_json(
        args.json_out,
        "documents",
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
            "renderer_build_seconds": round(built, 3),
            "second_notice_seconds": round(second, 3),
            "rss_mib": {"imported": rss_imported, "renderer": rss_renderer, "after": rss_after},
            "profile": profile,
            "context": ctx,
            "quick": args.quick,
        },
    )
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
