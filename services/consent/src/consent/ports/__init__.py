"""Interfaces the consent service needs from the outside world."""

from consent.ports.access import AccessRecorder
from consent.ports.documents import Documents
from consent.ports.files import Disarmer, FileStore

__all__ = ["AccessRecorder", "Disarmer", "Documents", "FileStore"]
