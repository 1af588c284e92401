"""Tracing (issue 23): one trace from an HTTP request through a Kafka event to its consumer,
``traceparent`` beside ``ce_correlationid`` in the event's headers. Real broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.events.catalogue import ConsentRejected
from shared_kernel.infra import tracing
from shared_kernel.infra.http import create_app
from shared_kernel.infra.kafka import EventConsumer, EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.mongo import Inbox
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import consent_rejected, eventually


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("tracing-test", None, exporter=exporter) is not None
    yield exporter
    tracing.shutdown_tracing()


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing.current_provider() is None
    assert tracing.configure_tracing("svc", None) is None
    assert tracing.current_provider() is None


async def test_one_trace_from_a_request_through_kafka_to_the_consumer(
    spans: InMemorySpanExporter, settings: ServiceSettings, db: object
) -> None:
    broker = make_broker(settings)
    consumer = EventConsumer(broker, settings, CATALOGUE, Inbox(db), group="trace-group")  # type: ignore[arg-type]
    seen: list[tuple[int, dict[str, str]]] = []

    @consumer.on(ConsentRejected)
    async def handle(envelope: Envelope) -> None:
        trace_id = trace.get_current_span().get_span_context().trace_id
        seen.append((trace_id, envelope.headers()))

    consumer.subscribe()
    await ensure_topics(settings, consumer.topics())
    publish = EventPublisher(broker, settings)

    @asynccontextmanager
    async def nothing(_: FastAPI) -> AsyncIterator[None]:
        yield

    async def no_checks() -> dict[str, str]:
        return {}

    app = create_app("試験", lifespan=nothing, readiness=lambda _: no_checks)

    @app.post("/reject")
    async def reject() -> dict[str, str]:
        await publish(consent_rejected("traced"))
        return {"status": "ok"}

    await broker.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            answer = await client.post("/reject", headers={"x-correlation-id": "cid-trace-1"})
            assert answer.status_code == 200
        await eventually(lambda: len(seen) == 1, timeout=20)
        await asyncio.sleep(0.2)
    finally:
        await broker.stop()
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == trace.SpanKind.SERVER and "/reject" in s.name]
    assert server, [s.name for s in finished]
    request_trace = server[0].context.trace_id
    consumer_trace, headers = seen[0]
    assert consumer_trace == request_trace  # the consumer continued the request's trace
    assert headers["ce_correlationid"] == "cid-trace-1"
    kinds = {s.kind for s in finished if s.context.trace_id == request_trace}
    assert {trace.SpanKind.SERVER, trace.SpanKind.PRODUCER, trace.SpanKind.CONSUMER} <= kinds
