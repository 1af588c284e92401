"""Interfaces the consent service needs from the outside world."""

from consent.ports.access import AccessRecorder
from consent.ports.documents import Aggregates, CheckRecords
from consent.ports.files import Disarmer, FileStore

__all__ = ["AccessRecorder", "Aggregates", "CheckRecords", "Disarmer", "FileStore"]
