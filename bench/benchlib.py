"""What the benchmarks of ``bench/`` share: arguments, machine context, output, a private stack.

Every benchmark runs as ``uv run python bench/<name>.py [--quick] --json-out PATH``, prints a
Markdown section (each figure with its target and the machine context) and writes its
figures as JSON to PATH. ``bench/run_all.py`` (``make bench``) runs them in sequence.

:class:`Stack` starts the services a benchmark needs as their own processes
(``python -m <service> serve``) on free ports outside 8000–8006, with a topic prefix and
database names of the run's own, against the shared infrastructure (Kafka, FerretDB, the
SMTP sink); :meth:`Stack.stop` ends exactly those processes and drops those databases.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared_kernel.infra.auth import SigningKey, jwks_of

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVICES = ["identity", "consent", "application", "judgement", "notification", "document", "portal"]
BENCH_SIGNING_KEY = SigningKey.generate()
"""The key the benchmarks sign their employers' tokens with: the private stack's services
(APP_ENV=test) trust its public half (``AUTH_JWKS``) and read no list of ended sessions."""
BENCH_COOKIE_SECRET = "bench-cookie-secret-0123456789abcdef-012345"


# --- arguments and output --------------------------------------------------------------------


def arguments(
    description: str, extra: Sequence[tuple[str, dict[str, Any]]] = ()
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smoke run of under 30 s")
    parser.add_argument("--json-out", type=Path, help="where to write the figures as JSON")
    for name, options in extra:
        parser.add_argument(name, **options)
    return parser.parse_args()


def write_json(path: Path | None, default_name: str, data: dict[str, Any]) -> Path:
    if path is None:
        path = RESULTS / f"{default_name}-{datetime.now(UTC).date().isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max (nearest rank), or ``None`` without values."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {
        "n": len(ordered),
        "p50": round(rank(50), 4),
        "p95": round(rank(95), 4),
        "p99": round(rank(99), 4),
        "max": round(ordered[-1], 4),
    }


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# --- machine context -------------------------------------------------------------------------


def busy_processes(limit: int = 6) -> list[str]:
    """The processes using the most CPU right now (what else runs on the shared machine)."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pcpu,rss,comm,args", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or parts[2] == "ps":
            continue
        rows.append(f"{parts[0]}% {parts[2]} ({parts[3][:60]})")
        if len(rows) >= limit:
            break
    return rows


def context() -> dict[str, Any]:
    """Cores, load average, memory and what else runs: printed with every figure."""
    load = os.getloadavg()
    try:
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration):
        mem_kib = 0
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "load_average": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "busy_processes": busy_processes(),
    }


def context_line(ctx: dict[str, Any]) -> str:
    load = ctx["load_average"]
    return (
        f"{ctx['cores']} cores ({ctx['cpu_model'] or 'unknown CPU'}), {ctx['memory_gib']} GiB, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at {ctx['at']}; "
        "the machine is shared with Kafka, PostgreSQL + FerretDB, the mail sink and whatever "
        "else runs (busiest: " + "; ".join(ctx["busy_processes"][:3]) + ")"
    )


