"""Where signed consent forms are kept (GridFS in production and tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class FileStore(Protocol):
    async def put(self, data: bytes, *, filename: str, metadata: Mapping[str, Any]) -> str:
        """Store a file; returns its id."""
        ...

    async def get(self, file_id: str) -> bytes | None:
        """The file's content, or ``None`` if there is no such file."""
        ...
