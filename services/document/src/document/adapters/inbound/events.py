"""Event handlers of the document service (consumer group ``document``)."""

from document.core.service import DocumentService
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    UserActivated,
)
from shared_kernel.infra.kafka import EventConsumer


def subscribe(consumer: EventConsumer, service: DocumentService) -> None:
    consumer.handle(UserActivated, service.on_user)
    consumer.handle(JudgementCompletedV2, service.on_judgement)
