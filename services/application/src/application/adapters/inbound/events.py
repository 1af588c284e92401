"""Event handlers of the application service (consumer group ``application``).

* ConsentGranted / ConsentRejected: the read model of the workers that may be chosen;
* JudgementStarted: the line is 判定中 (from then on no withdrawal);
* JudgementCompletedV2: the line is 判定完了 (承認 / 不承認), or, for a re-judgement (再判定,
  a higher ``sequence``), its result is replaced; a line's first judgement ends the
  worker's consent when the consent's own term says so (``ConsentGranted``); a re-judgement
  ends nothing;
* ResultNoticeGenerated: the line keeps the 結果通知書 issued (for the result list's summary).

Also the 押し忘れ防止 job: a periodic sweep for drafts left unsubmitted.
"""

from __future__ import annotations

import asyncio

from application.core.service import ApplicationService
from shared_kernel.context import get_logger
from shared_kernel.events.catalogue import (
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
    JudgementStarted,
    ResultNoticeGenerated,
)
from shared_kernel.infra.kafka import EventConsumer

log = get_logger(__name__)


def subscribe(consumer: EventConsumer, service: ApplicationService) -> None:
    consumer.handle(ConsentGranted, service.on_consent_granted)
    consumer.handle(ConsentRejected, service.on_consent_rejected)
    consumer.handle(JudgementStarted, service.on_judgement_started)
    consumer.handle(JudgementCompletedV2, service.on_judgement_completed)
    consumer.handle(ResultNoticeGenerated, service.on_notice_generated)


async def remind_drafts(service: ApplicationService, every_seconds: float) -> None:
    """Background job: ApplicationDraftReminder for drafts left unsubmitted."""
    while True:
        try:
            await service.send_reminders()
        except Exception:
            log.exception("application.reminder_sweep_failed")
        await asyncio.sleep(every_seconds)
