"""A service-shaped consumer run as its own process by the exactly-once proof test.

It consumes ApplicationSubmitted under its consumer group and stores one effect per
application (a counter of lines judged) in its own database, recording the event id in
the same single-document write. ``CRASH_AFTER_EFFECT=1`` makes it die (``os._exit``)
right after storing the effect, before the inbox record and the offset commit.
``FAIL_APPLICATIONS`` lists application ids whose handler always raises.
"""

from __future__ import annotations

import asyncio
import os
import signal

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ApplicationSubmitted
from shared_kernel.infra.logging import configure_logging
from shared_kernel.infra.mongo import Document
from shared_kernel.infra.runtime import build_runtime, running
from shared_kernel.infra.settings import ServiceSettings


async def main() -> None:
    settings = ServiceSettings()
    configure_logging(settings.service_name)
    runtime = build_runtime(settings)
    effects = runtime.store("effects")
    attempts = runtime.store("attempts")
    crash = os.environ.get("CRASH_AFTER_EFFECT") == "1"
    failing = set(filter(None, os.environ.get("FAIL_APPLICATIONS", "").split(",")))

    @runtime.consumer.on(ApplicationSubmitted)
    async def judge(envelope: Envelope) -> None:
        event = envelope.event
        assert isinstance(event, ApplicationSubmitted)

        def count_attempt(doc: Document | None) -> tuple[Document, list[Envelope]]:
            return {"_id": event.application_id, "n": (doc or {"n": 0})["n"] + 1}, []

        await attempts.update(event.application_id, count_attempt)
        if event.application_id in failing:
            raise ValueError(f"cannot judge {event.application_id}")

        def apply(doc: Document | None) -> tuple[Document, list[Envelope]]:
            judged = (doc or {"lines_judged": 0})["lines_judged"] + len(event.lines)
            return {"_id": event.application_id, "lines_judged": judged}, []

        await effects.update(event.application_id, apply, applied_event_id=envelope.id)
        if crash:
            os._exit(17)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with running(runtime, relay=False):
        print("consumer-ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
