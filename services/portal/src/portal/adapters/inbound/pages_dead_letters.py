"""デッドレター (role ``operator``): the events a service failed to handle, and their replay.

Built on each consuming service's dead-letter API (``shared_kernel.infra.dlq_http``): the list
gathers ``GET /dead-letters`` of every service, the detail page shows the headers, the error
and the payload with personal data masked, and 再投入 posts ``.../replay`` with the
operator's reason (audited by the service). A service that does not answer is named on the
page instead of failing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from portal.adapters.inbound import web
from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.pages_ops import SERVICE_JA
from portal.adapters.outbound.services import (
    NotFound,
    PortalError,
    ServiceError,
    ServiceUnavailable,
    error_of,
    json_of,
)

router = APIRouter(dependencies=[web.login_as("operator")])
CONSUMERS = ("consent", "application", "judgement", "notification", "document")


@dataclass(frozen=True)
class Letter:
    """Where a dead letter is: its service, and the topic, partition and offset it came from."""

    service: str
    topic: str
    partition: int
    offset: int

    @property
    def api_path(self) -> str:
        """The letter in its service's dead-letter API."""
        return f"/dead-letters/{quote(self.topic, safe='')}/{self.partition}/{self.offset}"

    @property
    def page_path(self) -> str:
        """The letter's page in the portal."""
        return f"/ops/dead-letters/{self.service}" + self.api_path.removeprefix("/dead-letters")


LetterDep = Annotated[Letter, Depends()]
"""The letter named by the page's address (``{service}/{topic}/{partition}/{offset}``)."""


@router.get("/ops/dead-letters", summary="デッドレター一覧", response_model=None)
async def dead_letters(request: Request, portal: PortalDep) -> Response:
    api = web.user_api(request, portal)
    rows: list[dict[str, Any]] = []
    unreachable: list[str] = []
    for service in CONSUMERS:
        try:
            found = await api.get(service, "/dead-letters")
        except (ServiceUnavailable, ServiceError):
            unreachable.append(SERVICE_JA.get(service, service))
            continue
        for letter in found:
            path = Letter(
                service, str(letter["topic"]), int(letter["partition"]), int(letter["offset"])
            ).page_path
            rows.append(
                {
                    **letter,
                    "service": service,
                    "service_ja": SERVICE_JA.get(service, service),
                    "path": path,
                }
            )
    rows.sort(key=lambda r: r.get("failed_at") or "", reverse=True)
    return web.render(
        request,
        "ops_dead_letters.html",
        {
            "letters": rows,
            "unreachable": unreachable,
            "waiting": sum(1 for r in rows if not r["replays"]),
        },
    )


async def _detail(
    request: Request,
    portal: Portal,
    at: Letter,
    error: str | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    if at.service not in CONSUMERS:
        raise NotFound()
    letter = await web.user_api(request, portal).get(at.service, at.api_path)
    return web.render(
        request,
        "ops_dead_letter.html",
        {
            "letter": letter,
            "service": at.service,
            "service_ja": SERVICE_JA.get(at.service, at.service),
            "payload": json.dumps(letter["payload"], ensure_ascii=False, indent=2),
            "action": at.page_path + "/replay",
            "error": error,
            "reason": reason,
        },
        status_code=status_code,
    )


@router.get(
    "/ops/dead-letters/{service}/{topic}/{partition}/{offset}",
    summary="デッドレターの詳細",
    response_model=None,
)
async def dead_letter(request: Request, portal: PortalDep, at: LetterDep) -> Response:
    return await _detail(request, portal, at)


@router.post("/ops/dead-letters/{service}/{topic}/{partition}/{offset}/replay", response_model=None)
async def replay(request: Request, portal: PortalDep, at: LetterDep) -> Response:
    values = web.text_fields(await web.checked_form(request))
    reason = values.get("reason", "").strip()
    if at.service not in CONSUMERS:
        raise NotFound()
    if not reason:
        return await _detail(
            request, portal, at, "再投入の理由を入力してください。", status_code=422
        )
    api = web.user_api(request, portal)
    reply = await api.call(at.service, "POST", at.api_path + "/replay", json={"reason": reason})
    if not reply.ok:
        failure: PortalError = error_of(at.service, reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return await _detail(request, portal, at, failure.message, reason, failure.status)
    result = json_of(at.service, reply)
    web.session_of(request).add_flash(
        "success",
        f"イベントを {result['original_topic']} へ再投入しました"
        f"（相関ID {result['correlation_id']}）。",
    )
    return web.redirect("/ops/dead-letters")
