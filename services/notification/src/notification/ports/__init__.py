"""Interfaces the core needs from the outside world (documents, mailer, templates)."""

from notification.ports.documents import Documents
from notification.ports.mailer import Mailer, PermanentFailure, Renderer, TransientFailure

__all__ = ["Documents", "Mailer", "PermanentFailure", "Renderer", "TransientFailure"]
