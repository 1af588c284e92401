"""The portal's web plumbing: templates, the session cookie, CSRF-checked forms, error pages.

Page handlers (``pages_*.py``) use:

* ``render(request, "x.html", {...})`` — a page with the session, CSRF token, flash
  messages and navigation in its context;
* ``await checked_form(request)`` — the submitted form after the CSRF check;
* ``user_api(request, portal)`` — the services with the user's token (``UserApi``); a route
  gets the running portal's parts as a parameter ``portal: PortalDep`` (``deps.py``);
* ``login_as(*roles)`` — the access check of a router or a route (``dependencies=[…]``): the
  session (``session_of(request)``), or a redirect to the login page (``require_login``).

``install(app, settings)`` adds the session middleware and the request body limits
(``body_limit``) and turns the portal's exceptions into Japanese pages, all through one table
(``ERROR_PAGES``, ``error_answer``): a service outage is a 503 page, never a traceback.

The session middleware also checks a logged-in cookie's session against the sessions
that ended (``shared_kernel.infra.auth``: the portal's own logouts at once, every other ended
session within ``AUTH_REVOCATION_REFRESH_SECONDS``): a copy of the cookie kept from before
a logout opens nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.adapters.inbound.body_limit import BodyLimit, BodyTooLarge
from portal.adapters.inbound.deps import Portal, portal_of_app
from portal.adapters.outbound.services import (
    Forbidden,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    SessionExpired,
    UserApi,
)
from portal.config import Settings
from portal.core import csrf
from portal.core.formatting import (
    criteria_version_ja,
    field_id,
    jp_date,
    jp_datetime,
    levels_span_ja,
    months_ja,
    yen,
)
from portal.core.session import Session
from shared_kernel.infra.auth import AuthUnavailable
from shared_kernel.infra.logging import get_logger
from shared_kernel.labels import decision_ja, level_ja

log = get_logger(__name__)

PACKAGE = Path(__file__).resolve().parents[2]
TEMPLATES = Jinja2Templates(directory=str(PACKAGE / "templates"))
TEMPLATES.env.filters.update(
    jp_date=jp_date,
    jp_datetime=jp_datetime,
    yen=yen,
    fid=field_id,
    level_ja=level_ja,
    months_ja=months_ja,
    decision_ja=decision_ja,
    criteria_version=criteria_version_ja,
    levels_span_ja=levels_span_ja,
)
UNCOOKIED = ("/healthz", "/readyz", "/metrics", "/static/", "/verify")
"""Paths answered without the session cookie (probes, assets, the public verification)."""
ROLE_HOME = {
    "employer": "/menu",
    "evaluator": "/review",
    "operator": "/ops",
    "criteria_editor": "/criteria",
    "criteria_approver": "/criteria",
}
ROLE_JA = {
    "employer": "所属事業者",
    "evaluator": "審査員（能力評価実施団体）",
    "operator": "運用担当",
    "criteria_editor": "基準編集者（能力評価実施団体）",
    "criteria_approver": "基準承認者",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(request: Request, https_only: bool) -> dict[str, str]:
    """Headers for every answer of the portal (pages, downloads, errors, JSON).

    ``Strict-Transport-Security`` only when the browser reached us over HTTPS (directly, or
    through a trusted proxy's ``X-Forwarded-Proto``) or ``PORTAL_HTTPS_ONLY`` says the portal
    is only served over HTTPS: sent over plain HTTP it would be ignored, and a development
    stack on http://127.0.0.1 must stay reachable.
    """
    headers = dict(SECURITY_HEADERS)
    if https_only or request.url.scheme == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A POST without the session's CSRF token (or from another origin)."""

    message = (
        "画面の有効期限が切れたか、正しくない送信です。"
        "お手数ですが、画面を開き直してからもう一度操作してください。"
    )


def session_of(request: Request) -> Session:
    session = getattr(request.state, "session", None)
    if not isinstance(session, Session):  # no middleware (tests of single handlers)
        session = Session(dirty=True)
        request.state.session = session
    return session


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_api(request: Request, portal: Portal) -> UserApi:
    return UserApi(portal.services, session_of(request), client_ip(request))


def require_login(request: Request, *roles: str) -> Session:
    """The logged-in session with one of ``roles`` (any role when none is given)."""
    session = session_of(request)
    if session.authenticated and getattr(request.state, "auth_unavailable", False):
        raise ServiceUnavailable("identity", "the list of ended sessions is too old")
    if not session.authenticated or session.expired(time.time()):
        if session.authenticated:
            session.log_out()
            session.add_flash("info", "ログインの有効期限が切れました。再度ログインしてください。")
        raise LoginRequired(request.url.path)
    if roles and session.role not in roles:
        raise Forbidden("この画面はご利用のアカウントの権限では表示できません。")
    return session


def login_as(*roles: str) -> Any:
    """The route's access check, as a FastAPI dependency (``require_login``): a router's or a
    route's ``dependencies=[login_as("employer")]``; the route reads the session with
    ``session_of(request)``."""

    def logged_in(request: Request) -> Session:
        return require_login(request, *roles)

    return Depends(logged_in)


async def checked_form(request: Request) -> FormData:
    """The submitted form, refused unless it carries this session's CSRF token."""
    form = await request.form(max_files=5, max_fields=2000)
    submitted = form.get(csrf.FIELD)
    allowed = csrf.request_allowed(
        expected=session_of(request).csrf,
        submitted=submitted if isinstance(submitted, str) else None,
        origin=request.headers.get("origin"),
        host=request.headers.get("host"),
    )
    if not allowed:
        raise CsrfRejected()
    return form


def text_fields(form: FormData) -> dict[str, str]:
    """The form's text fields (files left out; the last value of a repeated name)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != csrf.FIELD}


def nav_items(session: Session, path: str = "/") -> list[tuple[str, str, bool]]:
    """The menu for the session's role; the item whose address best matches ``path`` is
    marked current."""
    items = _nav(session)
    matching = [h for h, _ in items if path == h or (h != "/" and path.startswith(h + "/"))]
    current = max(matching, key=len) if matching else None
    return [(href, label, href == current) for href, label in items]


def _nav(session: Session) -> list[tuple[str, str]]:
    if not session.authenticated:
        return [("/", "ポータル"), ("/help", "ヘルプ")]
    if session.role == "employer":
        return [
            ("/menu", "メニュー"),
            ("/consents", "個人情報利用申請"),
            ("/applications", "レベル判定代行申請"),
            ("/results", "レベル判定結果確認"),
            ("/help", "ヘルプ"),
        ]
    if session.role == "evaluator":
        return [
            ("/review", "審査メニュー"),
            ("/review/consents", "個人情報利用申請の審査"),
            ("/review/judgements", "判定結果の審査"),
            ("/help", "ヘルプ"),
        ]
    if session.role == "criteria_editor":
        return [
            ("/criteria", "基準管理"),
            ("/criteria/trades", "基準マスタ一覧"),
            ("/criteria/drafts", "下書き"),
            ("/help", "ヘルプ"),
        ]
    if session.role == "criteria_approver":
        return [
            ("/criteria", "基準管理"),
            ("/criteria/trades", "基準マスタ一覧"),
            ("/criteria/approvals", "承認"),
            ("/criteria/audit", "監査ログ"),
            ("/help", "ヘルプ"),
        ]
    return [("/ops", "運用状況"), ("/help", "ヘルプ")]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session = session_of(request)
    session.dirty = session.dirty or getattr(request.state, "session_new", False)
    page = {
        "request": request,
        "session": session,
        "csrf_token": session.csrf,
        "flash": session.pop_flash(),
        "nav": nav_items(session, request.url.path),
        "path": request.url.path,
        "role_ja": ROLE_JA.get(session.role or "", ""),
        "values": {},
        "errors": {},
        "form_errors": [],
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, page, status_code=status_code)
    if session.authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303 See Other (the browser GETs the target)."""
    return RedirectResponse(url, status_code=303)


def error_page(
    request: Request, status_code: int, title: str, message: str, **extra: Any
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "status_code": status_code, **extra},
        status_code=status_code,
    )


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def _forget_ended(request: Request, portal: Portal, session: Session) -> None:
    """A cookie whose identity session ended (logout — here or elsewhere —, a password
    change) is an anonymous one from now on."""
    assert session.session_id is not None
    try:
        ended = await portal.auth.session_ended(session.session_id)
    except AuthUnavailable:
        request.state.auth_unavailable = True
        return
    if ended:
        log.info("portal.session_ended", login_id=session.login_id)
        session.log_out()
        session.add_flash("info", "ログアウト済みです。再度ログインしてください。")


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorPage:
    """How the portal answers one kind of error: status, page title and, for a client that
    does not ask for HTML, the JSON ``code`` (``None``: the page whatever the client asks)."""

    status: int
    title: str
    code: str | None = None


