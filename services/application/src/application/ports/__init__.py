"""Interfaces the application service needs from the outside world."""

from application.ports.documents import Documents
from application.ports.judgement import JudgementPort

__all__ = ["Documents", "JudgementPort"]
