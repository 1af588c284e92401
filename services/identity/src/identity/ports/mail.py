"""How the core hands the activation mail to the mail server."""

from __future__ import annotations

from typing import Protocol

from identity.core.activation_mail import ActivationMail


class MailUnavailable(Exception):
    """The mail server did not take the mail (unreachable, refused, timed out)."""


class ActivationMailer(Protocol):
    async def send(self, mail: ActivationMail) -> None:
        """Hand the mail over or raise :class:`MailUnavailable`."""
        ...
