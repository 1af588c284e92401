"""Benchmark of the application pipeline: 申請 → JudgementCompleted → ResultNoticeGenerated → mail.

    uv run python bench/pipeline.py [--quick] [--json-out PATH]

Starts its own application, judgement, document and notification processes (free ports,
topic prefix and databases of its own; the shared Kafka, FerretDB and SMTP sink). Set-up,
as the other services would produce it: one employer (UserActivated, so the notification
service knows its mail address), five synthetic CCUS workers (``judgement.feed.synthetic``,
詳細型, trades with criteria, no mis-coded qualification) with their snapshots and a
ConsentGranted each. One draft of five lines (level 2, no 経歴証明) is built through the
HTTP API; the drafts the rate steps submit are copies of its stored document with a new
application number (the store format: ``_id``, line ids ``<number>-NN``, version 1), so
that building thousands of drafts does not eat the time budget.

Each rate step submits drafts through ``POST /applications/{id}/submit`` (with an
``Idempotency-Key``) on an open-loop schedule (the n-th at ``start + n / rate``, whatever
the answers before it) for a fixed window, and measures, per line, the time from the
submission to the JudgementCompleted record (Kafka timestamp), to the ResultNoticeGenerated
record and, per application, to the mail in the sink (file time in ``var/mail``). After a
step it waits (capped) for the judgements to drain; notices are not waited for (PDFs come
at ~4–6 per second against 50–500 per second offered), their backlog is reported.

Steps (rates in applications per second, five lines each): 1, 10, 50, 100 for
``BENCH_STEP_SECONDS`` (default 15) each; then the highest rate whose judgement lag did not
grow is held for ``BENCH_SUSTAIN_SECONDS`` (default the issue's 5 minutes: 300). Once a
step's judgement lag grows, the higher rates are not attempted (reported as such): they
would only measure the queue, and their backlog would still drain during the held run.
Target: p95 from 申請 to JudgementCompleted under 1 s at 50 applications per second.
"""

from __future__ import annotations

import asyncio
import copy
import email
import email.policy
import json
import os
import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta
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
from pymongo import MongoClient

from judgement.feed.synthetic import generate
from shared_kernel.events.catalogue import ConsentGranted, UserActivated
from shared_kernel.events.envelope import Envelope
from shared_kernel.infra.auth import issue_token
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import publisher
from shared_kernel.principal import Principal

TARGET_P95_S = 1.0
TARGET_RATE = 50
MAIL_DIR = ROOT / "var" / "mail"
APP_RE = re.compile(r"AP-[0-9A-Z]+-[0-9A-Z]+")
LINES = 5
SERVICES = ("application", "judgement", "document", "notification")


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
    with MongoClient(stack.env["MONGODB_URL"], tz_aware=True) as mongo:
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


async def drain(watcher: Watcher, sent: dict[str, float], cap: float) -> float:
    """Wait (at most ``cap`` s) until every submitted line is judged; the seconds waited."""
    started = time.monotonic()
    wanted = [line for number in sent for line in line_ids(number)]
    while time.monotonic() - started < cap:
        if all(line in watcher.judged for line in wanted):
            break
        await asyncio.sleep(0.5)
    return round(time.monotonic() - started, 1)


