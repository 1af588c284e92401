"""Event handlers of the notification service (consumer group ``notification``)."""

from __future__ import annotations

from notification.core.service import NotificationService
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
    RejudgementPlanned,
    ResultNoticeGenerated,
    UserActivated,
    UserProvisionallyRegisteredV2,
)
from shared_kernel.infra.kafka import EventConsumer


def subscribe(consumer: EventConsumer, service: NotificationService) -> None:
    consumer.handle(UserProvisionallyRegisteredV2, service.on_provisionally_registered)
    consumer.handle(UserActivated, service.on_activated)
    consumer.handle(ConsentGranted, service.on_consent_granted)
    consumer.handle(ConsentRejected, service.on_consent_rejected)
    consumer.handle(ApplicationSubmitted, service.on_application_submitted)
    consumer.handle(ApplicationDraftReminder, service.on_draft_reminder)
    consumer.handle(ApplicationWithdrawn, service.on_withdrawn)
    consumer.handle(JudgementCompletedV2, service.on_judgement_completed)
    consumer.handle(RejudgementPlanned, service.on_rejudgement_planned)
    consumer.handle(ResultNoticeGenerated, service.on_notice_generated)