def rss_mib(pids: Iterable[int]) -> float:
    """Resident memory of the processes and all their descendants, in MiB."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(status.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    seen: set[int] = set()
    todo = list(pids)
    total_kib = 0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return round(total_kib / 1024, 1)


# --- a private stack of services --------------------------------------------------------------


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not 8000 <= port <= 8006:
            return port


@dataclass
class Stack:
    """Services of the system as processes of this benchmark (own ports, prefix, databases)."""

    name: str
    services: Sequence[str] = tuple(SERVICES)
    extra_env: dict[str, str] = field(default_factory=dict)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ready_seconds: float = 0.0
    profile: Sequence[str] = ()
    """Services run under pyinstrument (``BENCH_PROFILE=judgement,application``): a text
    profile of each is written to the run's log directory when the stack stops."""

    def __post_init__(self) -> None:
        if not self.profile:
            wanted = os.environ.get("BENCH_PROFILE", "")
            self.profile = tuple(s for s in wanted.split(",") if s in self.services)
        self.ports = {name: free_port() for name in SERVICES}
        self.logs = ROOT / "var" / "bench" / f"{self.name}-{self.run}"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def prefix(self) -> str:
        return f"bench-{self.name}-{self.run}."

    def db(self, service: str) -> str:
        """The service's database (``extra_env`` may name another one)."""
        default = f"bench_{self.name}_{self.run}_{service}"
        return self.extra_env.get(f"{service.upper()}_DB_NAME", default)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "APP_ENV": "test",
            "TOPIC_PREFIX": self.prefix,
            "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            "MONGODB_URL": os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
            "AUTH_JWKS": json.dumps(jwks_of([BENCH_SIGNING_KEY])),
            "AUTH_REVOCATION_CHECK": "false",
            "PORTAL_COOKIE_SECRET": BENCH_COOKIE_SECRET,
            "CONSENT_AUTO_APPROVE": "true",
            "LOG_LEVEL": "WARNING",
            "NOTIFICATION_PORTAL_BASE_URL": self.url("portal"),
            "DOCUMENT_PUBLIC_BASE_URL": self.url("document"),
            "APPLICATION_JUDGEMENT_URL": self.url("judgement"),
        }
        for name in SERVICES:
            env[f"{name.upper()}_HTTP_PORT"] = str(self.ports[name])
            env[f"{name.upper()}_DB_NAME"] = f"bench_{self.name}_{self.run}_{name}"
            if name != "portal":
                env[f"PORTAL_{name.upper()}_URL"] = self.url(name)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 120) -> float:
        """Start the services and wait until every ``/readyz`` answers 200; the seconds taken."""
        import httpx

        started = time.monotonic()
        env = self.env
        for name in self.services:
            command = [sys.executable, "-m", name, "serve"]
            if name in self.profile:
                command = [
                    sys.executable, "-m", "pyinstrument", "--no-color", "--interval", "0.002",
                    "-o", str(self.logs / f"{name}.profile.txt"), "-m", name, "serve",
                ]  # fmt: skip
            with (self.logs / f"{name}.log").open("ab") as out:
                self.procs[name] = subprocess.Popen(
                    command,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
        waiting = set(self.services)
        with httpx.Client(timeout=3) as client:
            while waiting:
                for name in sorted(waiting):
                    if self.procs[name].poll() is not None:
                        raise RuntimeError(f"{name} exited; see {self.logs / (name + '.log')}")
                    try:
                        if client.get(f"{self.url(name)}/readyz").status_code == 200:
                            waiting.discard(name)
                    except httpx.TransportError:
                        pass
                if waiting:
                    if time.monotonic() - started > timeout:
                        raise RuntimeError(f"not ready after {timeout} s: {sorted(waiting)}")
                    time.sleep(0.2)
        self.ready_seconds = time.monotonic() - started
        return self.ready_seconds

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "-m", *args],
            env=self.env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args}: {done.stderr.decode(errors='replace')[-2000:]}")
        return done.stdout.decode(errors="replace")

    def stop(self, drop: bool = True) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                # SIGINT lets pyinstrument write its profile after the server shut down
                proc.send_signal(signal.SIGINT if name in self.profile else signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if drop:
            self.drop_databases()
            self.delete_topics()

    def drop_databases(self) -> None:
        """Drop the run's databases (best effort: a FerretDB that stops answering leaves
        them, after at most the timeouts below, instead of hanging the benchmark)."""
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        prefix = f"bench_{self.name}_{self.run}_"
        try:
            client: MongoClient[dict[str, Any]] = MongoClient(
                self.env["MONGODB_URL"],
                serverSelectionTimeoutMS=5_000,
                connectTimeoutMS=5_000,
                socketTimeoutMS=120_000,  # one drop of a large database may take a while
            )
            with client as mongo:
                for name in mongo.list_database_names():
                    if name.startswith(prefix):
                        mongo.drop_database(name)
        except PyMongoError as exc:
            print(f"(databases {prefix}* left: {type(exc).__name__}: {exc})", file=sys.stderr)

    def delete_topics(self) -> None:
        """Delete the run's topics (best effort: an unreachable admin API leaves them)."""
        import asyncio

        from aiokafka.admin import AIOKafkaAdminClient

        async def delete() -> None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"])
            await admin.start()
            try:
                topics = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
                if topics:
                    await admin.delete_topics(topics)
            finally:
                await admin.close()

        def in_thread() -> None:
            asyncio.run(asyncio.wait_for(delete(), 30))

        try:
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(in_thread).result()
        except Exception as exc:
            print(f"(topics of {self.prefix} left: {exc})", file=sys.stderr)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0
