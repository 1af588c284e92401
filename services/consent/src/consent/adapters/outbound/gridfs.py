"""Signed consent forms in GridFS (bucket ``signed_forms`` of the service's database).

Files are only ever added: a replaced or returned form stays, referenced from the
consent's ``previous_forms`` (the evidence of what was reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from shared_kernel.infra.mongo import Document

BUCKET = "signed_forms"


class GridFsFiles:
    def __init__(self, db: AsyncDatabase[Document], bucket: str = BUCKET) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)

    async def put(self, data: bytes, *, filename: str, metadata: Mapping[str, Any]) -> str:
        file_id = await self.bucket.upload_from_stream(filename, data, metadata=dict(metadata))
        return str(file_id)

    async def get(self, file_id: str) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(ObjectId(file_id))
        except (NoFile, InvalidId):
            return None
        data: bytes = await stream.read()
        return data
