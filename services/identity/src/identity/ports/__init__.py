"""Interfaces the core needs from the outside world (document stores, password hashing,
the mail server)."""

from identity.ports.documents import Documents
from identity.ports.hashing import PasswordHasher
from identity.ports.mail import ActivationMailer, MailUnavailable

__all__ = ["ActivationMailer", "Documents", "MailUnavailable", "PasswordHasher"]
