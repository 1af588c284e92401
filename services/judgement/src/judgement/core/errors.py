"""Errors of the judgement core. Each carries a message fit to show an operator."""

from __future__ import annotations

from collections.abc import Sequence


class JudgementError(Exception):
    """Base of every error the core raises on purpose."""


class MasterError(JudgementError):
    """The criteria master is invalid (schema violation, dangling reference, duplicate …)."""


class UnknownTrade(JudgementError):
    """The trade (分野) named in a request is not in the master at all."""

    def __init__(self, trade: str) -> None:
        self.trade = trade
        self.message_ja = f"分野「{trade}」は基準マスタに登録されていません"
        super().__init__(f"unknown trade {trade!r}: {self.message_ja}")


class CriteriaNotAvailable(JudgementError):
    """The trade exists but no criteria table can be used for it: it must not be judged."""

    def __init__(self, trade: str, bodies: Sequence[str], message_ja: str) -> None:
        self.trade = trade
        self.bodies = tuple(bodies)
        self.message_ja = message_ja
        super().__init__(message_ja)
