"""The fault suite's own stack: a private infrastructure instance and the services as processes.

The infrastructure is the one of ``deploy/local`` started a second time with its own
directory and ports (``INFRA_VAR_DIR`` and ``INFRA_*_PORT``, default ``var/faults`` and the
ports below), so that restarting Kafka or the database never touches the shared instance
that other tests use. ``make test-faults`` starts and stops it; the suite restarts single
servers of it through ``deploy/local/start.sh NAME`` / ``stop.sh NAME``.

Services run as ``python -m <name> serve`` with the private addresses, a topic prefix and
database names of this run, on ports from ``FAULT_SERVICE_PORT_BASE`` (18100) upwards. Each
process is ours: it is killed by its own pid only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared_kernel.infra.auth import SigningKey

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local"

INFRA_DEFAULTS = {
    "INFRA_VAR_DIR": str(ROOT / "var" / "faults"),
    "INFRA_PG_PORT": "25432",
    "INFRA_FERRETDB_PORT": "27117",
    "INFRA_KAFKA_PORT": "29092",
    "INFRA_KAFKA_CONTROLLER_PORT": "29093",
    "INFRA_SMTP_PORT": "21025",
    "INFRA_SMTP_HTTP_PORT": "28025",
    # 1: one Kafka node; 3: three (deploy/local's KAFKA_BROKERS, make test-faults-brokers)
    "KAFKA_BROKERS": "1",
}
SERVICES = ("identity", "consent", "application", "judgement", "notification", "document")
CONSUMERS = ("consent", "application", "judgement", "notification", "document")
PORT_OFFSETS = {name: n for n, name in enumerate(SERVICES, start=1)}


@dataclass
class Infra:
    """Addresses and control of the private infrastructure instance."""

    env: dict[str, str]

    @classmethod
    def from_environment(cls) -> Infra:
        return cls({k: os.environ.get(k, v) for k, v in INFRA_DEFAULTS.items()})

    @property
    def var_dir(self) -> Path:
        return Path(self.env["INFRA_VAR_DIR"])

    @property
    def brokers(self) -> int:
        return int(self.env["KAFKA_BROKERS"])

    def broker_port(self, node: int) -> int:
        """Node ``node`` (1..3) of the cluster listens 2 ports above the one before."""
        return int(self.env["INFRA_KAFKA_PORT"]) + 2 * (node - 1)

    @property
    def kafka(self) -> str:
        """The bootstrap list: every node of the cluster, or the single node."""
        if self.brokers == 1:
            return f"127.0.0.1:{self.env['INFRA_KAFKA_PORT']}"
        return ",".join(f"127.0.0.1:{self.broker_port(n)}" for n in range(1, self.brokers + 1))

    def broker_pid(self, node: int) -> int | None:
        """The pid of cluster node ``node`` (``var/run/kafka-N.pid``) if it is ours and alive."""
        pid_file = self.var_dir / "run" / f"kafka-{node}.pid"
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return None
        marker = str(self.var_dir / f"kafka-{node}" / "server.properties").encode()
        return pid if marker in cmdline and state not in ("Z", "X") else None

    def kill_broker(self, node: int) -> int:
        """SIGKILL cluster node ``node`` by its pid file: no controlled shutdown, no flush."""
        pid = self.broker_pid(node)
        if pid is None:
            raise RuntimeError(f"kafka-{node} is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.broker_pid(node) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"kafka-{node} (pid {pid}) still alive after SIGKILL")
            time.sleep(0.1)
        return pid

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.env['INFRA_FERRETDB_PORT']}/"

    @property
    def postgresql_url(self) -> str:
        """The PostgreSQL behind FerretDB, where the services create their lookup indexes."""
        return f"postgresql://ferretdb:ferretdb@127.0.0.1:{self.env['INFRA_PG_PORT']}/ferretdb"

    @property
    def smtp_port(self) -> int:
        return int(self.env["INFRA_SMTP_PORT"])

    @property
    def maildir(self) -> Path:
        return self.var_dir / "mail"

    def _script(self, script: str, *servers: str) -> None:
        subprocess.run(
            [str(LOCAL / script), *servers],
            env={**os.environ, **self.env},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=180,
        )

    def start(self, *servers: str) -> None:
        """Start ``servers``; a failed start (e.g. its port still held) is tried again."""
        for attempt in range(3):
            try:
                self._script("start.sh", *servers)
                return
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
                time.sleep(5)

    def stop(self, *servers: str) -> None:
        self._script("stop.sh", *servers)


@dataclass
class ServiceProcess:
    name: str
    instance: int
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def label(self) -> str:
        return f"{self.name}#{self.instance}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.name, "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL this process (by its own pid): no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=3) as client:
            while True:
                if not self.alive():
                    raise RuntimeError(f"{self.label} exited; see {self.log}")
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.label} not ready after {timeout}s; see {self.log}")
                time.sleep(0.3)


@dataclass
class Stack:
    """The six back-end services of one run (the portal is not needed) on the private infra."""

    infra: Infra
    run_id: str
    port_base: int = 18100
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    signing_key: str = field(default_factory=lambda: SigningKey.generate().pem())
    """Identity's token signing key for the run (every identity process gets it)."""

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port_base + PORT_OFFSETS[name]}"

    def db_name(self, name: str) -> str:
        return f"{self.run_id}_{name}"

    @property
    def topic_prefix(self) -> str:
        return f"{self.run_id}."

    def service_env(self, name: str, port: int) -> dict[str, str]:
        upper = name.upper()
        env = {
            **os.environ,
            "APP_ENV": "test",
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka,
            "MONGODB_URL": self.infra.mongodb_url,
            "FERRETDB_POSTGRESQL_URL": self.infra.postgresql_url,
            "TOPIC_PREFIX": self.topic_prefix,
            "LOG_LEVEL": "WARNING",
            f"{upper}_HTTP_PORT": str(port),
            f"{upper}_DB_NAME": self.db_name(name),
            f"{upper}_CONSUMER_BACKOFF_SECONDS": "0.2",
            "APPLICATION_JUDGEMENT_URL": self.url("judgement"),
            "APPLICATION_JUDGEMENT_TIMEOUT_SECONDS": "10",
            "CONSENT_AUTO_APPROVE": "true",
            "JUDGEMENT_REVIEW_POLICY": "auto",
            "NOTIFICATION_SMTP_PORT": str(self.infra.smtp_port),
            "NOTIFICATION_SMTP_TIMEOUT_SECONDS": "5",
            "NOTIFICATION_SENDER_POLL_SECONDS": "1",
            "NOTIFICATION_SENDER_LEASE_SECONDS": "20",
            "NOTIFICATION_RETRY_BASE_SECONDS": "1",
            "NOTIFICATION_RETRY_MAX_SECONDS": "10",
            "IDENTITY_RATE_LIMIT_PER_IP": "100000",
            "IDENTITY_RATE_LIMIT_PER_LOGIN_ID": "100000",
            "IDENTITY_REGISTRATIONS_PER_IP": "100000",
            "IDENTITY_ACCESS_TOKEN_TTL_MINUTES": "240",
            # identity's key, the same for every identity process of the run (a restarted
            # one keeps verifying the tokens issued before); the others read its public half
            "IDENTITY_SIGNING_KEYS": self.signing_key,
            "IDENTITY_SMTP_PORT": str(self.infra.smtp_port),
            "AUTH_ISSUER_URL": self.url("identity"),
            # the suite kills and restarts services, identity too: the others keep trusting
            # their list of ended sessions for a token's lifetime rather than answer 503
            "AUTH_REVOCATION_MAX_STALE_SECONDS": "14400",
            **self.extra_env,
        }
        return env

    def start(self, name: str, instance: int = 0, *, wait: bool = True) -> ServiceProcess:
        existing = self.processes.setdefault(name, [])
        if instance < len(existing):
            process = existing[instance]
        else:
            port = self.port_base + PORT_OFFSETS[name] + 10 * instance
            log = self.infra.var_dir / "log" / f"{self.run_id}-{name}-{instance}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            process = ServiceProcess(name, instance, port, self.service_env(name, port), log)
            existing.append(process)
        process.start()
        if wait:
            process.wait_ready()
        return process

    def start_all(self) -> None:
        """Start every service and wait until each is ready; when one does not come up, the
        others are stopped before the error goes on (the fixtures' ``stop_all`` only runs
        after a successful start: left running, they held the run's ports, and the next run
        found its services unable to bind)."""
        started = [self.start(name, wait=False) for name in SERVICES]
        try:
            for process in started:
                process.wait_ready()
        except BaseException:
            self.stop_all()
            raise

    def all_processes(self) -> Iterator[ServiceProcess]:
        for group in self.processes.values():
            yield from group

    def ensure_running(self) -> None:
        """Restart anything that is down (after the fault phase), and wait until ready."""
        for process in self.all_processes():
            if not process.alive():
                process.start()
        for process in self.all_processes():
            process.wait_ready()

    def stop_all(self) -> None:
        for process in self.all_processes():
            process.stop()
