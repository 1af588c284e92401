"""Fixtures of the notification integration tests: the service, a publisher, mail sinks.

The shared SMTP sink of the local stack (``make infra-up``: smtp 127.0.0.1:1025, list at
http://127.0.0.1:8025/api/messages) receives the mails of the ordinary tests; every test
uses addresses of its own, so parallel runs do not see each other's mail. Tests that stop
the mail server start their own sink (``deploy/local/smtp_sink.py``) on free ports.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from notification.config import Settings
from notification.inject import Container, create_app, wire
from shared_kernel.infra.kafka import EventPublisher, make_broker
from shared_kernel.infra.mongo import connect
from shared_kernel.infra.service import prepare
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated, signed_token
from shared_kernel.principal import Principal

ROOT = Path(__file__).resolve().parents[4]
SINK = ROOT / "deploy" / "local" / "smtp_sink.py"
SHARED_SINK_SMTP = ("127.0.0.1", 1025)
SHARED_SINK_HTTP = os.environ.get("SMTP_SINK_URL", "http://127.0.0.1:8025")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """Reads the messages an SMTP sink stored (over its HTTP listing)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def names(self, to: str) -> list[str]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            listing = (await client.get("/api/messages")).json()
        return [m["name"] for m in listing if to in m["envelope_to"]]

    async def messages(self, to: str) -> list[EmailMessage]:
        found = []
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            for name in await self.names(to):
                raw = (await client.get(f"/messages/{name}")).content
                message = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                found.append(message)
        return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


class Sink:
    """An own instance of the local SMTP sink, which a test may stop and start again."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.mailbox = Mailbox(f"http://127.0.0.1:{self.http_port}")

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SINK),
            "--smtp-port",
            str(self.smtp_port),
            "--http-port",
            str(self.http_port),
            "--maildir",
            str(self.maildir),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.smtp_port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("the SMTP sink did not start")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)
            self.process = None

    def files(self) -> list[Path]:
        return sorted(self.maildir.glob("*.eml"))


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[Sink]:
    own = Sink(tmp_path / "mail")
    try:
        yield own
    finally:
        await own.stop()


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox(SHARED_SINK_HTTP)


def service_settings(base: ServiceSettings, **overrides: Any) -> Settings:
    defaults: dict[str, Any] = {
        "topic_prefix": base.topic_prefix,
        "db_name": base.db_name,
        "consumer_backoff_seconds": 0.05,
        "smtp_host": SHARED_SINK_SMTP[0],
        "smtp_port": SHARED_SINK_SMTP[1],
        "sender_poll_seconds": 0.2,
        "retry_base_seconds": 0.2,
        "retry_max_seconds": 1.0,
        "sender_lease_seconds": 3.0,
        "portal_base_url": "https://portal.example.jp",
    }
    return isolated(Settings, **{**defaults, **overrides})


ServiceFactory = Callable[..., AbstractAsyncContextManager[Container]]


@pytest.fixture
def notification(settings: ServiceSettings) -> ServiceFactory:
    """``async with notification(**overrides) as svc``: the service on this test's topics."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Container]:
        async with prepare(service_settings(settings, **overrides), wire) as container:
            yield container

    return start


@pytest.fixture
def http_service(settings: ServiceSettings) -> Callable[..., Any]:
    """``async with http_service(**overrides) as (container, client)``: with its HTTP API."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
        app = create_app(service_settings(settings, **overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app.state.container, client

    return start


@pytest.fixture
async def publish(settings: ServiceSettings) -> AsyncIterator[EventPublisher]:
    broker = make_broker(settings)
    await broker.start()
    try:
        yield EventPublisher(broker, settings)
    finally:
        await broker.stop()


def bearer(settings: ServiceSettings, role: str, employer_id: str | None = None) -> dict[str, str]:
    principal = Principal(subject=f"{role}-1", role=role, employer_id=employer_id)  # type: ignore[arg-type]
    token = signed_token(principal)
    return {"Authorization": f"Bearer {token}"}


class Flow:
    """A running service with its HTTP client and a publisher on the same topics."""

    def __init__(
        self,
        settings: Settings,
        container: Container,
        client: httpx.AsyncClient,
        publish: EventPublisher,
    ) -> None:
        self.settings = settings
        self.svc = container
        self.client = client
        self.publish = publish


@pytest.fixture(scope="module")
async def flow(infrastructure: dict[str, str]) -> AsyncIterator[Flow]:
    """One service for a whole module (its own topics and database, dropped afterwards)."""
    base = isolated(ServiceSettings, service_name="test", environment="test")
    own = service_settings(base)
    app = create_app(own)
    broker = make_broker(own)
    await broker.start()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Flow(own, app.state.container, client, EventPublisher(broker, own))
    finally:
        await broker.stop()
        mongo = connect(own.mongodb_url)
        await mongo.drop_database(own.db_name)
        await mongo.close()


@pytest.fixture
def helpers() -> Any:
    class Helpers:
        text_of = staticmethod(text_of)
        html_of = staticmethod(html_of)
        bearer = staticmethod(bearer)

    return Helpers