ERROR_PAGES: dict[type[Exception], ErrorPage] = {
    CsrfRejected: ErrorPage(400, "送信を受け付けられませんでした"),
    ServiceError: ErrorPage(400, "処理できませんでした"),  # or the service's own 4xx status
    Forbidden: ErrorPage(403, "表示する権限がありません"),
    NotFound: ErrorPage(404, "見つかりません"),
    BodyTooLarge: ErrorPage(413, "送信内容が大きすぎます", "payload_too_large"),
    ServiceUnavailable: ErrorPage(503, "ただいまご利用いただけません"),
}
"""The one table of the portal's error pages (each exception carries its Japanese
``message``); a request the routes refuse (``HTTPException``) is ``HTTP_PAGES``."""
HTTP_PAGES: dict[int, tuple[str, str]] = {
    404: ("ページが見つかりません", "お探しのページは見つかりませんでした。"),
}
HTTP_PAGE_OTHER = ("処理できませんでした", "この操作は受け付けられません。")
RETRY_AFTER_SECONDS = "30"


def error_answer(request: Request, exc: Exception) -> Response:
    """The answer to one of ``ERROR_PAGES``' errors or an ``HTTPException``."""
    if isinstance(exc, StarletteHTTPException):
        title, message = HTTP_PAGES.get(exc.status_code, HTTP_PAGE_OTHER)
        if not wants_html(request):
            return JSONResponse(
                {"code": f"http_{exc.status_code}", "message": message},
                status_code=exc.status_code,
            )
        return error_page(request, exc.status_code, title, message)
    page = next(ERROR_PAGES[kind] for kind in type(exc).__mro__ if kind in ERROR_PAGES)
    message = str(getattr(exc, "message", ""))
    if page.code is not None and not wants_html(request):
        return JSONResponse({"code": page.code, "message": message}, status_code=page.status)
    status = page.status
    extra: dict[str, Any] = {}
    if isinstance(exc, ServiceError):
        status = exc.status if 400 <= exc.status < 500 else page.status
        extra["details"] = exc.unplaced
    elif isinstance(exc, ServiceUnavailable):
        log.warning("service.unavailable", service=exc.service, detail=exc.detail)
        extra["service"] = exc.service_ja
    elif isinstance(exc, CsrfRejected):
        log.warning("csrf.rejected", path=request.url.path)
    response = error_page(request, status, page.title, message, **extra)
    if isinstance(exc, ServiceUnavailable):
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


