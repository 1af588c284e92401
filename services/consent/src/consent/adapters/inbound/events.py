"""Event handlers of the consent service (consumer group ``consent``).

* CcusWorkerSnapshot: the read model of CCUS workers the checks compare against;
* ApplicationSubmitted: the 分野 each worker was applied for (which evaluators bound to 分野
  see his consents: docs/security.md);
* JudgementCompleted v2: a line's first judgement ends the employer's granted consent for
  that worker; a re-judgement ends nothing (when ``CONSENT_END_ON_JUDGEMENT`` is on; the
  rule: docs/consent.md "End by judgement"). Nothing publishes v1 any more.
"""

from __future__ import annotations

from consent.core.service import ConsentService
from shared_kernel.events.catalogue import (
    ApplicationSubmitted,
    CcusWorkerSnapshot,
    JudgementCompletedV2,
)
from shared_kernel.infra.kafka import EventConsumer


def subscribe(consumer: EventConsumer, service: ConsentService, *, end_on_judgement: bool) -> None:
    consumer.handle(CcusWorkerSnapshot, service.on_snapshot)
    consumer.handle(ApplicationSubmitted, service.on_application_submitted)
    if end_on_judgement:
        consumer.handle(JudgementCompletedV2, service.on_judgement_completed)
