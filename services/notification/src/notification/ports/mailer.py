"""Sending a message (implemented over SMTP by ``adapters.outbound.smtp``)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class PermanentFailure(Exception):
    """The message will never be accepted as it is (bad address, refused content)."""


class TransientFailure(Exception):
    """Try again later: server unreachable, busy (4xx), or not configured right yet."""

    def __init__(self, message: str, *, outage: bool = False) -> None:
        super().__init__(message)
        self.outage = outage  # the server could not be reached at all


class Mailer(Protocol):
    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Hand the message for ``recipient`` (the SMTP envelope's RCPT TO, exactly the
        recorded address) to the mail server; raise one of the failures above."""
        ...


class Renderer(Protocol):
    def render(self, template: str, context: dict[str, object]) -> tuple[str, str, str]:
        """The subject, plain-text body and HTML body of ``template`` with ``context``."""
        ...
