"""Where the PDFs are kept (GridFS in production and locally)."""

from __future__ import annotations

from typing import Protocol


class Files(Protocol):
    async def put_once(self, file_id: str, name: str, data: bytes) -> bytes:
        """Store ``data`` under ``file_id`` unless a file is stored there already; return
        the bytes stored under ``file_id`` (the earlier file's, if there was one)."""
        ...

    async def get(self, file_id: str) -> bytes | None: ...
