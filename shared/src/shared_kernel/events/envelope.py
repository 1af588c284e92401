"""The event envelope: CloudEvents 1.0 in Kafka binary content mode.

Headers carry the context attributes (``ce_specversion``, ``ce_id``, ``ce_type`` with a
version suffix, ``ce_source``, ``ce_time``, ``ce_subject`` and the extension
``ce_correlationid``); the value is the event model as JSON; the key is the aggregate id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared_kernel.context import get_correlation_id, new_correlation_id

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
MAX_EVENT_BYTES = 1_000_000
TYPE_PREFIX = "jp.ccus.level."


class Event(BaseModel):
    """Base of every event payload: a frozen, versioned pydantic model.

    ``TYPE`` is the CloudEvents type without its version, ``VERSION`` the schema version,
    ``TOPIC`` the logical topic and ``KEY_FIELD`` the field holding the aggregate id.
    A published schema never changes within a version (see ``schemas/``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    @classmethod
    def ce_type(cls) -> str:
        return f"{TYPE_PREFIX}{cls.TYPE}.v{cls.VERSION}"

    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))


class MalformedEvent(ValueError):
    """A message that cannot be read as an event of the catalogue (goes to the DLQ).

    ``reason`` is a stable code (the DLQ header ``dlq_reason``): ``missing_headers``,
    ``bad_specversion``, ``too_large``, ``unknown_type`` (also an unknown version of a known
    type), ``bad_json``, ``schema_mismatch`` or ``bad_time``.
    """

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    """One event with its CloudEvents context attributes."""

    event: Event
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    source: str = "unknown"
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = field(
        default_factory=lambda: get_correlation_id() or new_correlation_id()
    )

    @property
    def type(self) -> str:
        return self.event.ce_type()

    @property
    def topic(self) -> str:
        return self.event.TOPIC

    @property
    def key(self) -> str:
        return self.event.key()

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.key,
            "ce_correlationid": self.correlation_id,
            "content-type": CONTENT_TYPE,
        }

    def value(self) -> bytes:
        return self.event.model_dump_json().encode()

    def to_document(self) -> dict[str, Any]:
        """The form kept in an aggregate's outbox until the relay publishes it.

        The payload is kept as its JSON text (exactly what is published): FerretDB 1.24
        spends its time per nested element, and a payload such as JudgementCompleted's
        criteria is a hundred of them in every write of the aggregate until it is relayed.
        Entries stored before with a nested ``payload`` are still read.
        """
        return {
            "id": self.id,
            "type": self.type,
            "topic": self.topic,
            "key": self.key,
            "source": self.source,
            "time": self.time.isoformat(),
            "correlation_id": self.correlation_id,
            "payload_json": self.event.model_dump_json(),
        }


class Catalogue:
    """Maps ``ce_type`` (with version) to the event model that reads it."""

    def __init__(self, *models: type[Event]) -> None:
        self._by_type: dict[str, type[Event]] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[Event]) -> None:
        if model.ce_type() in self._by_type:
            raise ValueError(f"duplicate event type {model.ce_type()}")
        self._by_type[model.ce_type()] = model

    def models(self) -> list[type[Event]]:
        return list(self._by_type.values())

    def model_for(self, ce_type: str) -> type[Event]:
        try:
            return self._by_type[ce_type]
        except KeyError:
            raise MalformedEvent(f"unknown event type {ce_type!r}", "unknown_type") from None

    def decode(
        self, headers: dict[str, str], value: bytes, *, max_bytes: int = MAX_EVENT_BYTES
    ) -> Envelope:
        """Read a Kafka record; raise :class:`MalformedEvent` with the reason if it is not one."""
        missing = [h for h in ("ce_id", "ce_type", "ce_source", "ce_time") if not headers.get(h)]
        if missing:
            raise MalformedEvent(
                f"missing CloudEvents headers: {', '.join(missing)}", "missing_headers"
            )
        if headers.get("ce_specversion", SPEC_VERSION) != SPEC_VERSION:
            raise MalformedEvent(
                f"unsupported specversion {headers.get('ce_specversion')!r}", "bad_specversion"
            )
        if len(value) > max_bytes:
            raise MalformedEvent(f"payload of {len(value)} bytes exceeds {max_bytes}", "too_large")
        model = self.model_for(headers["ce_type"])
        try:
            data = json.loads(value)
        except ValueError as exc:  # also bytes that are not UTF-8
            raise MalformedEvent(
                f"payload does not match {model.ce_type()}: not JSON: {exc}", "bad_json"
            ) from exc
        try:
            event = model.model_validate(data)
        except (ValueError, ValidationError) as exc:
            raise MalformedEvent(
                f"payload does not match {model.ce_type()}: {exc}", "schema_mismatch"
            ) from exc
        try:
            time = datetime.fromisoformat(headers["ce_time"])
        except ValueError as exc:
            raise MalformedEvent(f"bad ce_time {headers['ce_time']!r}", "bad_time") from exc
        return Envelope(
            event=event,
            id=headers["ce_id"],
            source=headers["ce_source"],
            time=time,
            correlation_id=headers.get("ce_correlationid") or new_correlation_id(),
        )

    def from_document(self, doc: dict[str, Any]) -> Envelope:
        """Rebuild an envelope from its outbox form (same id: republishing is idempotent)."""
        model = self.model_for(doc["type"])
        return Envelope(
            event=(
                model.model_validate_json(doc["payload_json"])
                if "payload_json" in doc
                else model.model_validate(doc["payload"])
            ),
            id=doc["id"],
            source=doc["source"],
            time=datetime.fromisoformat(doc["time"]),
            correlation_id=doc["correlation_id"],
        )
