"""The refusals of the notification service's use cases (translated to HTTP by the
inbound adapter's ``STATUS`` table)."""

from __future__ import annotations

from shared_kernel.errors import DomainError


class MailNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("mail_not_found", "指定されたメールの記録がありません。")


class MailNotRequeueable(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "mail_not_failed",
            "再送できるのは、宛先があり期限切れでない、送信に失敗したメールだけです。",
        )
