"""Interfaces the document service needs from the outside world."""

from document.ports.documents import Documents
from document.ports.files import Files
from document.ports.rendering import Renderer

__all__ = ["Documents", "Files", "Renderer"]
