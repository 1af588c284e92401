"""Fault test: one of three Kafka nodes killed under load (issue 23).

On the three-node KRaft cluster of ``deploy/local`` (``KAFKA_BROKERS=3``: replication 3,
``min.insync.replicas`` 2, no automatic topic creation; the services get all three
addresses and create their topics with ``TOPIC_MIN_INSYNC_REPLICAS=2``),
``FAULT_APPLICATIONS`` (default 200) applications of 5 worker lines go through the
application service's HTTP API. When ``FAULT_BROKER_KILL_AT`` (default a random 20–40 %) of
them are submitted, one node — ``FAULT_BROKER`` (1–3), by default the one leading most of
the run's partitions at that moment — is killed with SIGKILL and started again
``FAULT_BROKER_DOWN_SECONDS`` (default 60) later. Afterwards every application must be
completed, every line judged once, noticed once, every mail sent once (in the databases, in
Kafka and in the SMTP sink): 0 lost, 0 doubled; no outbox entry and no dead letter left,
and every partition in sync on three replicas again.

Runs on its own infrastructure: ``make test-faults-brokers`` (docs/faults.md). Skipped on
the single-node instance of ``make test-faults``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.faults.chaos import BrokerLoss, Chaos, log, partition_state
from tests.faults.counts import count, table
from tests.faults.journey import Tally, apply_all
from tests.faults.phases import (
    LINES_PER_APPLICATION,
    precondition_seconds,
    prepare,
    settle,
    settle_seconds,
)
from tests.faults.stack import Infra, Stack

APPLICATIONS = int(os.environ.get("FAULT_APPLICATIONS", "200"))
SEED = int(os.environ.get("FAULT_SEED", str(int(time.time()))))
SETTLE_SECONDS = float(os.environ.get("FAULT_SETTLE_SECONDS", settle_seconds(APPLICATIONS)))
DOWN_SECONDS = float(os.environ.get("FAULT_BROKER_DOWN_SECONDS", "60"))
VICTIM = int(os.environ["FAULT_BROKER"]) if os.environ.get("FAULT_BROKER") else None
KILL_AT = float(os.environ.get("FAULT_BROKER_KILL_AT", "0") or 0)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.timeout(
        int(1800 + precondition_seconds(APPLICATIONS) + SETTLE_SECONDS + DOWN_SECONDS)
    ),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    infra = Infra.from_environment()
    if infra.brokers != 3:
        pytest.skip("needs the three-node Kafka cluster: make test-faults-brokers")
    if not all((infra.var_dir / "run" / f"kafka-{n}.pid").exists() for n in (1, 2, 3)):
        pytest.fail(
            f"the three Kafka nodes of the private infrastructure are not running in "
            f"{infra.var_dir}: run `make test-faults-brokers` (it starts and stops it)"
        )
    stack = Stack(infra, run_id=f"b{SEED}", extra_env={"TOPIC_MIN_INSYNC_REPLICAS": "2"})
    stack.start_all()
    try:
        yield stack
    finally:
        stack.stop_all()


async def topic_settings(stack: Stack, logical: str) -> tuple[set[int], str]:
    """Replica counts of a topic's partitions and its ``min.insync.replicas``."""
    topic = stack.topic_prefix + logical
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    values = {c[0]: c[1] for c in configs[0].resources[0][4]}
    return {len(p["replicas"]) for p in described[0]["partitions"]}, values["min.insync.replicas"]


async def consumer_lag(stack: Stack) -> dict[str, int]:
    """Records not yet committed by each of the run's consumer groups, per group and topic
    (only those behind): a consumer that stopped fetching shows here."""
    from aiokafka import AIOKafkaConsumer

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.infra.kafka, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    lag: dict[str, int] = {}
    try:
        groups = [g[0] for g in await admin.list_consumer_groups()]
        for group in sorted(g for g in groups if g.startswith(stack.topic_prefix)):
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed))
            for tp, meta in committed.items():
                behind = ends[tp] - max(meta.offset, 0)
                if behind > 0:
                    key = f"{group.removeprefix(stack.topic_prefix)} {tp.topic}[{tp.partition}]"
                    lag[key.replace(stack.topic_prefix, "")] = behind
    finally:
        await consumer.stop()
        await admin.close()
    return lag


async def test_one_broker_lost_under_load_loses_and_doubles_nothing(stack: Stack) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    lines = APPLICATIONS * LINES_PER_APPLICATION
    kill_at = KILL_AT or rng.uniform(0.2, 0.4)
    log(
        f"seed {SEED}: {APPLICATIONS} applications × {LINES_PER_APPLICATION} lines, "
        f"one of 3 Kafka nodes killed at {kill_at:.0%} of them, down {DOWN_SECONDS:.0f} s"
    )
    # the services created their topics on the cluster: replicated 3 times, min ISR 2
    for logical in ("judgement.judgements", "application.applications"):
        assert await topic_settings(stack, logical) == ({3}, "2"), logical

    async with httpx.AsyncClient(timeout=30) as client:
        _, plan = await prepare(stack, client, tally, APPLICATIONS, SEED)

        # --- the load; one node killed on the way and started again -----------------------
        so_far = [0]
        loss = BrokerLoss(
            stack,
            Chaos(stack, rng),
            down_seconds=DOWN_SECONDS,
            node=VICTIM,
            load_done=lambda: so_far[0],
        )
        when = asyncio.Event()
        threshold = max(1, round(len(plan) * kill_at))
        flow_started = time.monotonic()

        async def progress(done: int) -> None:
            so_far[0] = done
            if done >= threshold:
                when.set()
            if done % 10 == 0:
                log(f"submitted {done}/{len(plan)}")

        loss_task = asyncio.create_task(loss.run(when))
        submitted = await apply_all(stack, client, tally, plan, 6, progress)
        took = time.monotonic() - flow_started
        log(f"all {len(submitted)} applications submitted in {took:.0f} s")
        await loss_task

    # --- afterwards: everything back up, wait until the work is done, count ----------------
    await asyncio.to_thread(stack.ensure_running)
    await settle(stack, lines, len(submitted), SETTLE_SECONDS)
    counts = await count(stack, submitted)
    seconds = time.monotonic() - flow_started
    final = await partition_state(stack)
    lag = await consumer_lag(stack)
    print("\n" + table(counts, dict(loss.injected), seconds, tally.retries), flush=True)
    print(
        "broker loss: "
        + ", ".join(f"{k} {v}" for k, v in loss.figures.items())
        + f"; at the end: {final}",
        f"\nconsumer lag left: {sum(lag.values())} {lag}",
        flush=True,
    )

    assert len(submitted) == APPLICATIONS
    assert counts.losses == [], (counts.losses[:20], lag)
    assert counts.doubled == [], counts.doubled[:20]
    assert counts.outbox_pending == {}
    assert counts.dead_letters == {}
    assert loss.injected == {
        f"kill -9 kafka-{loss.victim}": 1,
        f"kafka-{loss.victim} started again": 1,
    }
    assert final.leaderless == 0 and final.under_replicated == 0, str(final)
    assert set(final.replicas) == {3}, final.replicas
