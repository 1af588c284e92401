"""PDF storage in GridFS, by a deterministic file id (a retried upload finds the first)."""

from __future__ import annotations

import contextlib

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared_kernel.mongo import Document


class PdfFiles:
    def __init__(self, db: AsyncDatabase[Document], bucket: str = "pdfs") -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)

    async def put(self, file_id: str, name: str, data: bytes) -> None:
        with contextlib.suppress(DuplicateKeyError):  # stored already by an earlier attempt
            await self.bucket.upload_from_stream_with_id(
                file_id, name, data, metadata={"contentType": "application/pdf"}
            )

    async def get(self, file_id: str) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return None
        return bytes(await stream.read())
