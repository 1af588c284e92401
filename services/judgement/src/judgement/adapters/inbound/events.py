"""Event handlers of the judgement service (consumer group ``judgement``)."""

from __future__ import annotations

import asyncio

from judgement.core.service import JudgementService
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CcusWorkerSnapshot,
    ConsentGranted,
    ConsentRejected,
)
from shared_kernel.kafka import EventConsumer
from shared_kernel.logging import get_logger

log = get_logger(__name__)


def subscribe(consumer: EventConsumer, service: JudgementService) -> None:
    consumer.handle(CcusWorkerSnapshot, service.on_snapshot)
    consumer.handle(ApplicationSubmitted, service.on_application_submitted)
    consumer.handle(ApplicationWithdrawn, service.on_withdrawn)
    consumer.handle(ConsentGranted, service.on_consent_granted)
    consumer.handle(ConsentRejected, service.on_consent_rejected)


async def sweep_deadlines(service: JudgementService, every_seconds: float) -> None:
    """Background job: reject lines whose CCUS data did not arrive in time."""
    while True:
        try:
            await service.expire_waiting()
        except Exception:
            log.exception("judgement.expiry_sweep_failed")
        await asyncio.sleep(every_seconds)
