"""The phases both fault tests go through: the preconditions through the APIs before any
fault (workers, employers, consents), and the wait after the load until the work is done.

``tests/faults/test_faults.py`` (services, Kafka and database restarted under load) and
``tests/faults/test_broker_loss.py`` (one of three Kafka nodes lost under load) share them.
"""

from __future__ import annotations

import asyncio
import math
import time

import httpx

from shared_kernel.infra.mongo import connect
from tests.faults.chaos import log
from tests.faults.journey import (
    Employer,
    Tally,
    Worker,
    grant_consents,
    register_employer,
    seed_workers,
    wait_selectable,
)
from tests.faults.stack import Stack

LINES_PER_APPLICATION = 5
WORKERS_PER_CONSENT_APPLICATION = 100


def precondition_seconds(applications: int) -> float:
    """The read models fill with 5 × ``applications`` workers before the faults begin."""
    return max(300.0, applications * 2.0)


def settle_seconds(applications: int) -> float:
    """After the load, until every PDF is made and every mail sent (~1.3 notices/s)."""
    return float(max(900, applications * 8))


async def prepare(
    stack: Stack, client: httpx.AsyncClient, tally: Tally, applications: int, seed: int
) -> tuple[list[Worker], list[tuple[Employer, list[Worker]]]]:
    """Workers seeded through the CCUS feed, one employer per 100 workers registered with its
    consents granted, every worker selectable: returns the workers and the plan, one
    (employer, 5 workers) per application."""
    started = time.monotonic()
    lines = applications * LINES_PER_APPLICATION
    workers = await asyncio.to_thread(
        seed_workers, stack, lines, seed % 100000, stack.infra.var_dir / f"{stack.run_id}.jsonl"
    )
    await wait_read_model(stack, "consent", "ccus_workers", lines)
    await wait_read_model(stack, "judgement", "ccus_workers", lines)
    employer_count = math.ceil(lines / WORKERS_PER_CONSENT_APPLICATION)
    employers = await asyncio.gather(
        *(register_employer(stack, client, tally, n) for n in range(employer_count))
    )
    for n, employer in enumerate(employers):
        chunk = WORKERS_PER_CONSENT_APPLICATION
        employer.workers = workers[n * chunk : (n + 1) * chunk]
    await asyncio.gather(*(grant_consents(stack, client, tally, e) for e in employers))
    for employer in employers:
        await wait_selectable(stack, client, tally, employer, precondition_seconds(applications))
    log(f"preconditions ready in {time.monotonic() - started:.0f} s")
    plan = [
        (e, e.workers[i : i + LINES_PER_APPLICATION])
        for e in employers
        for i in range(0, len(e.workers), LINES_PER_APPLICATION)
    ][:applications]
    return workers, plan


async def settle(stack: Stack, lines: int, applications: int, seconds: float) -> None:
    """Wait (at most ``seconds``) until the work is done (``settled``), then a little more:
    redeliveries still in flight are counted too."""
    give_up = time.monotonic() + seconds
    while not await settled(stack, lines, applications):
        if time.monotonic() > give_up:
            break
        await asyncio.sleep(5)
    await asyncio.sleep(3)


async def settled(stack: Stack, lines: int, applications: int) -> bool:
    """Every line judged and noticed, every application completed, every 判定完了 mail
    sent, no outbox pending."""
    client = connect(stack.infra.mongodb_url)
    try:
        completed = await client[stack.db_name("application")]["applications"].count_documents(
            {"status": "completed"}
        )
        judged = await client[stack.db_name("judgement")]["judgements"].count_documents(
            {"status": "completed"}
        )
        notices = await client[stack.db_name("document")]["notices"].count_documents({})
        mails = client[stack.db_name("notification")]["mails"]
        sent = await mails.count_documents({"template": "judgement_completed", "status": "sent"})
        unsent = await mails.count_documents({"status": {"$ne": "sent"}})
        pending = 0
        for name in ("consent", "application", "judgement", "document", "notification"):
            db = client[stack.db_name(name)]
            for collection in await db.list_collection_names():
                pending += await db[collection].count_documents({"_outbox_pending": {"$gt": 0}})
        log(
            f"progress: judged {judged}/{lines}, notices {notices}/{lines}, "
            f"applications completed {completed}/{applications}, "
            f"判定完了 mails sent {sent}/{applications}, unsent mails {unsent}, outbox {pending}"
        )
        return (
            judged >= lines
            and completed >= applications
            and notices >= lines
            and sent >= applications
            and unsent == 0
            and pending == 0
        )
    except Exception as exc:  # the database may be restarting
        log(f"progress unknown: {exc!r}")
        return False
    finally:
        await client.close()


async def wait_read_model(stack: Stack, service: str, collection: str, count: int) -> None:
    client = connect(stack.infra.mongodb_url)
    try:
        give_up = time.monotonic() + 300
        while True:
            have = await client[stack.db_name(service)][collection].count_documents({})
            if have >= count:
                return
            if time.monotonic() > give_up:
                raise TimeoutError(f"{service}.{collection}: {have}/{count}")
            await asyncio.sleep(1)
    finally:
        await client.close()
