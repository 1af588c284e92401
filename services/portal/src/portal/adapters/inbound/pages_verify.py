"""結果通知書の真正性の確認 (public, no login): the document service's ``/verify`` passed through.

Only the portal is reachable from outside (deploy/k8s NetworkPolicies), so the address
printed in every notice and its QR code is the portal's (``DOCUMENT_PUBLIC_BASE_URL`` = the
portal's public base URL) and the portal hands the request to the document service:

* ``GET /verify/{code}`` — is the notice with this code authentic and current (a Japanese
  page for browsers, JSON otherwise: the document service decides by ``Accept``);
* ``POST /verify`` — is this PDF (raw body or a multipart upload, as the document's page
  sends it) a notice we issued. The body is capped while it is read (``body_limit``:
  ``VERIFY_PDF_BYTES`` plus the multipart allowance) and sent on as it came.

The document service's answer (status, body, content type) is returned as it is; it is
Japanese already (200, 404 unknown code, 413/422 not a PDF …). A document service that does
not answer, or answers 5xx, gives the portal's Japanese 503 page (JSON for non-browsers).
No session cookie is read or set (``web.UNCOOKIED``); no CSRF token is asked for: nothing
is changed, and the document's page posts its form here without one.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.web import RETRY_AFTER_SECONDS, wants_html
from portal.adapters.outbound.services import ServiceUnavailable
from portal.ports.transport import Reply

router = APIRouter()

PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The document's verification page has one inline style block and no script: allowed as
such (the portal's own pages keep ``style-src 'self'``)."""
PASSED_HEADERS = ("content-type", "cache-control")


def _answer(reply: Reply) -> Response:
    if reply.status >= 500:
        raise ServiceUnavailable("document", f"HTTP {reply.status}")
    headers = {name: value for name in PASSED_HEADERS if (value := reply.header(name))}
    headers.setdefault("cache-control", "no-store")
    if (headers.get("content-type") or "").startswith("text/html"):
        headers["content-security-policy"] = PAGE_POLICY
    return Response(reply.body, status_code=reply.status, headers=headers)


async def _passed(
    request: Request,
    portal: Portal,
    method: str,
    path: str,
    body: bytes | None = None,
) -> Response:
    """The document service's answer; down: the 503 page, or JSON for an API client."""
    accept = request.headers.get("accept")
    headers = [("Accept", accept)] if accept else []
    content_type = request.headers.get("content-type")
    if body is not None and content_type:
        headers.append(("Content-Type", content_type))
    try:
        reply = await portal.services.send("document", method, path, content=body, headers=headers)
        return _answer(reply)
    except ServiceUnavailable as exc:
        if wants_html(request):
            raise  # the portal's Japanese 503 page
        return JSONResponse(
            {"code": "service_unavailable", "message": exc.message},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS, "Cache-Control": "no-store"},
        )


@router.get("/verify/{code}", summary="結果通知書の真正性の確認（公開）", response_model=None)
async def verify_code(request: Request, portal: PortalDep, code: str) -> Response:
    return await _passed(request, portal, "GET", f"/verify/{quote(code, safe='')}")


@router.post(
    "/verify",
    summary="PDFファイルが発行された結果通知書と同一かの確認（公開）",
    response_model=None,
)
async def verify_file(request: Request, portal: PortalDep) -> Response:
    body = await request.body()  # capped by body_limit.BodyLimit while it is read
    return await _passed(request, portal, "POST", "/verify", body)
