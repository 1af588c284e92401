"""Fault suite: the whole stack under kill -9, Kafka and database restarts and a mail outage.

While ``FAULT_APPLICATIONS`` (default 100) applications of 5 worker lines go through the
application service's HTTP API, every consumer service is killed with SIGKILL at random
moments (``FAULT_KILLS`` times each, default 2), Kafka is restarted, the database
(PostgreSQL and FerretDB) is restarted, the SMTP sink is stopped for a minute, and a second
notification instance joins the consumer group mid-run (its partner is killed later:
rebalances under load). Afterwards every line must have exactly one judgement, one
JudgementCompleted, one 結果通知書 and one ResultNoticeGenerated, every application one
申請受領 and one 判定完了 mail (in the notification database and in the SMTP sink), no
outbox may hold anything and no dead-letter topic may hold anything. The counts are printed.
Then every line is re-judged (再判定) while judgement, document and notification are killed
once each (``tests/faults/rejudge.py``): every line must get exactly one new judgement, one
JudgementCompleted with sequence 2 and one new 結果通知書, every employer exactly one update
mail.

Runs on its own infrastructure (``make test-faults``; see docs/faults.md), never on the
shared one.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.chaos import Chaos, log
from tests.faults.counts import count, table
from tests.faults.journey import Tally, apply_all
from tests.faults.phases import (
    LINES_PER_APPLICATION,
    precondition_seconds,
    prepare,
    settle,
    settle_seconds,
)
from tests.faults.rejudge import (
    KILLED,
    count_rejudgement,
    rejudge_under_kills,
    settle_rejudgement,
)
from tests.faults.stack import Infra, Stack

APPLICATIONS = int(os.environ.get("FAULT_APPLICATIONS", "100"))
KILLS = int(os.environ.get("FAULT_KILLS", "2"))
SEED = int(os.environ.get("FAULT_SEED", str(int(time.time()))))
SETTLE_SECONDS = float(os.environ.get("FAULT_SETTLE_SECONDS", settle_seconds(APPLICATIONS)))
SMTP_OUTAGE_SECONDS = float(os.environ.get("FAULT_SMTP_OUTAGE_SECONDS", "60"))
PRECONDITION_SECONDS = precondition_seconds(APPLICATIONS)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.timeout(int(1800 + PRECONDITION_SECONDS + 2 * SETTLE_SECONDS)),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    infra = Infra.from_environment()
    if not (infra.var_dir / "run" / "kafka.pid").exists():
        pytest.fail(
            f"the fault suite's private infrastructure is not running in {infra.var_dir}: "
            "run `make test-faults` (it starts and stops it)"
        )
    stack = Stack(infra, run_id=f"f{SEED}")
    stack.start_all()
    try:
        yield stack
    finally:
        stack.stop_all()


async def test_no_application_judgement_notice_or_mail_is_lost_or_doubled(stack: Stack) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    lines = APPLICATIONS * LINES_PER_APPLICATION
    log(f"seed {SEED}: {APPLICATIONS} applications × {LINES_PER_APPLICATION} lines")

    # --- preconditions, through the APIs, before the faults -------------------------------
    async with httpx.AsyncClient(timeout=30) as client:
        workers, plan = await prepare(stack, client, tally, APPLICATIONS, SEED)

        # --- the load, with the faults ---------------------------------------------------
        chaos = Chaos(stack, rng, kills_per_service=KILLS, smtp_outage_seconds=SMTP_OUTAGE_SECONDS)
        flow_started = time.monotonic()

        async def progress(done: int) -> None:
            if done % 10 == 0:
                log(f"submitted {done}/{len(plan)}")

        chaos_task = asyncio.create_task(chaos.run())
        submitted = await apply_all(stack, client, tally, plan, 6, progress)
        took = time.monotonic() - flow_started
        log(f"all {len(submitted)} applications submitted in {took:.0f} s")
        await chaos_task

    # --- afterwards: everything back up, wait until the work is done, count ----------------
    await asyncio.to_thread(stack.ensure_running)
    await settle(stack, lines, len(submitted), SETTLE_SECONDS)
    counts = await count(stack, submitted)
    seconds = time.monotonic() - flow_started
    print("\n" + table(counts, dict(chaos.injected), seconds, tally.retries), flush=True)

    assert len(submitted) == APPLICATIONS
    assert counts.losses == [], counts.losses[:20]
    assert counts.doubled == [], counts.doubled[:20]
    assert counts.outbox_pending == {}
    assert counts.dead_letters == {}
    assert chaos.injected["restart kafka"] == 1
    assert chaos.injected["restart database (postgresql + ferretdb)"] == 1

    # --- second phase: every line re-judged while judgement, document, notification die ---
    employers_applied = len({s.employer_id for s in submitted})
    rejudge_started = time.monotonic()
    summary = await rejudge_under_kills(stack, rng, {w.trade for w in workers})
    assert summary["selected"] == lines, summary
    await settle_rejudgement(stack, lines, employers_applied, SETTLE_SECONDS)
    again = await count_rejudgement(stack, submitted, summary["run_id"])
    print(
        "\n" + table(again, summary["faults"], time.monotonic() - rejudge_started, {}), flush=True
    )
    assert again.losses == [], again.losses[:20]
    assert again.doubled == [], again.doubled[:20]
    assert again.outbox_pending == {}
    assert again.dead_letters == {}
    assert set(summary["faults"]) == {f"kill -9 {name}" for name in KILLED}
