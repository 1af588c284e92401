"""The portal in process with its services scripted behind ``httpx.MockTransport`` (under
the portal's own pooled clients): the app, a client to it, the CSRF token of a page and the
login, shared by the page tests. The portal owns no data: no database or Kafka is needed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.testing import isolated

HTML = {"Accept": "text/html,application/xhtml+xml"}
Handler = Callable[[str, str, httpx.Headers, bytes | None], httpx.Response]
PROBES = ("/healthz", "/readyz", "/metrics")


def reply(status: int, body: Any = None, headers: Sequence[tuple[str, str]] = ()) -> httpx.Response:
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    return httpx.Response(
        status, headers=[("content-type", "application/json"), *headers], content=data
    )


class Services:
    """The services behind ``httpx.MockTransport``: routes (method, path) to canned answers
    (a route not set is a refused connection); records what the portal sent."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler | httpx.Response] = {}
        self.sent: list[tuple[str, str, httpx.Headers, bytes | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, url, path = request.method, str(request.url), request.url.path
        if path in PROBES:  # the operations sampler
            raise httpx.ConnectError("connection refused", request=request)
        body = request.content or None
        self.sent.append((method, url, request.headers, body))
        found = self.routes.get((method, path))
        if found is None:
            raise httpx.ConnectError("connection refused", request=request)
        if isinstance(found, httpx.Response):  # a fresh copy: a response is read once
            return httpx.Response(found.status_code, headers=found.headers, content=found.content)
        return found(method, url, request.headers, body)


Portal = tuple[httpx.AsyncClient, Services]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` started (its lifespan), and a client to it."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://portal.test",
            follow_redirects=False,
        ) as client,
    ):
        yield client


@asynccontextmanager
async def running_portal(
    services: Callable[[httpx.Request], httpx.Response], **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The portal (lifespan started) calling ``services``, and a client to it."""
    app = create_app(
        isolated(Settings, environment="test", ops_sample_seconds=3600, **settings),
        http_transport=httpx.MockTransport(services),
    )
    async with serving(app) as client:
        yield client


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    services = Services()
    async with running_portal(services, max_upload_bytes=4096) as client:
        yield client, services


def free_port() -> int:
    """A port nothing listens on (bound once by the OS, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


async def login(client: httpx.AsyncClient, services: Services, role: str = "employer") -> None:
    services.routes[("POST", "/sessions")] = reply(
        201,
        {
            "access_token": "token-1",
            "token_type": "bearer",
            "expires_at": "2099-01-01T00:00:00+00:00",
            "expires_in": 900,
            "login_id": "kensetsu2026",
            "role": role,
            "employer_id": "10000000000001" if role == "employer" else None,
            "session_expires_at": "2099-01-01T00:00:00+00:00",
        },
        [("set-cookie", "noryoku_session=identity-sid; HttpOnly; Path=/; SameSite=lax")],
    )
    page = await client.get("/login", headers=HTML)
    done = await client.post(
        "/login",
        data={"csrf_token": csrf_of(page), "login_id": "kensetsu2026", "password": "Pw12345678"},
        headers=HTML,
    )
    assert done.status_code == 303, done.text
