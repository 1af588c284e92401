"""The correlation id of the work in hand, and a logger for pure code (standard library only).

The correlation id is bound per HTTP request (``X-Correlation-ID``) and per consumed message
(``ce_correlationid``) and copied into every event published while it is bound
(``shared_kernel.events.Envelope``). ``shared_kernel.infra.logging`` adds it to every log
line and renders the lines of :func:`get_logger` as JSON with their fields.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
FIELDS = "kv"
"""The ``extra`` attribute that carries a log line's fields (read by infra.logging)."""


def get_correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    """Bind a correlation id (a new one if ``None``) for the duration of the block."""
    cid = correlation_id or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)


class Logger:
    """``log.info("event.name", key=value, …)`` over the standard library's logging: the
    same call shape as structlog, so a core logs without depending on it."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            exc_info = fields.pop("exc_info", None)
            self._logger.log(level, event, extra={FIELDS: fields}, exc_info=exc_info)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, {**fields, "exc_info": True})


def get_logger(name: str) -> Logger:
    return Logger(name)
