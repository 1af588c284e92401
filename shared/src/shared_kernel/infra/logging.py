"""structlog JSON logging with the correlation id of ``shared_kernel.context``.

The correlation id is bound per HTTP request (``X-Correlation-ID``) and per consumed
message (``ce_correlationid``) and copied into every event published while it is bound.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

from shared_kernel import context
from shared_kernel.context import correlation_scope, get_correlation_id, new_correlation_id


def _add_correlation(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    cid = context.get_correlation_id()
    if cid is not None:
        event.setdefault("correlation_id", cid)
    return event


def _add_trace(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The active span's trace and span ids (``infra.tracing``), to find a trace's logs."""
    context_of_span = trace.get_current_span().get_span_context()
    if context_of_span.is_valid:
        event.setdefault("trace_id", format(context_of_span.trace_id, "032x"))
        event.setdefault("span_id", format(context_of_span.span_id, "016x"))
    return event


def _lift_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The fields of a ``shared_kernel.context.Logger`` line (stdlib ``extra``) into the line."""
    record = event.get("_record")
    fields = getattr(record, context.FIELDS, None)
    if isinstance(fields, dict):
        for key, value in fields.items():
            event.setdefault(key, value)
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout, one per event, with service, level, timestamp and context.

    Standard-library loggers (uvicorn, aiokafka, pymongo …) go through the same renderer,
    so every line a service writes is JSON.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation,
        _add_trace,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, _lift_fields],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.EventRenamer("message"),
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # third-party progress chatter (weasyprint: six lines per PDF) stays out of the logs
    for noisy in ("aiokafka", "pymongo", "faststream", "kafka", "weasyprint", "fontTools", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None, **initial: Any) -> Any:
    return structlog.get_logger(name, **initial)


__all__ = [
    "configure_logging",
    "correlation_scope",
    "get_correlation_id",
    "get_logger",
    "new_correlation_id",
]
