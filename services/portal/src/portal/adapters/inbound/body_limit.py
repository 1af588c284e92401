"""Request body limits of the portal, enforced while the body is read (issue 22, finding 7).

Before, a form was parsed whatever its size: an anonymous ``POST /login`` with 100 MB was
read (and its multipart parts spooled to disk), and the signed-form upload read the whole
body before its own limit was checked. This ASGI middleware is the outermost layer of the
app, so nothing reads a byte before it counts it:

* a declared ``Content-Length`` over the route's limit is refused before anything is read;
* otherwise every chunk is counted as the app reads it, and the read stops at the first
  chunk past the limit (chunked bodies without a length included);
* either way the answer is 413 with a Japanese page (JSON for non-HTML clients), carrying
  the portal's security headers; the handler never runs to its end, nothing is sent to a
  service.

Limits per route: the signed-form upload (``POST /consents/{id}/signed-form``) may carry
``PORTAL_MAX_UPLOAD_BYTES`` plus ``MULTIPART_ALLOWANCE`` for the multipart framing and
the CSRF field (the handler still tells a file just over the limit apart, in a flash
message); the criteria YAML upload (``POST /criteria/drafts/upload``, docs/criteria-admin.md)
``CRITERIA_YAML_BYTES`` (1 MB, the judgement service's own limit) plus the same allowance;
the public PDF check (``POST /verify``, passed to the document service) ``VERIFY_PDF_BYTES``
(10 MB, the document service's own limit) plus the same allowance; every other request
``PORTAL_MAX_FORM_BYTES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.config import Settings
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)

UPLOAD_ROUTE = re.compile(r"^/consents/[^/]+/signed-form$")
CRITERIA_YAML_ROUTE = "/criteria/drafts/upload"
CRITERIA_YAML_BYTES = 1024 * 1024
"""Largest criteria table (YAML) an editor may upload: the judgement service's limit."""
VERIFY_ROUTE = "/verify"
VERIFY_PDF_BYTES = 10 * 1024 * 1024
"""Largest 結果通知書 PDF anyone may have checked: the document service's limit."""
MULTIPART_ALLOWANCE = 64 * 1024
"""Room for the multipart boundaries, part headers and the CSRF token around the file."""


class BodyTooLarge(Exception):
    """Raised inside the app when its body read passes the route's limit; ``message``: what
    the refusal tells the user."""

    def __init__(self, limit: int, message: str = "") -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit
        self.message = message


Answer = Callable[[Request, Exception], Response]
Headers = Callable[[Request, bool], dict[str, str]]


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and UPLOAD_ROUTE.fullmatch(path) is not None


def is_criteria_upload(method: str, path: str) -> bool:
    return method == "POST" and path == CRITERIA_YAML_ROUTE


def is_verify(method: str, path: str) -> bool:
    return method == "POST" and path == VERIFY_ROUTE


def limit_for(settings: Settings, method: str, path: str) -> int:
    """The most body bytes the route may be sent."""
    if is_upload(method, path):
        return settings.max_upload_bytes + MULTIPART_ALLOWANCE
    if is_criteria_upload(method, path):
        return CRITERIA_YAML_BYTES + MULTIPART_ALLOWANCE
    if is_verify(method, path):
        return VERIFY_PDF_BYTES + MULTIPART_ALLOWANCE
    return settings.max_form_bytes


def size_ja(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.3g}MB"
    return f"{max(1, limit // 1024)}KB"


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """The outermost ASGI layer of the portal: see the module."""

    def __init__(self, app: ASGIApp, settings: Settings, answer: Answer, headers: Headers) -> None:
        """``answer``: the portal's error answers (``web.error_answer``); ``headers``: its
        security headers (``web.security_headers``)."""
        self.app = app
        self.settings = settings
        self.answer = answer
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(self.settings, scope["method"], scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await self.refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BaseException as exc:
            if started or not _too_large(exc):
                raise
            await self.refuse(scope, receive, send, limit)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        settings = self.settings
        request = Request(scope, receive)
        log.warning(
            "portal.body_too_large",
            method=scope["method"],
            path=scope["path"],
            limit=limit,
            declared=declared_length(scope),
        )
        upload = is_upload(scope["method"], scope["path"])
        if upload:
            message = (
                f"送信されたデータが大きすぎます（上限{size_ja(limit)}）。"
                f"添付ファイルは{size_ja(settings.max_upload_bytes)}以下にしてください。"
            )
        elif is_criteria_upload(scope["method"], scope["path"]):
            message = (
                f"送信されたデータが大きすぎます（上限{size_ja(limit)}）。"
                f"アップロードできる判定基準のファイル（YAML）は{size_ja(CRITERIA_YAML_BYTES)}までです。"
            )
        elif is_verify(scope["method"], scope["path"]):
            message = (
                f"送信されたデータが大きすぎます（上限{size_ja(limit)}）。"
                f"確認できる結果通知書のPDFファイルは{size_ja(VERIFY_PDF_BYTES)}までです。"
            )
        else:
            message = (
                f"送信された内容が大きすぎます（上限{size_ja(limit)}）。"
                "入力内容を確認して、もう一度送信してください。"
            )
        response = self.answer(request, BodyTooLarge(limit, message))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Connection"] = "close"
        for name, value in self.headers(request, settings.https_only).items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)


def _too_large(exc: BaseException) -> bool:
    """``BodyTooLarge``, also wrapped in exception groups (task groups of middlewares)."""
    if isinstance(exc, BodyTooLarge):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_too_large(e) for e in exc.exceptions)
    return False