async def bench(quick: bool) -> dict[str, Any]:
    step_seconds = float(os.environ.get("BENCH_STEP_SECONDS", "3" if quick else "15"))
    sustain_seconds = float(os.environ.get("BENCH_SUSTAIN_SECONDS", "0" if quick else "300"))
    rates = [2.0] if quick else [1.0, 10.0, 50.0, 100.0]
    drain_cap = 10.0 if quick else 45.0
    stack = Stack(
        "pipeline",
        services=SERVICES,
        extra_env={
            "CONSENT_END_ON_JUDGEMENT": "false",  # consents outlive the judgements (reused workers)
            "JUDGEMENT_REVIEW_POLICY": "auto",
            "NOTIFICATION_SENDER_POLL_SECONDS": "0.5",
        },
    )
    employer = f"88{uuid.uuid4().int % 10**12:012d}"
    address = f"bench-{stack.run}@example.jp"
    result: dict[str, Any] = {"context_before": context(), "steps": []}
    settings = ServiceSettings(
        service_name="bench",
        topic_prefix=stack.prefix,
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
    )
    watcher = Watcher(stack)
    try:
        result["stack_ready_seconds"] = round(stack.start(), 1)
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
        seeded = [0]

        def drafts(count: int) -> list[str]:
            """Fresh drafts for one step (seeded just before it: the collection grows as
            submitted applications accumulate, not with drafts waiting for later steps)."""
            started = time.monotonic()
            made = clone_drafts(stack, template, count, f"{stack.run.upper()}{seeded[0]:03d}")
            seeded[0] += 1
            result.setdefault("seed_seconds", []).append(round(time.monotonic() - started, 1))
            return made

        await watcher.start()
        mails: dict[str, float] = {}
        mail_seen: dict[str, float] = {}
        since = time.time()
        best = 0.0
        for rate in rates:
            if result["steps"] and result["steps"][-1]["judgement_lag_growing"]:
                # saturated: a higher rate would only measure the queue, and its backlog
                # would still be draining during the held-rate run
                result.setdefault("not_attempted", []).append(rate)
                continue
            ctx = context()
            backlog = sum(1 for line in watcher.judged if line not in watcher.noticed)
            numbers = drafts(int(rate * step_seconds))
            submitted = await submit_step(stack, employer, numbers, rate, step_seconds)
            waited = await drain(watcher, submitted["sent"], drain_cap)
            mails_since(address, since, mail_seen)
            mails.update({k: v for k, v in mail_seen.items() if ":" in k})
            figures = step_figures(submitted["sent"], watcher, mails)
            notices_done = len(watcher.noticed)
            step = {
                "rate": rate,
                "seconds": step_seconds,
                "applications": len(submitted["sent"]),
                "offered_seconds": submitted["offered_seconds"],
                "submit_http": submitted["submit_latency"],
                "failures": submitted["failures"],
                "drain_seconds": waited,
                "notice_backlog_at_start": backlog,
                "notices_generated_so_far": notices_done,
                "notice_backlog_at_end": sum(
                    1 for line in watcher.judged if line not in watcher.noticed
                ),
                "context": ctx,
                **figures,
            }
            result["steps"].append(step)
            p95 = figures["judged"]["p95"]
            if not figures["judgement_lag_growing"] and p95 is not None:
                best = max(best, rate)
            print(f"[pipeline] {rate}/s: judged p95 {fmt_s(p95)}", flush=True)
        result["highest_rate_without_growing_judgement_lag"] = best
        # notice throughput: ResultNoticeGenerated per second over the run so far
        if watcher.noticed:
            times = sorted(watcher.noticed.values())
            span = max(times[-1] - times[0], 1e-9)
            result["notices_per_second"] = round((len(times) - 1) / span, 2)
            result["notice_sustainable_rate"] = round((len(times) - 1) / span / LINES, 2)
        if sustain_seconds > 0 and best > 0:
            ctx = context()
            numbers = drafts(int(best * sustain_seconds))
            submitted = await submit_step(stack, employer, numbers, best, sustain_seconds)
            waited = await drain(watcher, submitted["sent"], drain_cap)
            figures = step_figures(submitted["sent"], watcher, mails)
            result["sustain"] = {
                "rate": best,
                "seconds": sustain_seconds,
                "applications": len(submitted["sent"]),
                "drain_seconds": waited,
                "context": ctx,
                **figures,
            }
        mails_since(address, since, mail_seen)
        result["mails_received"] = sum(1 for k in mail_seen if ":" in k)
    finally:
        await watcher.stop()
        result["context_after"] = context()
        stack.stop()
    return result


