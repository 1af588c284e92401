"""Calling the services: base URLs, the user's bearer token, errors turned into exceptions.

:class:`Services` sends a request to one service by name. :class:`UserApi` is the same bound
to one browser's session: it adds the access token (renewing it through identity's token
exchange shortly before it expires, and once more if a service answers 401), the
correlation id and the browser's address. Service answers become:

* 2xx — returned;
* 401 after a renewal — :class:`SessionExpired` (the user logs in again);
* 403 / 404 — :class:`Forbidden` / :class:`NotFound` (error pages);
* other 4xx — :class:`ServiceError` with the service's Japanese ``message`` and per-field
  ``errors``, which the pages show next to the fields;
* 5xx, no answer, or a body that is not what was expected — :class:`ServiceUnavailable`
  (a Japanese page with status 503).
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Mapping, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

from portal.config import Settings
from portal.core.session import Session
from portal.ports.transport import Reply, Transport, Unreachable
from shared_kernel.context import get_correlation_id
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)

SERVICE_JA = {
    "identity": "利用者管理サービス",
    "consent": "個人情報利用申請サービス",
    "application": "レベル判定代行申請サービス",
    "judgement": "レベル判定サービス",
    "notification": "通知サービス",
    "document": "帳票サービス",
}


class PortalError(Exception):
    """Base of what a page handler may raise; the app turns each into a page."""


class ServiceUnavailable(PortalError):
    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail

    @property
    def service_ja(self) -> str:
        return SERVICE_JA.get(self.service, self.service)

    @property
    def message(self) -> str:
        return (
            f"{self.service_ja}に接続できないため、この操作を完了できませんでした。"
            "しばらく時間をおいてから、もう一度お試しください。"
        )


class SessionExpired(PortalError):
    """The login is over (identity refused to renew the token)."""


class Forbidden(PortalError):
    def __init__(self, message: str = "この画面を表示する権限がありません。") -> None:
        super().__init__(message)
        self.message = message


class NotFound(PortalError):
    def __init__(self, message: str = "お探しの情報は見つかりませんでした。") -> None:
        super().__init__(message)
        self.message = message


class ServiceError(PortalError):
    """A 4xx answer with the service's Japanese message and its per-field errors."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: Sequence[Mapping[str, Any]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = dict(body or {})
        self.fields: dict[str, str] = {}
        for error in errors:
            field = str(error.get("field") or "")
            message_ = str(error.get("message") or "")
            if field and message_ and field not in self.fields:
                self.fields[field] = message_

    @property
    def unplaced(self) -> list[str]:
        """Field messages a form has no input for (shown at the top of the form)."""
        return list(self.fields.values())


def error_of(service: str, reply: Reply) -> PortalError:
    """The exception for a non-2xx answer."""
    if reply.status >= 500:
        return ServiceUnavailable(service, f"HTTP {reply.status}")
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or "処理できませんでした。入力内容をご確認ください。")
    if reply.status == 403:
        return Forbidden(str(body.get("message") or Forbidden().message))
    if reply.status == 404:
        return NotFound(str(body.get("message") or NotFound().message))
    errors = body.get("errors")
    return ServiceError(
        reply.status,
        str(body.get("code") or f"http_{reply.status}"),
        message,
        errors if isinstance(errors, list) else [],
        body,
    )


