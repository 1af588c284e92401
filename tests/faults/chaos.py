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
