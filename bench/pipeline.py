"""Benchmark of the application pipeline (issues 24, 23): 申請 → JudgementCompleted → mail.

    uv run python bench/pipeline.py [--quick] [--json-out PATH]

Starts its own application, document and notification processes and the judgement service
as two processes, ``serve --role http`` (the API) and ``serve --role consume`` (the
consumers: judging runs there, off the HTTP process's event loop), on free ports with a
topic prefix and databases of its own (the shared Kafka, FerretDB and SMTP sink). Each
consuming service runs ``BENCH_CONSUMER_WORKERS`` (default 3) Kafka consumers per process
(``<SERVICE>_CONSUMER_WORKERS``). Set-up, as the other services would produce it: one
employer (UserActivated), five synthetic CCUS workers (``judgement.feed.synthetic``, 詳細型,
trades with criteria) with their snapshots and a ConsentGranted each (a consent that a
judgement does not end: the workers are applied for again and again). One draft of five
lines (level 2) is built through the HTTP API; the drafts the steps submit are copies of its
stored document under new numbers.

Each step submits drafts through ``POST /applications/{id}/submit`` on an open-loop
schedule (the n-th at ``start + n / rate``) and measures per line the time from the
submission to the ApplicationSubmitted, JudgementStarted, JudgementCompleted and
ResultNoticeGenerated records (Kafka timestamps) and per application to the mails in the
sink; the CPU seconds each process used (our services, FerretDB, PostgreSQL, Kafka) and a
FerretDB round trip (``find_one`` by ``_id``, every 0.5 s) are sampled alongside.

1. warm-up: 2/s for 5 s;
2. the issue's run: 10 applications/s for ``BENCH_SUSTAIN_SECONDS`` (300), then the drain
   check: how long until every line is judged, every notice generated and every mail sent
   (at most 60 s); the figure ``p95_submitted_to_completed_ms_at_10aps`` (null when the
   held run did not complete every line);
3. raised rates (``BENCH_RATES``, default 20 and 40) for ``BENCH_STEP_SECONDS`` (20) each,
   stopping at the first that does not hold (p95 ≥ 1 s or a line not judged 20 s after);
4. issue 23: judgement ``consume`` throughput with one process and with two side by side,
   on a judgement-only stack of its own: a backlog of ``BENCH_CONSUME_LINES`` (1,500)
   submitted lines published at once, lines per second from the first publish to the last
   JudgementCompleted, and their ratio.

``--quick``: 2/s for 3 s, no raised rates, a backlog of 200 lines.
"""

from __future__ import annotations

import asyncio
import copy
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from benchlib import (
    BENCH_SIGNING_KEY,
    ROOT,
    Stack,
    arguments,
    context,
    context_line,
    fmt_s,
    percentiles,
    table,
    write_json,
)
from pymongo import AsyncMongoClient, MongoClient

from judgement.feed.synthetic import generate
from shared_kernel.events.catalogue import (
    ApplicationLine,
    ApplicationSubmitted,
    ConsentGranted,
    UserActivated,
)
from shared_kernel.events.envelope import Envelope
from shared_kernel.infra.auth import issue_token
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import publisher
from shared_kernel.principal import Principal

TARGET_P95_S = 1.0
TARGET_RATE = 10.0
DRAIN_CAP_S = 60.0
MAIL_DIR = ROOT / "var" / "mail"
APP_RE = re.compile(r"AP-[0-9A-Z]+-[0-9A-Z]+")
LINES = 5
SERVICES = ("application", "document", "notification")  # judgement: two roles, started here
CONSUMING = ("application", "judgement", "document", "notification")
INFRA = {"ferretdb": ("ferretdb",), "postgres": ("postgres",), "kafka": ("java",)}


class Watcher:
    """Kafka records of the run's judgement and notice topics, by line id, with their time."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.judged: dict[str, float] = {}
        self.noticed: dict[str, float] = {}
        self.started: dict[str, float] = {}
        self.published: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = self.stack.env
        self.consumer = AIOKafkaConsumer(
            f"{self.stack.prefix}judgement.judgements",
            f"{self.stack.prefix}document.result-notices",
            f"{self.stack.prefix}application.applications",
            bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=2000,
        )
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.consumer:
            headers = {k: v.decode() for k, v in (msg.headers or ())}
            kind = headers.get("ce_type", "")
            try:
                payload = json.loads(msg.value or b"{}")
            except ValueError:
                continue
            at = msg.timestamp / 1000
            if ".application.submitted." in kind:
                self.published.setdefault(str(payload.get("application_id")), at)
                continue
            line_id = payload.get("line_id")
            if not line_id:
                continue
            if ".judgement.completed." in kind:
                self.judged.setdefault(line_id, at)
            elif ".result-notice.generated." in kind:
                self.noticed.setdefault(line_id, at)
            elif ".judgement.started." in kind:
                self.started.setdefault(line_id, at)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()


def mails_since(address: str, since: float, seen: dict[str, float]) -> None:
    """Record, per application number, the first mail to ``address`` in the sink after ``since``."""
    stamp = datetime.fromtimestamp(since).strftime("%Y%m%dT%H%M%S")
    if not MAIL_DIR.is_dir():
        return
    for path in sorted(MAIL_DIR.glob("*.eml")):
        if path.name < stamp or path.name in seen:
            continue
        seen[path.name] = 0.0
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        head = raw[:400].decode("utf-8", "replace")
        if address not in head:
            continue
        message = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(message.get("Subject", ""))
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[union-attr]
        received = datetime.strptime(path.name[:22], "%Y%m%dT%H%M%S_%f").timestamp()
        numbers = set(APP_RE.findall(subject))
        if "結果通知書" in subject or ("判定完了" in subject and "/notices/" in text):
            kinds = ["notice"] + (["result"] if "判定完了" in subject else [])
        elif "判定完了" in subject:
            kinds = ["result"]
        elif "申請受領" in subject:
            kinds = ["received"]
        else:
            kinds = []
        for number in numbers:
            for kind in kinds:
                seen.setdefault(f"{kind}:{number}", received)


async def setup(stack: Stack, settings: ServiceSettings, employer: str, address: str) -> list[Any]:
    """The employer, five workers with CCUS data and granted consents; returns the workers."""
    token = employer_token(employer)
    async with httpx.AsyncClient(timeout=30) as client:
        trades = (
            await client.get(f"{stack.url('judgement')}/trades", params={"judgeable": "true"})
        ).json()
    judgeable = {t["name"] if isinstance(t, dict) else t for t in trades}
    workers = []
    for worker in generate(200, seed="bench-pipeline", as_of=date.today() - timedelta(days=1)):
        snap = worker.snapshot
        if (
            snap.registration_type == "detailed"
            and worker.trade in judgeable
            and all(q.code != "49999" for q in snap.qualifications)
        ):
            workers.append(worker)
        if len(workers) == LINES:
            break
    now = datetime.now(UTC)
    async with publisher(settings) as publish:
        await publish(
            Envelope(
                UserActivated(
                    login_id=f"bench{employer[-8:]}",
                    email=address,
                    employer_id=employer,
                    employer_name="株式会社ベンチ建設",
                    activated_at=now,
                ),
                source="bench",
            )
        )
        for n, worker in enumerate(workers):
            snap = worker.snapshot
            await publish(Envelope(snap, source="bench"))
            await publish(
                Envelope(
                    ConsentGranted(
                        consent_id=f"CN-BENCH-{employer[-6:]}-{n}",
                        employer_id=employer,
                        worker_id=snap.worker_id,
                        worker_name=snap.name,
                        worker_name_kana=snap.name_kana,
                        birth_date=snap.birth_date,
                        scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
                        granted_at=now,
                        valid_until=date.today() + timedelta(days=365),
                        # the workers are applied for again and again: a completed
                        # judgement must not end their consents (the consent's own term)
                        ends_on_first_judgement=False,
                    ),
                    source="bench",
                )
            )
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.url("application"), headers=headers) as client:
        for _ in range(150):
            listed = (await client.get("/workers")).json()
            if isinstance(listed, list) and len(listed) >= LINES:
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("the application service never saw the consents")
        for _ in range(150):
            ready = [
                (await client.get(f"{stack.url('judgement')}/workers/{w.snapshot.worker_id}/ccus"))
                for w in workers
            ]
            if all(r.status_code == 200 for r in ready):
                break
            await asyncio.sleep(0.2)
    return workers


def employer_token(employer: str) -> str:
    principal = Principal(
        subject=f"bench{employer[-8:]}",
        role="employer",
        employer_id=employer,
        session=f"bench-{employer}",
    )
    return issue_token(BENCH_SIGNING_KEY, principal, ttl=timedelta(hours=2))


async def template_draft(stack: Stack, employer: str, workers: list[Any]) -> str:
    headers = {"Authorization": f"Bearer {employer_token(employer)}"}
    async with httpx.AsyncClient(
        base_url=stack.url("application"), headers=headers, timeout=30
    ) as client:
        draft = await client.post(
            "/applications",
            json={
                "delivery_address": {
                    "postal_code": "100-0001",
                    "prefecture": "東京都",
                    "city_address": "千代田区千代田1-1",
                    "addressee": "株式会社ベンチ建設 総務部",
                    "phone": "03-1234-5678",
                },
                "declarations": {"career_certified": True, "card_issuance_consented": True},
            },
        )
        draft.raise_for_status()
        number = draft.json()["application_id"]
        for worker in workers:
            line = await client.post(
                f"/applications/{number}/lines",
                json={
                    "worker_id": worker.snapshot.worker_id,
                    "trade": worker.trade,
                    "requested_level": 2,
                    "career_period": None,
                },
            )
            if line.status_code != 201:
                raise RuntimeError(f"line refused: {line.status_code} {line.text}")
    return str(number)


def replace_deep(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string (types kept)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {replace_deep(k, old, new): replace_deep(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_deep(v, old, new) for v in value]
    return copy.copy(value)


def clone_drafts(stack: Stack, number: str, count: int, tag: str) -> list[str]:
    """``count`` copies of the template draft's stored document under new numbers."""
    with MongoClient(stack.env["MONGODB_URL"], tz_aware=True, socketTimeoutMS=60_000) as mongo:
        coll = mongo[stack.db("application")]["applications"]
        template = coll.find_one({"_id": number})
        assert template is not None, number
        numbers = [f"AP-{tag}-{n:06d}" for n in range(count)]
        docs = [replace_deep(template, number, new) for new in numbers]
        for start in range(0, len(docs), 500):
            coll.insert_many(docs[start : start + 500], ordered=False)
    return numbers