def report(result: dict[str, Any]) -> str:
    out = ["## Application pipeline (申請 → JudgementCompleted → 結果通知書 → mail)\n"]
    out.append(f"Context: {context_line(result['context_before'])}.\n")
    out.append(
        "Own application, judgement, document and notification processes (one each) on the "
        f"shared infrastructure; 5 lines per application (level 2, CCUS workers with "
        f"{', '.join(str(w['work_records']) for w in result.get('workers', []))} work records); "
        "open-loop submission through `POST /applications/{id}/submit`; times per line from the "
        "submission to the Kafka record (judgement, notice) and to the mail file in the sink.\n"
    )
    rows = []
    for step in result["steps"]:
        j, n = step["judged"], step["noticed"]
        m, r = step["mailed"]["notice"], step["mailed"]["result"]
        rows.append(
            [
                f"{step['rate']:g}/s × {step['seconds']:g} s",
                f"{fmt_s(j['p50'])} / {fmt_s(j['p95'])} / {fmt_s(j['p99'])}"
                + (f" ({step['judged_missing']} not judged)" if step["judged_missing"] else ""),
                f"{fmt_s(n['p50'])} / {fmt_s(n['p95'])} / {fmt_s(n['p99'])} "
                f"({n['n']}/{step['lines']})",
                f"{fmt_s(step['published']['p50'])} / {fmt_s(step['published']['p95'])}",
                f"{fmt_s(r['p50'])} / {fmt_s(r['p95'])} ({r['n'] // LINES} apps)",
                f"{fmt_s(m['p50'])} / {fmt_s(m['p95'])} ({m['n'] // LINES} apps)",
                f"{step['notice_backlog_at_start']} → {step['notice_backlog_at_end']}",
                "growing" if step["judgement_lag_growing"] else "flat",
                f"{step['context']['load_average'][0]:.1f}",
            ]
        )
    out.append(
        table(
            rows,
            [
                "rate (applications)",
                "→ JudgementCompleted p50 / p95 / p99",
                "→ ResultNoticeGenerated p50 / p95 / p99 (lines reached)",
                "→ ApplicationSubmitted on Kafka p50 / p95",
                "→ 判定完了 mail p50 / p95",
                "→ 結果通知書 mail p50 / p95",
                "notice backlog (lines)",
                "judgement lag",
                "load",
            ],
        )
    )
    skipped = result.get("not_attempted", [])
    if skipped:
        out.append(
            f"\nNot attempted: {', '.join(f'{r:g}/s' for r in skipped)} — the rate below "
            "already saturated the pipeline (growing judgement lag)."
        )
    at50 = next((s for s in result["steps"] if s["rate"] == TARGET_RATE), None)
    if at50 is None and TARGET_RATE in skipped:
        out.append(
            "\n**Target** p95 申請 → JudgementCompleted < 1 s at 50 applications/s: "
            "missed (saturated below that rate)."
        )
    if at50:
        p95 = at50["judged"]["p95"]
        met = p95 is not None and p95 < TARGET_P95_S and not at50["judged_missing"]
        out.append(
            f"\n**Target** p95 申請 → JudgementCompleted < 1 s at 50 applications/s: "
            f"{fmt_s(p95)} — {'met' if met else 'missed'}."
        )
    out.append(
        f"\nHighest rate without growing judgement lag: "
        f"{result.get('highest_rate_without_growing_judgement_lag', 0):g} applications/s; "
        f"notices: {result.get('notices_per_second', '—')} per second "
        f"(≈ {result.get('notice_sustainable_rate', '—')} applications/s sustainable)."
    )
    if "sustain" in result:
        s = result["sustain"]
        out.append(
            f"\nHeld {s['rate']:g}/s for {s['seconds']:g} s ({s['applications']} applications): "
            f"→ JudgementCompleted p50 {fmt_s(s['judged']['p50'])}, "
            f"p95 {fmt_s(s['judged']['p95'])}, "
            f"p99 {fmt_s(s['judged']['p99'])}; lag first third p50 "
            f"{fmt_s(s['judgement_lag_first_third_p50'])}, last third "
            f"{fmt_s(s['judgement_lag_last_third_p50'])} "
            f"({'growing' if s['judgement_lag_growing'] else 'flat'}), load "
            f"{s['context']['load_average'][0]:.1f}."
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
