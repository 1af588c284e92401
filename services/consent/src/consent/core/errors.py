"""Errors the core raises; the HTTP adapter maps each ``code`` to a status."""

from __future__ import annotations

from typing import Any


class ConsentError(Exception):
    """A refused request: a stable ``code``, a Japanese message and per-field errors."""

    def __init__(
        self,
        code: str,
        message_ja: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message_ja)
        self.code = code
        self.message_ja = message_ja
        self.errors = errors or []
        self.headers = headers or {}  # e.g. Retry-After of a limit


def invalid(errors: list[dict[str, Any]]) -> ConsentError:
    return ConsentError("validation_error", "入力内容に誤りがあります。", errors)


def not_found() -> ConsentError:
    return ConsentError("not_found", "該当する個人情報利用申請がありません。")