async def submit_step(
    stack: Stack, employer: str, numbers: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Submit ``rate`` drafts per second for ``seconds``; the send time of each number."""
    count = min(len(numbers), int(rate * seconds))
    todo = numbers[:count]
    del numbers[:count]
    sent: dict[str, float] = {}
    answers: list[float] = []
    failures: dict[str, int] = {}
    bodies: list[str] = []
    headers = {"Authorization": f"Bearer {employer_token(employer)}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=stack.url("application"), headers=headers, timeout=60, limits=limits
    ) as client:

        async def one(number: str) -> None:
            started = time.time()
            sent[number] = started
            try:
                reply = await client.post(
                    f"/applications/{number}/submit",
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                if reply.status_code != 200:
                    failures[str(reply.status_code)] = failures.get(str(reply.status_code), 0) + 1
                    if len(bodies) < 3:
                        bodies.append(reply.text[:300])
            except httpx.HTTPError as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
            answers.append(time.time() - started)

        begin = time.monotonic()
        tasks = []
        for n, number in enumerate(todo):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number)))
        offered_seconds = time.monotonic() - begin
        await asyncio.gather(*tasks)
    return {
        "sent": sent,
        "submit_latency": percentiles(answers),
        "failures": failures,
        "failure_examples": bodies,
        "offered_seconds": round(offered_seconds, 2),
    }


def line_ids(number: str) -> list[str]:
    return [f"{number}-{n:02d}" for n in range(1, LINES + 1)]


def step_figures(
    sent: dict[str, float], watcher: Watcher, mails: dict[str, float]
) -> dict[str, Any]:
    judged: list[float] = []
    noticed: list[float] = []
    published: list[float] = []
    started: list[float] = []
    mailed: dict[str, list[float]] = {"received": [], "result": [], "notice": []}
    first_third: list[float] = []
    last_third: list[float] = []
    ordered = sorted(sent.items(), key=lambda kv: kv[1])
    for index, (number, at) in enumerate(ordered):
        if number in watcher.published:
            published.append(watcher.published[number] - at)
        for line in line_ids(number):
            if line in watcher.started:
                started.append(watcher.started[line] - at)
            if line in watcher.judged:
                delta = watcher.judged[line] - at
                judged.append(delta)
                if index < len(ordered) / 3:
                    first_third.append(delta)
                elif index >= 2 * len(ordered) / 3:
                    last_third.append(delta)
            if line in watcher.noticed:
                noticed.append(watcher.noticed[line] - at)
        for kind, values in mailed.items():
            if f"{kind}:{number}" in mails:
                values.extend([mails[f"{kind}:{number}"] - at] * LINES)
    total = len(sent) * LINES
    first = percentiles(first_third)["p50"]
    last = percentiles(last_third)["p50"]
    growing = first is not None and last is not None and last > max(2 * first, first + 0.5)
    return {
        "lines": total,
        "published": percentiles(published),
        "started": percentiles(started),
        "judged": percentiles(judged),
        "noticed": percentiles(noticed),
        "mailed": {kind: percentiles(values) for kind, values in mailed.items()},
        "judged_missing": total - len(judged),
        "noticed_missing": total - len(noticed),
        "judgement_lag_first_third_p50": first,
        "judgement_lag_last_third_p50": last,
        "judgement_lag_growing": growing or total - len(judged) > 0,
    }


# --- processes: the judgement roles, CPU seconds, a FerretDB round trip ----------------------


def start_role(
    stack: Stack, service: str, role: str, name: str
) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m <service> serve --role <role>`` on a port of its own, stopped with the stack."""
    from benchlib import free_port

    port = free_port() if role != "http" else stack.ports[service]
    command = [sys.executable, "-m", service, "serve", "--role", role, "--port", str(port)]
    if service in stack.profile:
        command = [
            sys.executable, "-m", "pyinstrument", "--no-color", "--interval", "0.002",
            "-o", str(stack.logs / f"{name}.profile.txt"), "-m", service, "serve",
            "--role", role, "--port", str(port),
        ]  # fmt: skip
    with (stack.logs / f"{name}.log").open("ab") as out:
        proc = subprocess.Popen(
            command, env=stack.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    stack.procs[name] = proc
    return proc, port


async def until_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=3) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"process on :{port} exited ({proc.args!r})")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"not ready after {timeout} s: :{port}")
            await asyncio.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children that it waited for (clock ticks → s)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def infra_pids() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {name: [] for name in INFRA}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            comm = stat.read_text().split("(", 1)[1].split(")", 1)[0]
        except (OSError, IndexError):
            continue
        for name, prefixes in INFRA.items():
            if comm.startswith(prefixes):
                found[name].append(int(stat.parent.name))
    return found


