"""The faults: kill -9 of consumer services, Kafka and database restarts, an SMTP outage.

``Chaos.run`` works through a shuffled plan (seeded: ``FAULT_SEED``) with random pauses,
so each fault falls at a random moment of the load. Blocking work (scripts, waits) runs in
threads so the load driver keeps going meanwhile.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.faults.stack import CONSUMERS, ServiceProcess, Stack


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Chaos:
    stack: Stack
    rng: random.Random
    kills_per_service: int = 2
    smtp_outage_seconds: float = 60
    pause: tuple[float, float] = (2.0, 6.0)
    injected: Counter[str] = field(default_factory=Counter)
    second: ServiceProcess | None = None

    def plan(self) -> list[str]:
        steps = [f"kill {name}" for name in CONSUMERS for _ in range(self.kills_per_service)]
        steps += ["restart kafka", "restart database", "start second notification"]
        self.rng.shuffle(steps)
        # the second instance must exist before its partner is killed under it
        steps.remove("start second notification")
        first = min(i for i, s in enumerate(steps) if s == "kill notification")
        steps.insert(first, "start second notification")
        steps.insert(len(steps) - 1, "kill notification (second instance's partner)")
        return steps

    async def run(self) -> None:
        outage = asyncio.create_task(self.smtp_outage())
        for step in self.plan():
            await asyncio.sleep(self.rng.uniform(*self.pause))
            await self.revive()
            await asyncio.to_thread(self.do, step)
        await outage
        await self.revive()

    def do(self, step: str) -> None:
        log(step)
        if step.startswith("kill "):
            name = step.split()[1]
            victim = self.stack.processes[name][0]
            victim.kill9()
            self.injected[f"kill -9 {name}"] += 1
            time.sleep(self.rng.uniform(0.5, 3.0))
            self.restart(victim)
        elif step == "restart kafka":
            self.stack.infra.stop("kafka")
            time.sleep(self.rng.uniform(2, 8))
            self.stack.infra.start("kafka")
            self.injected["restart kafka"] += 1
        elif step == "restart database":
            self.stack.infra.stop("ferretdb", "postgresql")
            time.sleep(self.rng.uniform(2, 8))
            self.stack.infra.start("postgresql", "ferretdb")
            self.injected["restart database (postgresql + ferretdb)"] += 1
        elif step == "start second notification":
            self.second = self.stack.start("notification", 1, wait=False)
            self.injected["second notification instance started"] += 1

    async def smtp_outage(self) -> None:
        await asyncio.sleep(self.rng.uniform(5, 20))
        log(f"SMTP sink stopped for {self.smtp_outage_seconds:.0f} s")
        await asyncio.to_thread(self.stack.infra.stop, "smtp-sink")
        await asyncio.sleep(self.smtp_outage_seconds)
        await asyncio.to_thread(self.stack.infra.start, "smtp-sink")
        self.injected[f"SMTP sink stopped {self.smtp_outage_seconds:.0f} s"] += 1
        log("SMTP sink back")

    def restart(self, process: ServiceProcess) -> None:
        """Start again; a start while Kafka or the database is down may fail: try again."""
        for _ in range(20):
            process.start()
            try:
                process.wait_ready(90)
                return
            except (RuntimeError, TimeoutError) as exc:
                log(f"{process.label} did not come up ({exc}); starting it again")
                process.stop()
                time.sleep(2)
        raise RuntimeError(f"{process.label} would not start")

    async def revive(self) -> None:
        """A process that died on its own (e.g. started while Kafka was down) is restarted."""
        for process in list(self.stack.all_processes()):
            if not process.alive():
                log(f"{process.label} is down, restarting")
                await asyncio.to_thread(self.restart, process)


@dataclass
class PartitionState:
    """Leaders and in-sync replicas of the run's topics (``partition_state``)."""

    partitions: int = 0
    leaderless: int = 0
    under_replicated: int = 0
    """Partitions with fewer in-sync replicas than replicas."""
    leaders: Counter[int] = field(default_factory=Counter)
    replicas: Counter[int] = field(default_factory=Counter)
    """How many partitions have that many replicas."""

    def __str__(self) -> str:
        led = ", ".join(f"kafka-{n} {c}" for n, c in sorted(self.leaders.items()))
        return (
            f"{self.partitions} partitions, {self.leaderless} without a leader, "
            f"{self.under_replicated} under-replicated; leaders: {led}"
        )