def set_cookies(reply: Reply) -> dict[str, str]:
    """The cookies a service set in its answer (name → value)."""
    found: dict[str, str] = {}
    for header in reply.header_values("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        for name, morsel in jar.items():
            found[name] = morsel.value
    return found


class Services:
    """Requests to the services by name (``identity``, ``consent`` …)."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.transport = transport
        self.urls = settings.service_urls()

    def url(self, service: str, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.urls[service].rstrip('/')}{path}{suffix}"

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
        timeout: float | None = None,
        quiet: bool = False,
    ) -> Reply:
        """One request; a service that does not answer raises :class:`ServiceUnavailable`."""
        sent = list(headers)
        if not any(name.lower() == "accept" for name, _ in sent):
            sent.insert(0, ("Accept", "application/json"))
        correlation = get_correlation_id()
        if correlation:
            sent.append(("X-Correlation-ID", correlation))
        body = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            sent.append(("Content-Type", "application/json"))
        url = self.url(service, path, params)
        try:
            return await self.transport.send(
                method, url, sent, body, timeout or self.settings.service_timeout_seconds
            )
        except Unreachable as exc:
            if not quiet:
                log.warning("service.unreachable", service=service, reason=exc.reason)
            raise ServiceUnavailable(service, exc.reason) from None


def json_of(service: str, reply: Reply) -> Any:
    """The JSON body of a 2xx answer (else the matching exception)."""
    if not reply.ok:
        raise error_of(service, reply)
    try:
        return reply.json()
    except ValueError:
        raise ServiceUnavailable(service, "answer is not JSON") from None


class UserApi:
    """The services as one browser's session sees them (its token, address, correlation)."""

    def __init__(
        self, services: Services, session: Session, client_ip: str | None, now: float | None = None
    ) -> None:
        self.services = services
        self.session = session
        self.client_ip = client_ip
        self._now = now

    def now(self) -> float:
        return self._now if self._now is not None else time.time()

    # --- identity sessions ----------------------------------------------------------------

    def _identity_cookie(self) -> tuple[str, str]:
        name = self.services.settings.identity_session_cookie
        return ("Cookie", f"{name}={self.session.identity_session or ''}")

    def forwarded(self) -> list[tuple[str, str]]:
        return [("X-Forwarded-For", self.client_ip)] if self.client_ip else []

    async def refresh(self) -> None:
        """A new access token from identity's token exchange (or :class:`SessionExpired`)."""
        if not self.session.identity_session:
            raise SessionExpired()
        reply = await self.services.send(
            "identity",
            "POST",
            "/sessions/token",
            headers=[self._identity_cookie(), *self.forwarded()],
        )
        if reply.status in (401, 403, 404):
            raise SessionExpired()
        data = json_of("identity", reply)
        try:
            token = str(data["access_token"])
            expires_in = float(data["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise ServiceUnavailable("identity", "unexpected token answer") from None
        self.session.renew_token(token, self.now() + expires_in)

    async def logout(self) -> None:
        """Revoke identity's session (best effort: the portal forgets it either way)."""
        if not self.session.identity_session:
            return
        try:
            await self.services.send(
                "identity",
                "DELETE",
                "/sessions/current",
                headers=[self._identity_cookie(), *self.forwarded()],
            )
        except ServiceUnavailable:
            log.warning("logout.identity_unavailable")

    # --- authenticated calls --------------------------------------------------------------

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        """A request with the user's token; 401 is retried once after a renewal."""
        if not self.session.authenticated:
            raise SessionExpired()
        if self.session.expired(self.now()):
            raise SessionExpired()
        margin = self.services.settings.token_refresh_margin_seconds
        if self.session.token_due(self.now(), margin):
            await self.refresh()
        for attempt in (1, 2):
            sent = [("Authorization", f"Bearer {self.session.access_token}"), *headers]
            if service == "identity":
                sent.extend(self.forwarded())
            reply = await self.services.send(
                service, method, path, params=params, json=json, content=content, headers=sent
            )
            if reply.status != 401:
                return reply
            if attempt == 1:
                await self.refresh()
        raise SessionExpired()

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return json_of(service, await self.call(service, "GET", path, params=params))

    async def post(self, service: str, path: str, body: Any = None) -> Any:
        return json_of(service, await self.call(service, "POST", path, json=body))

    async def put(self, service: str, path: str, body: Any = None) -> Any:
        return json_of(service, await self.call(service, "PUT", path, json=body))

    async def delete(self, service: str, path: str) -> Any:
        reply = await self.call(service, "DELETE", path)
        if reply.status == 204:
            return None
        return json_of(service, reply)
