"""Prints the fuzzing summary (requests per API) at the end of the session."""

from __future__ import annotations

import json
from typing import Any

from tests.fuzz.fuzzing import SUMMARY


def pytest_sessionstart(session: Any) -> None:
    if SUMMARY.exists():  # one summary per run
        SUMMARY.unlink()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SUMMARY.exists():
        return
    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    terminalreporter.section("fuzzed requests per API (schemathesis)")
    total = 0
    for service, figures in sorted(summary.items()):
        total += figures["requests"]
        terminalreporter.write_line(
            f"{service:<13} {figures['operations']:>3} operations {figures['requests']:>5} "
            f"requests {figures['statuses']} refused writes checked: "
            f"{figures['refused_unsafe_requests_checked_for_writes']}"
        )
    terminalreporter.write_line(f"total {total} requests; written to {SUMMARY}")
