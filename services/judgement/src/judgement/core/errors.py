"""Errors of the judgement core, next to its inbound port.

Every refusal a caller can see is a :class:`~shared_kernel.errors.DomainError` with a stable
English ``code`` and a Japanese ``message``; the inbound HTTP adapter gives each code its
status (``adapters.inbound.http.STATUS``, installed with ``install_error_translator``).
``MasterError`` is the one error that is not a refusal: a criteria master that cannot be
built (a deployment or upload problem, reported to the operator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from shared_kernel.errors import DomainError

JUDGEMENT_NOT_FOUND = "該当する判定がありません。"
CCUS_NOT_FOUND = "この技能者IDのCCUSデータがありません。"


class JudgementError(Exception):
    """Base of the errors of the judgement core that are not refusals."""


class MasterError(JudgementError):
    """The criteria master is invalid (schema violation, dangling reference, duplicate …)."""


class UnknownTrade(DomainError):
    """The trade (分野) named in a request is not in the master at all."""

    def __init__(self, trade: str) -> None:
        self.trade = trade
        super().__init__("unknown_trade", f"分野「{trade}」は基準マスタに登録されていません")

    @property
    def message_ja(self) -> str:
        return self.message


class TradeNotAvailable(DomainError):
    """A judgement (or its preview) asked for a 分野 that cannot be judged."""

    def __init__(self, message_ja: str) -> None:
        super().__init__("trade_not_available", message_ja)

    @property
    def message_ja(self) -> str:
        return self.message


class CriteriaNotAvailable(TradeNotAvailable):
    """The trade exists but no criteria table can be used for it: it must not be judged."""

    def __init__(self, trade: str, bodies: Sequence[str], message_ja: str) -> None:
        self.trade = trade
        self.bodies = tuple(bodies)
        super().__init__(message_ja)


class NotFound(DomainError):
    """A judgement (line) that does not exist, or that the caller may not see."""

    def __init__(self, line_id: str = "") -> None:
        self.line_id = line_id
        super().__init__("not_found", JUDGEMENT_NOT_FOUND)


class CcusNotFound(DomainError):
    """No CCUS data of the worker, or none the caller may read (a guessed 技能者ID tells
    nothing)."""

    def __init__(self) -> None:
        super().__init__("ccus_not_found", CCUS_NOT_FOUND)


class ReviewRefused(DomainError):
    """An evaluator's decision that cannot be applied; ``message`` says why."""

    def __init__(self, code: str, message_ja: str) -> None:
        super().__init__(code, message_ja)

    @property
    def message_ja(self) -> str:
        return self.message


class InvalidCareerCertification(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "invalid_career_certification", "経歴証明の開始日と終了日を正しく指定してください。"
        )


RefusalKind = Literal["not_found", "forbidden", "conflict", "invalid", "busy"]


class Refused(DomainError):
    """A request of criteria administration that is not carried out (nothing is stored);
    ``kind`` says what sort of refusal it is, the status comes from its ``code``."""

    def __init__(
        self,
        kind: RefusalKind,
        code: str,
        message_ja: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        super().__init__(code, message_ja, details=dict(details or {}))

    @property
    def message_ja(self) -> str:
        return self.message
