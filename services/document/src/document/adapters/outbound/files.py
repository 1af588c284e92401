"""PDF storage in GridFS (bucket ``pdfs``), by a deterministic file id.

``put_once`` is idempotent: a file already stored under the id is kept and returned, so a
retried handler signs exactly the bytes its first attempt stored. GridFS writes the
chunks before the file document; an upload cut short (crash) leaves chunks without a file
document. The next attempt waits for such chunks to be ``ORPHAN_AGE`` old (an upload still
running elsewhere finishes within that time), removes them and uploads again.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pymongo.asynchronous.database import AsyncDatabase

from shared_kernel.infra.mongo import Document

BUCKET = "pdfs"
ORPHAN_AGE = timedelta(seconds=10)


class PdfFiles:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        bucket: str = BUCKET,
        *,
        orphan_age: timedelta = ORPHAN_AGE,
        attempts: int = 40,
    ) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self.chunks = db[f"{bucket}.chunks"]
        self.orphan_age = orphan_age
        self.attempts = attempts

    async def put_once(self, file_id: str, name: str, data: bytes) -> bytes:
        for _ in range(self.attempts):
            stored = await self.get(file_id)
            if stored is not None:
                return stored
            try:
                await self.bucket.upload_from_stream_with_id(
                    file_id, name, data, metadata={"contentType": "application/pdf"}
                )
                return data
            except FileExists:
                pass
            if await self.get(file_id) is None:  # chunks without a file document
                if await self._orphaned_for(file_id) >= self.orphan_age:
                    with contextlib.suppress(NoFile):
                        await self.bucket.delete(file_id)  # removes the chunks too
                else:
                    await asyncio.sleep(0.5)  # maybe an upload still running elsewhere
        raise FileExists(f"could not store {file_id!r}: its chunks stay in the way")

    async def _orphaned_for(self, file_id: str) -> timedelta:
        """How long ago the newest chunk of ``file_id`` was written (ObjectId time)."""
        chunks = [c async for c in self.chunks.find({"files_id": file_id}, {"_id": 1})]
        if not chunks:
            return self.orphan_age
        newest: datetime = max(c["_id"].generation_time for c in chunks)
        return datetime.now(UTC) - newest

    async def get(self, file_id: str) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return None
        return bytes(await stream.read())
