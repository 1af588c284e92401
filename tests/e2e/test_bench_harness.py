"""`make bench`'s harness runs a benchmark as its own process and writes the dated report.

Only the cheapest benchmark (documents, ``--quick``: no services, a few PDFs; ~15 s) runs
here, to prove the harness and the shared interface (``--quick --json-out``); the ones that
start a stack (pipeline, http_load, stack) take a minute or more each even in ``--quick``
and are run by ``make bench``. No figure is asserted: speed belongs to the report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_harness_runs_a_benchmark_and_writes_the_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/run_all.py",
            "--quick",
            "--only",
            "documents",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reports = sorted(tmp_path.glob("*-quick-report.md"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "load average" in text and " cores (" in text
    assert "## Documents (結果通知書)" in text
    data = json.loads(reports[0].with_suffix(".json").read_text())
    documents = data["benchmarks"]["documents"]
    assert documents["status"] == "ok"
    figures = documents["figures"]
    assert figures["quick"] is True
    assert figures["notices_per_second_per_core"] > 0
    assert figures["pdf_bytes"] > 10_000
    assert set(figures["rss_mib"]) == {"imported", "first_notice", "after"}
    assert data["context_before"]["cores"] >= 1
