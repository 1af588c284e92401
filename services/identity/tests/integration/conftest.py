"""The identity service in this process against the real Kafka and database.

``identity`` starts the app (runtime, relay) with the test's own database and topic prefix
and cheap argon2 parameters; ``client`` talks to it over ASGI. The activation mails are
kept by a recording mailer instead of going to an SMTP server (``Identity.mails``; the
SMTP adapter has its own test). ``logs`` captures every log line the service writes (JSON
lines, as in production) for the secret checks.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from identity.config import Settings
from identity.core.activation_mail import ActivationMail
from identity.inject import Container, create_app
from identity.ports import MailUnavailable
from shared_kernel.infra.logging import configure_logging
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
# most tests register the same address again and again: their own test lowers these
GENEROUS_LIMITS = {"registrations_per_email": 1000, "registrations_per_ip": 1000}

REGISTRATION = {
    "login_id": "Kensetsu01",
    "email": "taro@example.jp",
    "employer_id": "12345678901234",
    "employer_name": "株式会社テスト建設",
    "address": "東京都千代田区霞が関1-1",
    "representative_name": "山田 太郎",
    "phone_number": "03-1234-5678",
    "permit_number": "東京都知事許可（般－１９）第１２３４号",
}
PASSWORD = "Sekkei-2026"


def identity_settings(base: ServiceSettings, **overrides: Any) -> Settings:
    return isolated(
        Settings,
        topic_prefix=base.topic_prefix,
        db_name=base.db_name,
        environment="test",
        outbox_poll_seconds=0.2,
        **{**CHEAP_ARGON2, **GENEROUS_LIMITS, **overrides},
    )


class RecordingMailer:
    """Keeps every activation mail; ``fail`` makes the next sends fail like a dead server."""

    def __init__(self) -> None:
        self.sent: list[ActivationMail] = []
        self.fail = False

    async def send(self, mail: ActivationMail) -> None:
        if self.fail:
            raise MailUnavailable("ConnectionRefusedError: the test's mail server is down")
        self.sent.append(mail)

    def token_for(self, address: str) -> str:
        """The activation token of the last link mailed to ``address``."""
        link = [m.link for m in self.sent if m.to == address][-1]
        return parse_qs(urlsplit(link).query)["token"][0]


@dataclass
class Identity:
    """A running identity service; helpers for the steps every test needs."""

    REGISTRATION: ClassVar[dict[str, str]] = REGISTRATION
    PASSWORD: ClassVar[str] = PASSWORD

    app: FastAPI
    settings: Settings
    mails: RecordingMailer = field(default_factory=RecordingMailer)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def client(self, ip: str = "127.0.0.1", scheme: str = "http") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip, 50000))
        client = httpx.AsyncClient(transport=transport, base_url=f"{scheme}://identity.test")
        self.clients.append(client)
        return client

    async def register(
        self, client: httpx.AsyncClient, **changes: str
    ) -> tuple[httpx.Response, str]:
        """A 利用者仮申請; returns the answer and the token of the link it mailed."""
        response = await client.post("/registrations", json={**REGISTRATION, **changes})
        assert response.status_code == 201, response.text
        return response, self.mails.token_for(changes.get("email", REGISTRATION["email"]))

    async def active_employer(
        self, client: httpx.AsyncClient, password: str = PASSWORD, **changes: str
    ) -> str:
        """Register and activate; returns the login ID."""
        _, token = await self.register(client, **changes)
        login_id = changes.get("login_id", REGISTRATION["login_id"])
        response = await client.post("/activations", json=activation(token, password))
        assert response.status_code == 200, response.text
        return login_id


def activation(
    token: str, password: str = PASSWORD, confirmation: str | None = None
) -> dict[str, str]:
    return {
        "token": token,
        "new_password": password,
        "new_password_confirmation": password if confirmation is None else confirmation,
    }


StartIdentity = Callable[..., Any]


@pytest.fixture
async def start_identity(settings: ServiceSettings, db: object) -> AsyncIterator[StartIdentity]:
    """``async with start_identity(**overrides) as identity`` (several may run at once)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Identity]:
        own = identity_settings(settings, **overrides)
        app = create_app(own)
        async with app.router.lifespan_context(app):
            identity = Identity(app, own)
            identity.container.service.mailer = identity.mails
            try:
                yield identity
            finally:
                for client in identity.clients:
                    await client.aclose()

    yield start


@pytest.fixture
async def identity(start_identity: StartIdentity) -> AsyncIterator[Identity]:
    async with start_identity() as running:
        yield running


@pytest.fixture
def logs() -> Iterator[Callable[[], list[str]]]:
    """Production logging (JSON lines, DEBUG level) written to a buffer; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_structlog = structlog.get_config()
    configure_logging("identity", "DEBUG")
    buffer = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield lambda: buffer.getvalue().splitlines()
    finally:
        # pytest adds and removes its own capture handlers around each phase: keep those
        root.removeHandler(handler)
        for kept in saved_handlers:
            if not type(kept).__module__.startswith("_pytest"):
                root.addHandler(kept)
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
        structlog.contextvars.clear_contextvars()


async def topic_records(settings: ServiceSettings, logical_topic: str) -> list[bytes]:
    """Every record of a topic from its beginning: key, value and headers as raw bytes."""
    topic = settings.topic(logical_topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not partitions:
            await consumer._client.force_metadata_update()
            ids = consumer.partitions_for_topic(topic) or set()
            partitions = [TopicPartition(topic, p) for p in ids]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    parts = [record.key or b"", record.value or b""]
                    parts += [k.encode() + b"=" + v for k, v in record.headers]
                    out.append(b"\n".join(parts))
        return out
    finally:
        await consumer.stop()


async def dump_database(db: Any) -> str:
    """Every document of every collection of the test's database, as one JSON text."""
    everything: dict[str, list[Any]] = {}
    for name in await db.list_collection_names():
        everything[name] = [doc async for doc in db[name].find({})]
    return json.dumps(everything, default=str, ensure_ascii=False)


@pytest.fixture
def records() -> Callable[[ServiceSettings, str], Any]:
    """``await records(settings, topic)``: every raw record of the topic."""
    return topic_records


@pytest.fixture
def dump() -> Callable[[Any], Any]:
    """``await dump(db)``: every document of the test database as JSON text."""
    return dump_database
