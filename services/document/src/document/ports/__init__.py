"""Interfaces the document service needs from the outside world (the collections are
``shared_kernel.aggregate.Aggregates`` of the core's models)."""

from document.ports.files import Files
from document.ports.rendering import Renderer

__all__ = ["Files", "Renderer"]
