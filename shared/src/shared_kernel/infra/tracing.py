"""OpenTelemetry tracing: HTTP in and out, Kafka publish and consume, MongoDB calls.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (e.g. ``http://otel-collector:4318``): then
every service process exports its spans by OTLP/HTTP, with ``service.name`` = the service.

* FastAPI requests (``create_app``; the probes and /metrics are left out);
* httpx calls to other services (portal → services, application → judgement), which carry
  the W3C ``traceparent`` header;
* Kafka: FastStream's telemetry middleware on every broker (``make_broker``) writes
  ``traceparent`` into the headers of each published event, beside ``ce_correlationid``, and
  a consumer continues that trace: one trace follows an application from the portal's 申請
  through judgement, document and notification;
* PyMongo commands.

Log lines carry ``trace_id`` and ``span_id`` while a span is active (``infra.logging``), so
a trace found in the collector leads to its logs. The correlation id stays (every event and
log line has it; ``python -m shared_kernel.infra.trace`` still merges log files).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

_provider: TracerProvider | None = None
EXCLUDED_URLS = "healthz,readyz,metrics"


def configure_tracing(
    service_name: str,
    endpoint: str | None,
    *,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Start tracing for this process when ``endpoint`` is set (or a test gives its own
    ``exporter``); returns the provider, ``None`` when tracing stays off. Once per process."""
    global _provider
    if _provider is not None:
        return _provider
    if not endpoint and exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None:
        base = endpoint.rstrip("/") if endpoint else ""
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{base}/v1/traces")))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    PymongoInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def current_provider() -> TracerProvider | None:
    """The provider of this process, ``None`` while tracing is off."""
    return _provider


def shutdown_tracing() -> None:
    """Flush and stop (tests; a process that ends flushes by itself)."""
    global _provider
    if _provider is None:
        return
    HTTPXClientInstrumentor().uninstrument()
    PymongoInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = None
