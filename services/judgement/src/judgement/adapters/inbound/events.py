"""Event handlers of the judgement service (consumer group ``judgement``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from judgement.core.service import JudgementService
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusWorkerSnapshot,
    ConsentGranted,
    ConsentRejected,
)
from shared_kernel.infra.kafka import EventConsumer
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
Handler = Callable[[Envelope], Awaitable[None]]


def subscribe(
    consumer: EventConsumer,
    service: JudgementService,
    *,
    ready: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Register the handlers; with ``ready``, each first awaits it (the master in force is
    built before anything is judged: a failure there is transient, the message retried)."""

    def gated(handler: Handler) -> Handler:
        if ready is None:
            return handler

        async def handle(envelope: Envelope) -> None:
            await ready()
            await handler(envelope)

        return handle

    consumer.handle(CcusWorkerSnapshot, gated(service.on_snapshot))
    consumer.handle(ApplicationSubmitted, gated(service.on_application_submitted))
    consumer.handle(ApplicationWithdrawn, gated(service.on_withdrawn))
    consumer.handle(ConsentGranted, gated(service.on_consent_granted))
    consumer.handle(ConsentRejected, gated(service.on_consent_rejected))


async def sweep_deadlines(service: JudgementService, every_seconds: float) -> None:
    """Background job: reject lines whose CCUS data did not arrive in time."""
    while True:
        try:
            await service.expire_waiting()
        except Exception:
            log.exception("judgement.expiry_sweep_failed")
        await asyncio.sleep(every_seconds)
