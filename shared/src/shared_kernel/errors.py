"""Refusals a core raises, in one shape for every service (pure: no web framework here).

A core raises :class:`DomainError` (or a subclass) with a stable English ``code`` and a
Japanese ``message`` for the person who reads it; field problems go in ``errors``. The
service's inbound HTTP adapter declares one table ``code → HTTP status`` and installs the
one translator of ``shared_kernel.infra.http`` (``install_error_translator``), which answers
``{"code", "message", "errors"?, …details}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

VALIDATION_MESSAGE = "入力内容に誤りがあります。"


@dataclass(frozen=True)
class FieldError:
    """One field's problem: where, a stable code, a Japanese message, maybe a suggestion."""

    field: str
    code: str
    message: str
    suggested: Any = None
    line_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.suggested is not None:
            out["suggested"] = self.suggested
        if self.line_id is not None:
            out["line_id"] = self.line_id
        return out


@dataclass
class DomainError(Exception):
    """A refused request: a stable ``code``, a Japanese ``message``, field ``errors`` and any
    other ``details`` the answer carries (e.g. ``current_version`` of a 409)."""

    code: str
    message: str
    errors: list[FieldError] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        out.update(self.details)
        return out


def invalid(errors: Iterable[FieldError], message: str = VALIDATION_MESSAGE) -> DomainError:
    """The request's fields are wrong (``validation_error``, 422)."""
    return DomainError("validation_error", message, list(errors))


class StaleVersion(Exception):
    """The aggregate changed since it was read (optimistic concurrency); retry from a read."""


class AlreadyExists(Exception):
    """An aggregate with that id exists already."""
