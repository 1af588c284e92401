"""Errors the core raises; the HTTP adapter maps each to a status and ``{code, message}``."""

from __future__ import annotations

from dataclasses import dataclass
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


class ApplicationError(Exception):
    """A refused request: a stable ``code``, a Japanese message and per-field errors."""

    def __init__(self, code: str, message_ja: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message_ja)
        self.code = code
        self.message_ja = message_ja
        self.errors = list(errors or [])


def invalid(errors: list[FieldError]) -> ApplicationError:
    return ApplicationError("validation_error", VALIDATION_MESSAGE, errors)


def not_found() -> ApplicationError:
    return ApplicationError("not_found", "該当する申請がありません。")


def line_not_found() -> ApplicationError:
    return ApplicationError("line_not_found", "該当する技能者の明細がありません。")


def not_editable(status_ja: str) -> ApplicationError:
    return ApplicationError(
        "not_editable",
        f"この申請は{status_ja}のため変更できません（変更できるのは下書きのみです）。",
    )


class JudgementUnavailable(Exception):
    """The judgement service could not be reached or answered with an unexpected error."""


class CcusNotFound(Exception):
    """The judgement service has no CCUS data for the worker (yet)."""


class TradeNotAvailable(Exception):
    """The judgement service refused the trade (no criteria loaded)."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja
