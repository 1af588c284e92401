#!/usr/bin/env python3
"""Wait until a local server really answers (used by start.sh, with the project's .venv python).

    wait_ready.py mongo HOST:PORT [--timeout S] [--pid PID]   # pymongo {ping: 1} -> ok: 1
    wait_ready.py smtp  HOST:PORT [--timeout S] [--pid PID]   # 220 greeting, NOOP -> 250
    wait_ready.py http  URL       [--timeout S] [--pid PID]   # HTTP 200
    wait_ready.py tcp   HOST:PORT [--timeout S] [--pid PID]   # accepts connections

Retries until the timeout; with --pid, gives up as soon as that process is gone.
Exit code 0 = ready, 1 = not ready.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import sys
import time
import urllib.request
from typing import Any

from pymongo import MongoClient

# --- checks -------------------------------------------------------------------


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


def check_mongo(target: str) -> None:
    host, port = split_addr(target)
    client: MongoClient[dict[str, Any]]
    with MongoClient(host, port, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000) as client:
        client.admin.command("ping")  # raises unless the server answers ok: 1


def check_smtp(target: str) -> None:
    host, port = split_addr(target)
    with smtplib.SMTP(host, port, timeout=5) as smtp:  # reads the 220 greeting
        code, _ = smtp.noop()
        if code != 250:
            raise ValueError(f"NOOP answered {code}")


def check_http(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as resp:
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")


def check_tcp(target: str) -> None:
    socket.create_connection(split_addr(target), timeout=5).close()


CHECKS = {"mongo": check_mongo, "smtp": check_smtp, "http": check_http, "tcp": check_tcp}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited too


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=sorted(CHECKS))
    parser.add_argument("target")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--pid", type=int, help="give up when this process has exited")
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            CHECKS[args.kind](args.target)
            return 0
        except Exception as exc:  # any failure means "not yet"
            last_error = exc
        if args.pid and not pid_alive(args.pid):
            print(f"[infra] {args.kind} {args.target}: process {args.pid} exited", file=sys.stderr)
            return 1
        time.sleep(0.3)
    print(
        f"[infra] {args.kind} {args.target}: not ready after {args.timeout:g} s ({last_error})",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
