"""Interfaces the consent service needs from the outside world."""

from consent.ports.documents import Documents
from consent.ports.files import FileStore

__all__ = ["Documents", "FileStore"]
