"""The refusals of the application service's core, declared next to its inbound port.

Every one is a :class:`~shared_kernel.errors.DomainError` (an English ``code``, a Japanese
``message``, field ``errors``); the HTTP adapter's one ``STATUS`` table gives each code its
status (``install_error_translator``).
"""

from __future__ import annotations

from collections.abc import Iterable

from shared_kernel.errors import VALIDATION_MESSAGE, DomainError, FieldError

__all__ = [
    "ApplicationError",
    "CcusNotFound",
    "DomainError",
    "FieldError",
    "JudgementUnavailable",
    "TradeNotAvailable",
    "invalid",
    "line_not_found",
    "not_editable",
    "not_found",
]

JUDGEMENT_UNAVAILABLE_JA = (
    "判定サービスに接続できないため、処理できませんでした。しばらくしてから再度お試しください。"
)
CCUS_NOT_FOUND_JA = (
    "この技能者のCCUSデータがまだ届いていないため、判定の試算ができません。"
    "申請はできます（CCUSデータの受信後に判定されます）。"
)


class ApplicationError(DomainError):
    """A request the application service refuses (``code`` → status in the HTTP adapter)."""


def invalid(errors: Iterable[FieldError]) -> ApplicationError:
    """The request's fields are wrong (``validation_error``, 422)."""
    return ApplicationError("validation_error", VALIDATION_MESSAGE, list(errors))


def not_found() -> ApplicationError:
    return ApplicationError("not_found", "該当する申請がありません。")


def line_not_found() -> ApplicationError:
    return ApplicationError("line_not_found", "該当する技能者の明細がありません。")


def not_editable(status_ja: str) -> ApplicationError:
    return ApplicationError(
        "not_editable",
        f"この申請は{status_ja}のため変更できません（変更できるのは下書きのみです）。",
    )


class JudgementUnavailable(ApplicationError):
    """The judgement service could not be reached or answered with an unexpected error."""

    def __init__(self, reason: str = "") -> None:
        super().__init__("judgement_unavailable", JUDGEMENT_UNAVAILABLE_JA)
        self.reason = reason


class CcusNotFound(ApplicationError):
    """The judgement service has no CCUS data for the worker (yet)."""

    def __init__(self, worker_id: str = "") -> None:
        super().__init__("ccus_not_found", CCUS_NOT_FOUND_JA)
        self.worker_id = worker_id


class TradeNotAvailable(ApplicationError):
    """The judgement service refused the trade (no criteria loaded)."""

    def __init__(self, message_ja: str) -> None:
        super().__init__("trade_not_available", message_ja)