# --- the session layer ------------------------------------------------------------------


class PortalSession:
    """The session cookie and the security headers of every answer (a plain ASGI layer: an
    ``@app.middleware("http")`` function costs a task, memory streams and a wrapped answer
    per request).

    Opens the sealed cookie into ``request.state.session`` (a new anonymous session when
    there is none, or it is forged, altered or too old), forgets a login whose identity
    session ended, and when the answer starts seals the session again into the cookie if
    it changed; every answer gets the security headers it does not set itself. Probes,
    assets and the public verification (``UNCOOKIED``) get only the headers.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        request = Request(scope)
        if request.url.path.startswith(UNCOOKIED):

            async def with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for name, value in security_headers(request, settings.https_only).items():
                        headers.setdefault(name, value)
                await send(message)

            await self.app(scope, receive, with_headers)
            return
        portal = portal_of_app(request.app)
        now = time.time()
        session = portal.codec.open(request.cookies.get(settings.cookie_name), now)
        request.state.session_new = session is None
        request.state.session = session or Session()
        if session is not None and session.authenticated and session.session_id:
            await _forget_ended(request, portal, session)

        async def with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                current = request.state.session
                if current.dirty:
                    headers.append("set-cookie", self.cookie(request, current, now))
                for name, value in security_headers(request, settings.https_only).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_session)

    def cookie(self, request: Request, session: Session, now: float) -> str:
        """The ``Set-Cookie`` value of the sealed session (Starlette's own formatting)."""
        settings = self.settings
        portal = portal_of_app(request.app)
        carrier = Response()
        carrier.set_cookie(
            settings.cookie_name,
            portal.codec.seal(session, now),
            max_age=int(settings.session_max_hours * 3600),
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure or settings.https_only or request.url.scheme == "https",
        )
        return carrier.headers["set-cookie"]


# --- install -------------------------------------------------------------------------------


def install(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")

    app.add_middleware(PortalSession, settings=settings)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    async def session_expired(request: Request, exc: Exception) -> Response:
        session = session_of(request)
        session.log_out()
        session.add_flash("info", "ログインの有効期限が切れました。再度ログインしてください。")
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def error(request: Request, exc: Exception) -> Response:
        return error_answer(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("portal.unexpected_error", path=request.url.path)
        headers = {"Cache-Control": "no-store", **security_headers(request, settings.https_only)}
        return HTMLResponse(UNEXPECTED_PAGE, status_code=500, headers=headers)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(SessionExpired, session_expired)
    for kind in [*ERROR_PAGES, StarletteHTTPException]:
        if kind is not BodyTooLarge:  # answered by BodyLimit, outside the app (see there)
            app.add_exception_handler(kind, error)
    app.add_exception_handler(Exception, unexpected)
    # added last, so the outermost layer: it counts every body byte before anything reads it
    app.add_middleware(BodyLimit, settings=settings, answer=error_answer, headers=security_headers)


UNEXPECTED_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>システムエラー｜能力評価システム</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/portal.css"></head>
<body><main class="container"><h1>システムエラーが発生しました</h1>
<p>申し訳ありません。処理中に予期しないエラーが発生しました。
しばらく時間をおいてから、もう一度お試しください。</p>
<p><a href="/">ポータルへ戻る</a></p></main></body></html>"""
