"""Interfaces the core needs from the outside world (document stores, password hashing)."""

from identity.ports.documents import Documents
from identity.ports.hashing import PasswordHasher

__all__ = ["Documents", "PasswordHasher"]
