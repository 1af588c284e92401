"""Interfaces the core needs from the outside world (password hashing, the mail server).

Its aggregates are stored through ``shared_kernel.aggregate.Aggregates`` (a typed
repository per collection, wired in ``inject.py``)."""

from identity.ports.hashing import PasswordHasher
from identity.ports.mail import ActivationMailer, MailUnavailable

__all__ = ["ActivationMailer", "MailUnavailable", "PasswordHasher"]
