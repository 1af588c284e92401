"""Benchmark of the local stack: `make run` start-up from a warm machine, memory of the whole stack.

    uv run python bench/stack.py [--quick] [--json-out PATH]

`make run` is ``install`` + ``infra-up`` + ``services-up`` + ``demo-data``. On a warm
machine (everything installed, infrastructure running, demo data loaded) each step is timed
as `make run` runs it, except that the services are started on free ports of this
benchmark's own (the lead's stack may hold 8000–8006) with ``Stack`` — the same
``python -m <service> serve`` processes ``deploy/local/services.sh`` starts, timed until
every ``/readyz`` answers 200. ``demo-data`` is skipped by `make run` once loaded; its
first-run cost (the demo workers and 300 synthetic ones published to the run's own topics)
is timed separately.

Memory: resident set (RSS) and proportional set (PSS, shared pages divided among the
processes that map them — PostgreSQL's shared buffers would otherwise be counted once per
backend) of the infrastructure (PostgreSQL and its backends, FerretDB, Kafka, the mail
sink) and of each of the seven services after start-up and after a little traffic.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from benchlib import (
    ROOT,
    Stack,
    arguments,
    context,
    context_line,
    table,
    write_json,
)

TARGET_NOTE = "no target in the issue: recorded"


def timed(*command: str) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return round(time.monotonic() - started, 2), done.returncode


def infra_pids() -> dict[str, int]:
    out = subprocess.run(
        ["deploy/local/status.sh"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    pids = {}
    for line in out.splitlines():
        match = re.match(r"\[infra\]\s+(\S+)\s+\S+\s+\d+\s+pid (\d+)", line)
        if match and int(match.group(2)) not in pids.values():  # smtp-sink = smtp-web
            pids[match.group(1)] = int(match.group(2))
    return pids


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MiB) of a process and its descendants."""
    rss = pss = 0
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1)}


def main() -> int:
    args = arguments((__doc__ or "").splitlines()[0])
    ctx = context()
    result: dict[str, Any] = {"context_before": ctx, "quick": args.quick}
    steps: dict[str, Any] = {}
    if not args.quick:
        steps["install (deploy/local/install.sh + uv sync --frozen)"] = timed(
            "make", "-s", "install"
        )
    steps["infra-up (already running: checks only)"] = timed("make", "-s", "infra-up")
    stack = Stack("stack")
    try:
        steps["services-up (7 services until every /readyz is 200)"] = (
            round(stack.start(), 2),
            0,
        )
        if not args.quick:
            feed_started = time.monotonic()
            stack.cli("judgement", "feed", "demo")
            stack.cli(
                "judgement",
                "feed",
                "synthetic",
                "--count",
                "300",
                "--seed",
                "1",
                "--as-of",
                "2026-11-20",
            )
            result["demo_data_first_run_seconds"] = round(time.monotonic() - feed_started, 2)
        with httpx.Client(timeout=10) as client:
            for _ in range(3):
                for name in stack.services:
                    client.get(f"{stack.url(name)}/")
                    client.get(f"{stack.url(name)}/metrics")
        services = {name: memory(pid) for name, pid in stack.pids().items()}
    finally:
        stack.stop()
    infra = {name: memory(pid) for name, pid in infra_pids().items()}
    result["startup_steps_seconds"] = {k: v[0] for k, v in steps.items()}
    result["startup_step_exit_codes"] = {k: v[1] for k, v in steps.items()}
    result["make_run_warm_seconds"] = round(sum(v[0] for v in steps.values()), 2)
    result["services_memory"] = services
    result["infra_memory"] = infra
    result["services_rss_mib"] = round(sum(m["rss_mib"] for m in services.values()), 1)
    result["services_pss_mib"] = round(sum(m["pss_mib"] for m in services.values()), 1)
    result["infra_rss_mib"] = round(sum(m["rss_mib"] for m in infra.values()), 1)
    result["infra_pss_mib"] = round(sum(m["pss_mib"] for m in infra.values()), 1)
    result["stack_pss_mib"] = round(result["services_pss_mib"] + result["infra_pss_mib"], 1)
    result["stack_rss_mib"] = round(result["services_rss_mib"] + result["infra_rss_mib"], 1)

    print("## Local stack: `make run` start-up (warm) and memory\n")
    print(f"Context: {context_line(ctx)}.\n")
    rows = [[k, f"{v[0]:.1f} s", "ok" if v[1] == 0 else f"exit {v[1]}"] for k, v in steps.items()]
    rows.append(
        [
            "**`make run` on a warm machine (sum)**",
            f"**{result['make_run_warm_seconds']:.1f} s**",
            "",
        ]
    )
    if "demo_data_first_run_seconds" in result:
        rows.append(
            [
                "demo-data, first run only (8 demo + 300 synthetic workers)",
                f"{result['demo_data_first_run_seconds']:.1f} s",
                "",
            ]
        )
    print(table(rows, ["step", "time", ""]))
    print(f"\n({TARGET_NOTE}; the seven services start in parallel and share the 2 cores.)\n")
    rows = [[name, f"{m['rss_mib']:.0f}", f"{m['pss_mib']:.0f}"] for name, m in services.items()]
    rows += [
        [f"{name} (infrastructure)", f"{m['rss_mib']:.0f}", f"{m['pss_mib']:.0f}"]
        for name, m in infra.items()
    ]
    rows.append(
        [
            "**whole stack**",
            f"**{result['stack_rss_mib']:.0f}**",
            f"**{result['stack_pss_mib']:.0f}**",
        ]
    )
    print(table(rows, ["process", "RSS MiB", "PSS MiB"]))
    print(
        "\nPSS is the honest sum (shared pages split between processes); RSS counts PostgreSQL's "
        "shared buffers and the shared libraries once per process."
    )
    path = write_json(args.json_out, "stack", result)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
