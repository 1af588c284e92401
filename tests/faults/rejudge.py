"""The fault suite's second phase: a re-judgement (再判定) of every line under kill -9.

After the first phase has judged every line, the operator's command re-judges them all
(``python -m judgement rejudge --all``) while the judgement, document and notification
services are each killed with SIGKILL at random moments and restarted. Afterwards every
line must have exactly one new judgement (one ``rejudgements`` document, one
JudgementCompleted v2 with sequence 2 by ``ce_id``), one new 結果通知書 (``RN-<line>-2``)
and every employer exactly one 「レベル判定結果が更新されました」 mail, recorded and delivered.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from shared_kernel.infra.mongo import connect
from tests.faults.chaos import Chaos, log
from tests.faults.counts import Counts, read_topic, sink_message_ids, topics_with_prefix
from tests.faults.journey import Submitted
from tests.faults.stack import Stack

REASON = "障害試験：全明細の再判定"
KILLED = ("judgement", "document", "notification")
UPDATE_TEMPLATE = "rejudgement_results"


async def rejudge_under_kills(stack: Stack, rng: random.Random, trades: set[str]) -> dict[str, Any]:
    """Run the re-judgement command; kill each of KILLED once meanwhile. Its summary."""
    command = [sys.executable, "-m", "judgement", "rejudge", "--all", "--reason", REASON]
    for trade in sorted(trades):
        command += ["--trade", trade]
    chaos = Chaos(stack, rng)
    env = stack.service_env("judgement", 0)
    proc = await asyncio.create_subprocess_exec(
        *command,
        *("--by", "fault-suite"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def kills() -> None:
        victims = list(KILLED)
        rng.shuffle(victims)
        for name in victims:
            await asyncio.sleep(rng.uniform(0.2, 2.5))
            await asyncio.to_thread(chaos.do, f"kill {name}")

    killing = asyncio.create_task(kills())
    out, err = await proc.communicate()
    await killing
    assert proc.returncode == 0, err.decode(errors="replace")
    summary: dict[str, Any] = json.loads(out)
    summary["faults"] = dict(chaos.injected)
    log(f"re-judgement run {summary['run_id']}: {summary['selected']} lines, {summary['faults']}")
    return summary


async def rejudged(stack: Stack, lines: int, employers: int) -> bool:
    """Every line re-judged and noticed again, every update mail sent, no outbox pending."""
    client = connect(stack.infra.mongodb_url)
    try:
        stored = await client[stack.db_name("judgement")]["rejudgements"].count_documents({})
        notices = await client[stack.db_name("document")]["notices"].count_documents(
            {"sequence": 2}
        )
        mails = client[stack.db_name("notification")]["mails"]
        sent = await mails.count_documents({"template": UPDATE_TEMPLATE, "status": "sent"})
        pending = 0
        for name in ("judgement", "document", "notification"):
            db = client[stack.db_name(name)]
            for collection in await db.list_collection_names():
                pending += await db[collection].count_documents({"_outbox_pending": {"$gt": 0}})
        log(
            f"re-judgement progress: judged {stored}/{lines}, notices {notices}/{lines}, "
            f"update mails sent {sent}/{employers}, outbox {pending}"
        )
        return stored >= lines and notices >= lines and sent >= employers and pending == 0
    except Exception as exc:  # a service database may be restarting
        log(f"re-judgement progress unknown: {exc!r}")
        return False
    finally:
        await client.close()


async def count_rejudgement(stack: Stack, submitted: list[Submitted], run_id: str) -> Counts:
    """Exactly once per line (judgement, event, notice) and per employer (mail)."""
    line_ids = [line for s in submitted for line in s.line_ids]
    employer_ids = sorted({s.employer_id for s in submitted})
    counts = Counts(applications=len(submitted), lines=len(line_ids))
    client = connect(stack.infra.mongodb_url)
    try:
        judged: Counter[str] = Counter()
        async for doc in client[stack.db_name("judgement")]["rejudgements"].find(
            {}, projection={"line_id": 1}
        ):
            judged[doc["line_id"]] += 1
        counts.check("re-judgements (judgement db)", dict(judged), line_ids)

        notices: Counter[str] = Counter()
        async for doc in client[stack.db_name("document")]["notices"].find(
            {"sequence": {"$gt": 1}}, projection={"line_id": 1}
        ):
            notices[doc["line_id"]] += 1
        counts.check("re-judgement notices (document db)", dict(notices), line_ids)

        mails: Counter[str] = Counter()
        message_ids: dict[str, str] = {}
        async for doc in client[stack.db_name("notification")]["mails"].find(
            {"template": UPDATE_TEMPLATE}, projection={"key": 1, "status": 1, "message_id": 1}
        ):
            employer = str(doc["key"]).removeprefix(f"{run_id}:")
            mails[employer] += 1
            if doc["status"] == "sent":
                message_ids[doc["message_id"]] = employer
            else:
                counts.losses.append(f"update mail not sent: {employer} ({doc['status']})")
        counts.check("update mails (notification db)", dict(mails), employer_ids)
        delivered: Counter[str] = Counter()
        for message_id in await asyncio.to_thread(sink_message_ids, stack.infra.maildir):
            if message_id in message_ids:
                delivered[message_ids[message_id]] += 1
        lost = [e for e in employer_ids if delivered.get(e, 0) == 0]
        counts.losses += [f"SMTP sink update mail: {e}" for e in lost]
        counts.mail_resends = sum(n - 1 for n in delivered.values() if n > 1)
        counts.row(
            "update mails (SMTP sink, distinct)",
            len(employer_ids),
            len(employer_ids) - len(lost),
            len(lost),
            counts.mail_resends,
        )
        for name in ("judgement", "document", "notification"):
            db = client[stack.db_name(name)]
            for collection in await db.list_collection_names():
                pending = await db[collection].count_documents({"_outbox_pending": {"$gt": 0}})
                if pending:
                    counts.outbox_pending[f"{name}.{collection}"] = pending
    finally:
        await client.close()

    prefix = stack.topic_prefix
    ids: dict[str, set[str]] = defaultdict(set)
    deliveries = 0
    for headers, value in await read_topic(stack.infra.kafka, prefix + "judgement.judgements"):
        if headers.get("ce_type", "").endswith("judgement.completed.v2") and (
            value.get("sequence", 1) > 1
        ):
            ids[str(value.get("line_id"))].add(headers["ce_id"])
            deliveries += 1
    counts.check(
        "JudgementCompleted sequence 2 (distinct ce_id)",
        {k: len(v) for k, v in ids.items()},
        line_ids,
    )
    counts.redeliveries["JudgementCompleted (re-judgement)"] = deliveries - sum(
        len(v) for v in ids.values()
    )
    for topic in await topics_with_prefix(stack.infra.kafka, prefix):
        if topic.endswith(".dlq"):
            records = await read_topic(stack.infra.kafka, topic)
            if records:
                counts.dead_letters[topic.removeprefix(prefix)] = len(records)
    return counts


async def settle_rejudgement(stack: Stack, lines: int, employers: int, seconds: float) -> None:
    await asyncio.to_thread(stack.ensure_running)
    give_up = time.monotonic() + seconds
    while not await rejudged(stack, lines, employers):
        if time.monotonic() > give_up:
            return
        await asyncio.sleep(5)
    await asyncio.sleep(3)  # redeliveries still in flight are counted too