class Cpu:
    """CPU seconds per component over a step: our processes, FerretDB, PostgreSQL, Kafka."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def sample(self) -> dict[str, float]:
        out = {name: cpu_seconds(proc.pid) for name, proc in self.stack.procs.items()}
        for name, pids in infra_pids().items():
            out[name] = sum(cpu_seconds(pid) for pid in pids)
        out["_wall"] = time.monotonic()
        return out

    @staticmethod
    def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """Cores used on average by each component between two samples."""
        wall = max(after["_wall"] - before["_wall"], 1e-9)
        return {
            k: round((after[k] - before.get(k, 0.0)) / wall, 2)
            for k in after
            if k != "_wall" and after[k] - before.get(k, 0.0) > 0
        }


class Probe:
    """A FerretDB round trip (``find_one`` by ``_id``) every half second, by step."""

    def __init__(self, url: str, db: str, doc_id: str) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, socketTimeoutMS=10_000
        )
        self.coll = self.client[db]["applications"]
        self.doc_id = doc_id
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await self.coll.find_one({"_id": self.doc_id}, {"_id": 1})
            self.samples.append((time.time(), time.perf_counter() - started))
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def between(self, start: float, end: float) -> dict[str, Any]:
        return percentiles([d for at, d in self.samples if start <= at <= end])

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.client.close()


# --- the steps --------------------------------------------------------------------------------


async def drain(
    watcher: Watcher,
    sent: dict[str, float],
    cap: float,
    *,
    address: str | None = None,
    since: float = 0.0,
    mail_seen: dict[str, float] | None = None,
) -> dict[str, float | None]:
    """Seconds (at most ``cap``) until every submitted line is judged, noticed and (with
    ``address``) every application's 結果通知書 mail is in the sink; ``None`` for a stage
    that did not get there within the cap."""
    started = time.monotonic()
    wanted = [line for number in sent for line in line_ids(number)]
    done: dict[str, float | None] = {"judged": None, "noticed": None, "mailed": None}
    while time.monotonic() - started < cap:
        waited = round(time.monotonic() - started, 1)
        if done["judged"] is None and all(line in watcher.judged for line in wanted):
            done["judged"] = waited
        if done["noticed"] is None and all(line in watcher.noticed for line in wanted):
            done["noticed"] = waited
        if address is not None and mail_seen is not None and done["mailed"] is None:
            mails_since(address, since, mail_seen)
            if all(f"notice:{n}" in mail_seen for n in sent):
                done["mailed"] = waited
        if all(v is not None for k, v in done.items() if k != "mailed" or address):
            break
        await asyncio.sleep(0.5)
    return done


def backlog(watcher: Watcher, sent: dict[str, float], mails: dict[str, float]) -> dict[str, int]:
    wanted = [line for number in sent for line in line_ids(number)]
    return {
        "published": sum(1 for n in sent if n not in watcher.published),
        "judged": sum(1 for line in wanted if line not in watcher.judged),
        "noticed": sum(1 for line in wanted if line not in watcher.noticed),
        "mailed": sum(1 for n in sent if f"notice:{n}" not in mails),
    }


class Run:
    """One pipeline stack with its watcher, CPU sampler, probe and drafts."""

    def __init__(self, stack: Stack, employer: str, address: str, template: str) -> None:
        self.stack = stack
        self.employer = employer
        self.address = address
        self.template = template
        self.watcher = Watcher(stack)
        self.cpu = Cpu(stack)
        self.mail_seen: dict[str, float] = {}
        self.since = time.time()
        self.seeded = 0
        self.probe = Probe(stack.env["MONGODB_URL"], stack.db("application"), template)

    def drafts(self, count: int) -> tuple[list[str], float]:
        started = time.monotonic()
        made = clone_drafts(
            self.stack, self.template, count, f"{self.stack.run.upper()}{self.seeded:03d}"
        )
        self.seeded += 1
        return made, round(time.monotonic() - started, 1)

    @property
    def mails(self) -> dict[str, float]:
        return {k: v for k, v in self.mail_seen.items() if ":" in k}

    async def step(self, rate: float, seconds: float, drain_cap: float) -> dict[str, Any]:
        numbers, seeding = self.drafts(int(rate * seconds))
        ctx = context()
        cpu_before = self.cpu.sample()
        t0 = time.time()
        submitted = await submit_step(self.stack, self.employer, numbers, rate, seconds)
        t1 = time.time()
        cpu_during = Cpu.used(cpu_before, self.cpu.sample())
        left = backlog(self.watcher, submitted["sent"], self.mails)
        drained = await drain(
            self.watcher,
            submitted["sent"],
            drain_cap,
            address=self.address,
            since=self.since,
            mail_seen=self.mail_seen,
        )
        mails_since(self.address, self.since, self.mail_seen)
        figures = step_figures(submitted["sent"], self.watcher, self.mails)
        return {
            "rate": rate,
            "seconds": seconds,
            "applications": len(submitted["sent"]),
            "offered_seconds": submitted["offered_seconds"],
            "seed_seconds": seeding,
            "submit_http": submitted["submit_latency"],
            "failures": submitted["failures"],
            "failure_examples": submitted["failure_examples"],
            "backlog_at_end_of_submitting": left,
            "drain_seconds": drained,
            "backlog_after_drain": backlog(self.watcher, submitted["sent"], self.mails),
            "cores_used_while_submitting": cpu_during,
            "ferretdb_round_trip": self.probe.between(t0, t1),
            "context": ctx,
            "context_after": context(),
            **figures,
        }


def holds(step: dict[str, Any]) -> bool:
    p95 = step["judged"]["p95"]
    return p95 is not None and p95 < TARGET_P95_S and step["judged_missing"] == 0


async def pipeline(quick: bool, result: dict[str, Any]) -> None:
    consumer_workers = os.environ.get("BENCH_CONSUMER_WORKERS", "3")
    stack = Stack(
        "pipeline",
        services=SERVICES,
        extra_env={
            "CONSENT_END_ON_JUDGEMENT": "false",
            "JUDGEMENT_REVIEW_POLICY": "auto",
            "NOTIFICATION_SENDER_POLL_SECONDS": "0.5",
            **{f"{s.upper()}_CONSUMER_WORKERS": consumer_workers for s in CONSUMING},
        },
    )
    if "judgement" in os.environ.get("BENCH_PROFILE", ""):
        stack.profile = (*stack.profile, "judgement")
    result["consumer_workers_per_process"] = int(consumer_workers)
    employer = f"88{uuid.uuid4().int % 10**12:012d}"
    address = f"bench-{stack.run}@example.jp"
    settings = ServiceSettings(
        service_name="bench",
        topic_prefix=stack.prefix,
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
    )
    run: Run | None = None
    try:
        started = time.monotonic()
        stack.start()
        http, http_port = start_role(stack, "judgement", "http", "judgement-http")
        consume, consume_port = start_role(stack, "judgement", "consume", "judgement-consume")
        await until_ready(http_port, http)
        await until_ready(consume_port, consume)
        result["stack_ready_seconds"] = round(time.monotonic() - started, 1)
        workers = await setup(stack, settings, employer, address)
        result["workers"] = [
            {
                "worker_id": w.snapshot.worker_id,
                "trade": w.trade,
                "work_records": len(w.snapshot.work_history),
            }
            for w in workers
        ]
        template = await template_draft(stack, employer, workers)
        run = Run(stack, employer, address, template)
        await run.watcher.start()
        run.probe.start()
        step_seconds = float(os.environ.get("BENCH_STEP_SECONDS", "20"))
        hold_seconds = float(os.environ.get("BENCH_SUSTAIN_SECONDS", "300"))
        if quick:
            result["steps"].append(await run.step(2.0, 3.0, 20.0))
            return
        result["steps"].append(await run.step(2.0, 5.0, 20.0))  # warm-up
        print("[pipeline] warm-up done", flush=True)
        held = await run.step(TARGET_RATE, hold_seconds, DRAIN_CAP_S)
        result["held"] = held
        print(
            f"[pipeline] {TARGET_RATE:g}/s × {hold_seconds:g} s: "
            f"p95 {fmt_s(held['judged']['p95'])}",
            flush=True,
        )
        complete = held["judged_missing"] == 0 and held["judged"]["p95"] is not None
        if complete and hold_seconds >= 300:
            result["p95_submitted_to_completed_ms_at_10aps"] = round(held["judged"]["p95"] * 1000)
        rates = [float(r) for r in os.environ.get("BENCH_RATES", "20,40").split(",") if r]
        for rate in rates:
            step = await run.step(rate, step_seconds, 20.0)
            result["steps"].append(step)
            print(f"[pipeline] {rate:g}/s: p95 {fmt_s(step['judged']['p95'])}", flush=True)
            if not holds(step):
                result["first_rate_not_holding"] = rate
                break
        else:
            result["first_rate_not_holding"] = None
        mails_since(address, run.since, run.mail_seen)
        result["mails_received"] = len(run.mails)
    finally:
        if run is not None:
            await run.watcher.stop()
            await run.probe.stop()
        stack.stop()


# --- issue 23: one judgement consume process and two side by side ------------------------------


async def consume_ratio(quick: bool, result: dict[str, Any]) -> None:
    lines_wanted = int(os.environ.get("BENCH_CONSUME_LINES", "200" if quick else "1500"))
    consumer_workers = os.environ.get("BENCH_CONSUMER_WORKERS", "3")
    stack = Stack(
        "pipeconsume",
        services=(),
        extra_env={
            "JUDGEMENT_REVIEW_POLICY": "auto",
            "JUDGEMENT_CONSUMER_WORKERS": consumer_workers,
        },
    )
    settings = ServiceSettings(
        service_name="bench",
        topic_prefix=stack.prefix,
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
    )
    watcher = Watcher(stack)
    out: dict[str, Any] = {
        "lines_per_backlog": lines_wanted,
        "consumer_workers_per_process": int(consumer_workers),
    }
    result["consume_ratio"] = out
    try:
        first, port = start_role(stack, "judgement", "consume", "judgement-consume-1")
        await until_ready(port, first)
        workers = [
            w
            for w in generate(200, seed="bench-pipeline", as_of=date.today() - timedelta(days=1))
            if w.snapshot.registration_type == "detailed"
            and all(q.code != "49999" for q in w.snapshot.qualifications)
        ][:LINES]
        async with publisher(settings) as publish:
            for worker in workers:
                await publish(Envelope(worker.snapshot, source="bench"))
        mongo: MongoClient[dict[str, Any]]
        with MongoClient(stack.env["MONGODB_URL"], socketTimeoutMS=60_000) as mongo:
            coll = mongo[stack.db("judgement")]["ccus_workers"]
            for _ in range(300):
                if coll.count_documents({}) >= len(workers):
                    break
                await asyncio.sleep(0.2)
        await watcher.start()
        for processes in (1, 2):
            if processes == 2:
                second, port2 = start_role(stack, "judgement", "consume", "judgement-consume-2")
                await until_ready(port2, second)
            await asyncio.sleep(6)  # the group's rebalance with the new members settles
            tag = f"AP-CR{processes}{stack.run.upper()[:5]}"
            events = []
            for n in range(lines_wanted // LINES):
                number = f"{tag}-{n:06d}"
                events.append(
                    Envelope(
                        ApplicationSubmitted(
                            application_id=number,
                            employer_id="880000000001",
                            application_date=date.today(),
                            submitted_at=datetime.now(UTC),
                            fee_total_yen=0,
                            lines=[
                                ApplicationLine(
                                    line_id=f"{number}-{k + 1:02d}",
                                    worker_id=w.snapshot.worker_id,
                                    worker_name=w.snapshot.name,
                                    worker_name_kana=w.snapshot.name_kana,
                                    birth_date=w.snapshot.birth_date,
                                    trade=w.trade,
                                    requested_level=2,
                                    fee_yen=0,
                                )
                                for k, w in enumerate(workers)
                            ],
                        ),
                        source="bench",
                    )
                )
            wanted = [line.line_id for e in events for line in e.event.lines]  # type: ignore[attr-defined]
            cpu = Cpu(stack)
            before = cpu.sample()
            begin = time.time()
            async with publisher(settings) as publish:
                await asyncio.gather(*(publish(e) for e in events))
            published = time.time() - begin
            deadline = time.monotonic() + (60 if quick else 120)
            while time.monotonic() < deadline:
                if all(x in watcher.judged for x in wanted):
                    break
                await asyncio.sleep(0.25)
            judged = [watcher.judged[x] for x in wanted if x in watcher.judged]
            seconds = (max(judged) - begin) if judged else None
            rate = (
                round(len(judged) / seconds, 1) if seconds and len(judged) == len(wanted) else None
            )
            out[f"judgement_consume_lines_per_second_{processes}"] = rate
            out[f"run_{processes}"] = {
                "lines": len(wanted),
                "judged": len(judged),
                "publish_seconds": round(published, 2),
                "seconds": round(seconds, 2) if seconds else None,
                "cores_used": Cpu.used(before, cpu.sample()),
                "context": context(),
            }
            print(f"[pipeline] consume × {processes}: {rate} lines/s", flush=True)
        one, two = (
            out.get("judgement_consume_lines_per_second_1"),
            out.get("judgement_consume_lines_per_second_2"),
        )
        out["ratio_2_to_1"] = round(two / one, 2) if one and two else None
    finally:
        await watcher.stop()
        stack.stop()


async def bench(quick: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "context_before": context(),
        "steps": [],
        "p95_submitted_to_completed_ms_at_10aps": None,
    }
    await pipeline(quick, result)
    await consume_ratio(quick, result)
    ratio = result["consume_ratio"]
    for key in ("judgement_consume_lines_per_second_1", "judgement_consume_lines_per_second_2"):
        result[key] = ratio.get(key)
    result["judgement_consume_ratio"] = ratio.get("ratio_2_to_1")
    result["context_after"] = context()
    return result


# --- report -------------------------------------------------------------------------------------


def _cores(used: dict[str, float]) -> str:
    top = sorted(used.items(), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{k} {v:.2f}" for k, v in top)


def _row(name: str, step: dict[str, Any]) -> list[str]:
    j, n, m = step["judged"], step["noticed"], step["mailed"]["notice"]
    d = step["drain_seconds"]
    return [
        name,
        f"{fmt_s(step['submit_http']['p50'])} / {fmt_s(step['submit_http']['p95'])}"
        + (f" ({sum(step['failures'].values())} failed)" if step["failures"] else ""),
        f"{fmt_s(step['published']['p50'])} / {fmt_s(step['published']['p95'])}",
        f"{fmt_s(j['p50'])} / **{fmt_s(j['p95'])}** / {fmt_s(j['p99'])}"
        + (f" ({step['judged_missing']} not judged)" if step["judged_missing"] else ""),
        f"{fmt_s(n['p50'])} / {fmt_s(n['p95'])} ({n['n']}/{step['lines']})",
        f"{fmt_s(m['p50'])} / {fmt_s(m['p95'])} ({m['n'] // LINES}/{step['applications']})",
        " / ".join("—" if d[k] is None else f"{d[k]:g} s" for k in ("judged", "noticed", "mailed")),
        " / ".join(fmt_s(step["ferretdb_round_trip"][p]) for p in ("p50", "p95")),
        f"{step['context']['load_average'][0]:.1f}",
    ]


def report(result: dict[str, Any]) -> str:
    out = [
        "## Application pipeline (issues 24, 23: 申請 → JudgementCompleted → 結果通知書 → mail)\n"
    ]
    out.append(f"Context: {context_line(result['context_before'])}.\n")
    out.append(
        "Own application, document and notification processes and judgement as `serve --role http` "
        "+ `serve --role consume` (judging in the consume process, off the API's event loop), "
        f"{result.get('consumer_workers_per_process', 1)} Kafka consumers per consuming process; "
        "shared Kafka, FerretDB and mail sink; 5 lines per application (level 2, CCUS workers with "
        f"{', '.join(str(w['work_records']) for w in result.get('workers', []))} work records); "
        "open-loop `POST /applications/{id}/submit`; times per line from the submission to the "
        "Kafka record and to the mail file in the sink. Drain: seconds after the last submission "
        "until every line is judged / every notice generated / every 結果通知書 mail sent "
        "(— = not within the cap).\n"
    )
    steps = list(result["steps"])
    rows = [_row(f"{s['rate']:g}/s × {s['seconds']:g} s", s) for s in steps[:1]]
    if "held" in result:
        h = result["held"]
        rows.append(_row(f"**{h['rate']:g}/s × {h['seconds']:g} s**", h))
    rows += [_row(f"{s['rate']:g}/s × {s['seconds']:g} s", s) for s in steps[1:]]
    out.append(
        table(
            rows,
            [
                "rate (applications)",
                "submit HTTP p50 / p95",
                "→ ApplicationSubmitted p50 / p95",
                "→ JudgementCompleted p50 / p95 / p99",
                "→ ResultNoticeGenerated p50 / p95",
                "→ 結果通知書 mail p50 / p95 (apps)",
                "drain: judged / noticed / mailed",
                "FerretDB round trip p50 / p95",
                "load",
            ],
        )
    )
    value = result.get("p95_submitted_to_completed_ms_at_10aps")
    out.append(
        "\n**Target** p95 申請 → JudgementCompleted < 1 s at 10 applications/s for 5 minutes: "
        + (
            "not reached (null)"
            if value is None
            else f"{value} ms — {'met' if value < 1000 else 'missed'}"
        )
        + "."
    )
    if "held" in result:
        h = result["held"]
        out.append(
            f"\nCores used while submitting at {h['rate']:g}/s: "
            f"{_cores(h['cores_used_while_submitting'])}."
        )
    if "first_rate_not_holding" in result:
        rate = result["first_rate_not_holding"]
        out.append(
            "\nRaised rates: "
            + (
                "every one held."
                if rate is None
                else f"{rate:g}/s is the first that does not hold."
            )
        )
        for s in steps[1:]:
            out.append(
                f"* {s['rate']:g}/s: cores used {_cores(s['cores_used_while_submitting'])}; "
                f"backlog when submitting ended {s['backlog_at_end_of_submitting']}."
            )
    ratio = result.get("consume_ratio", {})
    if ratio:
        one, two = (
            ratio.get("judgement_consume_lines_per_second_1"),
            ratio.get("judgement_consume_lines_per_second_2"),
        )
        out.append(
            "\nJudgement `consume` processes (issue 23), a backlog of "
            f"{ratio['lines_per_backlog']} lines "
            f"each, {ratio['consumer_workers_per_process']} consumers per process: one process "
            f"{one if one is not None else '—'} lines/s, two side by side "
            f"{two if two is not None else '—'} lines/s; ratio {ratio.get('ratio_2_to_1') or '—'} "
            "(2 cores shared with FerretDB, PostgreSQL and Kafka)."
        )
        for k in (1, 2):
            r = ratio.get(f"run_{k}")
            if r:
                out.append(
                    f"* {k} process(es): cores used {_cores(r['cores_used'])}, "
                    f"load {r['context']['load_average'][0]:.1f}."
                )
    return "\n".join(out)


def main() -> int:
    args = arguments((__doc__ or "").splitlines()[0])
    result = asyncio.run(bench(args.quick))
    result["quick"] = args.quick
    print(report(result))
    path = write_json(args.json_out, "pipeline", result)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
