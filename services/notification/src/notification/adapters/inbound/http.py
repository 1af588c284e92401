"""HTTP routes of the notification service (port 8005): the operators' mail log.

* ``GET /mails``: every mail recorded (to, template, event id, times, status, error),
  newest first, filterable; never the body or any secret;
* ``POST /mails/{mail_id}/retry``: send a failed mail again (after the address or the
  server was fixed).

The service comes through ``get_service`` (wired by ``inject.py``); refusals are the core's
``DomainError``s, answered through ``STATUS``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from notification.core.compose import TEMPLATES
from notification.core.mails import MailStatus
from notification.core.service import NotificationService
from shared_kernel.infra.auth import require
from shared_kernel.principal import Principal

router = APIRouter()
STATUS = {"mail_not_found": 404, "mail_not_failed": 409}
"""The core's error codes and their HTTP status."""


def get_service() -> NotificationService:
    """Placeholder: ``inject.py`` overrides it with the wired service."""
    raise NotImplementedError


Service = Annotated[NotificationService, Depends(get_service)]
Operator = Annotated[Principal, Depends(require("operator"))]


class MailView(BaseModel):
    id: str
    to: str | None
    template: str
    event_id: str
    event_type: str
    employer_id: str | None
    subject: str
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    next_attempt_at: datetime | None
    message_id: str


@router.get("/", summary="サービス情報")
async def about() -> dict[str, Any]:
    return {"service": "notification", "title": "通知サービス", "templates": list(TEMPLATES)}


@router.get("/mails", summary="送信メールの記録（運用者）", response_model=list[MailView])
async def list_mails(
    service: Service,
    _: Operator,
    status: MailStatus | None = None,
    template: str | None = None,
    to: str | None = None,
    event_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await service.list_mails(
        status=status, template=template, to=to, event_id=event_id, limit=limit
    )


@router.post("/mails/{mail_id}/retry", summary="送信に失敗したメールの再送（運用者）")
async def retry_mail(service: Service, _: Operator, mail_id: str) -> MailView:
    return MailView.model_validate(await service.requeue(mail_id))