async def partition_state(stack: Stack) -> PartitionState:
    """Leader and ISR of every partition of the run's topics, from the cluster's metadata."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.kafka, request_timeout_ms=10000)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(stack.topic_prefix)]
        described = await admin.describe_topics(names) if names else []
    finally:
        await admin.close()
    state = PartitionState()
    for topic in described:
        for p in topic["partitions"]:
            state.partitions += 1
            state.replicas[len(p["replicas"])] += 1
            if p["leader"] < 0:
                state.leaderless += 1
            else:
                state.leaders[p["leader"]] += 1
            if len(p["isr"]) < len(p["replicas"]):
                state.under_replicated += 1
    return state


@dataclass
class BrokerLoss:
    """One of the three Kafka nodes killed with SIGKILL under load and started again later.

    The victim is ``node``, or (``None``) the node that leads most partitions of the run's
    topics at that moment (among equals, one drawn with the seed; it may or may not be the
    active KRaft controller): its partitions must elect new leaders among the in-sync replicas
    while the services keep producing (``acks=all``, ``min.insync.replicas=2``) and consuming.
    Services that die meanwhile are started again (``Chaos.revive``).
    """

    stack: Stack
    chaos: Chaos
    down_seconds: float = 60
    node: int | None = None
    victim: int = 0
    load_done: Callable[[], int] = lambda: 0
    """How many applications are submitted so far (reported with the kill and restart)."""
    injected: Counter[str] = field(default_factory=Counter)
    figures: dict[str, str] = field(default_factory=dict)

    async def run(self, when: asyncio.Event) -> None:
        await when.wait()
        before = await partition_state(self.stack)
        # the busiest node; among equals (leadership is balanced) one chosen by the seed
        ties = {n: self.chaos.rng.random() for n in before.leaders}
        self.victim = self.node or max(ties, key=lambda n: (before.leaders[n], ties[n]))
        log(f"before the kill: {before}")
        pid = await asyncio.to_thread(self.stack.infra.kill_broker, self.victim)
        killed = time.monotonic()
        self.injected[f"kill -9 kafka-{self.victim}"] += 1
        log(f"kafka-{self.victim} (pid {pid}, leader of {before.leaders[self.victim]}) killed")
        self.figures["leader of partitions when killed"] = str(before.leaders[self.victim])
        self.figures["applications submitted at the kill"] = str(self.load_done())
        moved = False
        while time.monotonic() - killed < self.down_seconds:
            await asyncio.sleep(3)
            await self.chaos.revive()
            try:
                state = await partition_state(self.stack)
            except Exception as exc:  # metadata while a leader moves
                log(f"partition state unknown: {exc!r}")
                continue
            if not moved and state.leaderless == 0 and self.victim not in state.leaders:
                moved = True
                took = time.monotonic() - killed
                self.figures["every partition led again after"] = f"{took:.0f} s"
                log(f"{took:.0f} s after the kill: {state}")
        log(f"kafka-{self.victim} down {time.monotonic() - killed:.0f} s, starting it again")
        self.figures["applications submitted at the restart"] = str(self.load_done())
        restarted = time.monotonic()
        await asyncio.to_thread(self.stack.infra.start, f"kafka-{self.victim}")
        self.figures["start.sh took"] = f"{time.monotonic() - restarted:.0f} s"
        self.injected[f"kafka-{self.victim} started again"] += 1
        while True:
            state = await partition_state(self.stack)
            if state.under_replicated == 0 or time.monotonic() - restarted > 300:
                break
            await asyncio.sleep(2)
        took = time.monotonic() - restarted
        self.figures["in sync again after the restart"] = f"{took:.0f} s"
        log(f"{took:.0f} s after the restart: {state}")
        await self.chaos.revive()
