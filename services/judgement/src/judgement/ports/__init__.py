"""Interfaces the judgement service needs from the outside world."""

from judgement.ports.documents import Documents

__all__ = ["Documents"]
