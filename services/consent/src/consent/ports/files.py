"""Where signed consent forms are kept (GridFS), and what disarms them (qpdf, Pillow)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from consent.core.files import FileKind


class FileStore(Protocol):
    async def put(self, data: bytes, *, filename: str, metadata: Mapping[str, Any]) -> str:
        """Store a file; returns its id."""
        ...

    async def get(self, file_id: str) -> bytes | None:
        """The file's content, or ``None`` if there is no such file."""
        ...


class Disarmer(Protocol):
    """Parses a signed form of ``kind`` and writes it anew without anything active
    (``adapters/outbound/disarm.py``); raises a ``ConsentError`` (``pdf_unreadable``,
    ``pdf_encrypted``, ``image_too_large`` …) for a file it refuses. CPU-bound, fed hostile
    bytes: called off the event loop (``consent.core.files.disarm``)."""

    def __call__(
        self, data: bytes, kind: FileKind, *, max_pixels: int, max_pages: int
    ) -> bytes: ...
