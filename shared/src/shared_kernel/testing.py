"""Test helpers (used by every service's tests): ``expect_events`` and isolated settings.

``expect_events`` asserts on what a block of code published to Kafka::

    async with expect_events(settings, [Expected(JudgementCompleted, {"decision": "approved"})]):
        await do_something()

It positions a reader at the end of each topic before the block and, after it, reads
until every expected event has arrived (in order per topic) or the timeout passes.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from shared_kernel.events.catalogue import CATALOGUE
from shared_kernel.events.envelope import Envelope, Event
from shared_kernel.kafka import EventPublisher, ensure_topics, make_broker, partitions_of
from shared_kernel.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def isolated(settings_cls: type[S], **overrides: Any) -> S:
    """Settings with a topic prefix and database of their own (one per test)."""
    run = uuid.uuid4().hex[:10]
    defaults: dict[str, Any] = {"topic_prefix": f"test-{run}.", "db_name": f"test_{run}"}
    return settings_cls(**{**defaults, **overrides})


@dataclass
class Expected:
    model: type[Event]
    fields: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, envelope: Envelope) -> bool:
        if envelope.type != self.model.ce_type():
            return False
        payload = envelope.event.model_dump(mode="json")
        return all(payload.get(k) == v for k, v in self.fields.items())


@dataclass
class Recorded:
    envelopes: list[Envelope] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    others: list[Envelope] = field(default_factory=list)


class EventRecorder:
    """Reads a set of topics from their current end; decodes what arrives."""

    def __init__(
        self, settings: ServiceSettings, topics: Sequence[str], types: set[str] | None = None
    ) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.types = types
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        self.recorded = Recorded()

    async def start(self) -> None:
        await ensure_topics(self.settings, self.topics)
        parts = await partitions_of(self.settings.kafka_bootstrap_servers, self.topics)
        await self.consumer.start()
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve positions now, before the block publishes anything
            await self.consumer.position(tp)

    async def read(self, until: int, timeout: float) -> Recorded:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.recorded.envelopes) < until:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            batches = await self.consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    envelope = CATALOGUE.decode(headers, record.value)
                    if self.types is not None and envelope.type not in self.types:
                        self.recorded.others.append(envelope)
                        continue
                    self.recorded.headers.append(headers)
                    self.recorded.envelopes.append(envelope)
        return self.recorded

    async def stop(self) -> None:
        await self.consumer.stop()


@asynccontextmanager
async def expect_events(
    settings: ServiceSettings,
    expected: Sequence[Expected],
    *,
    timeout: float = 15.0,
    exactly: bool = True,
    settle: float = 1.0,
) -> AsyncIterator[Recorded]:
    """Assert the block publishes the expected events.

    Only events of the expected types are considered (others on the same topics are kept
    in ``recorded.others``); with ``exactly``, no more of those types may arrive.
    """
    types = {e.model.ce_type() for e in expected}
    topics = sorted({settings.topic(e.model.TOPIC) for e in expected})
    recorder = EventRecorder(settings, topics, types)
    await recorder.start()
    try:
        yield recorder.recorded
        recorded = await recorder.read(len(expected), timeout)
        if exactly:  # give stray extra events a moment to show up
            await recorder.read(len(expected) + 1, settle)
    finally:
        await recorder.stop()
    got = [(e.type, e.event.model_dump(mode="json")) for e in recorded.envelopes]
    missing = [e for e in expected if not any(e.matches(r) for r in recorded.envelopes)]
    assert not missing, f"expected events not published: {missing}; got {got}"
    if exactly:
        assert len(recorded.envelopes) == len(expected), f"unexpected extra events: {got}"


async def eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 20.0
) -> None:
    """Poll ``predicate`` (sync or async) until it is true; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.05)


@asynccontextmanager
async def publisher(settings: ServiceSettings) -> AsyncIterator[EventPublisher]:
    """Publish events in a test as another service would (its own started broker)."""
    broker = make_broker(settings)
    await broker.start()
    try:
        yield EventPublisher(broker, settings)
    finally:
        await broker.stop()
