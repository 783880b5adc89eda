"""Blobs in an S3-compatible object store: AWS S3, Cloudflare R2, Supabase Storage, MinIO …

boto3 is synchronous, so each call runs in a worker thread (``asyncio.to_thread``); one
client is shared (boto3 clients are thread-safe) with its own connection pool. Playback
does not go through the API: ``download_url`` presigns a short-lived GET (SigV4, computed
locally without a request to the store) and the API redirects the player to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StoreConnectionError

from adapters.blobs.keys import checked_key
from core.errors import NotFound, StorageUnavailable

CHUNK_SIZE = 64 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Implements ``core.ports.blobs.BlobStore`` in one bucket. Objects keep the content
    type given to ``put``; the store answers it (and byte ranges) on presigned GETs."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str = "auto",
        presign_seconds: int = 300,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 30.0,
        max_connections: int = 20,
    ) -> None:
        self._bucket = bucket
        self._presign_seconds = presign_seconds
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                connect_timeout=connect_timeout_seconds,
                read_timeout=read_timeout_seconds,
                retries={"mode": "standard", "max_attempts": 3},
                max_pool_connections=max_connections,
            ),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # A PUT is atomic in S3: readers see the old object, or none, until it completes.
        await self._call(
            "put_object",
            Bucket=self._bucket,
            Key=checked_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def size(self, key: str) -> int:
        head = await self._call("head_object", Bucket=self._bucket, Key=checked_key(key))
        return int(head["ContentLength"])

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": checked_key(key)}
        if start or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end}"
        body = (await self._call("get_object", **request))["Body"]
        try:
            while chunk := await self._guarded(body.read, CHUNK_SIZE):
                yield chunk
        finally:
            await asyncio.to_thread(body.close)

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Bucket=self._bucket, Key=checked_key(key))

    async def download_url(self, key: str) -> str | None:
        url: str = await self._guarded(
            self._client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self._bucket, "Key": checked_key(key)},
            ExpiresIn=self._presign_seconds,
        )
        return url

    async def _call(self, operation: str, **arguments: Any) -> Any:
        return await self._guarded(getattr(self._client, operation), **arguments)

    async def _guarded(self, function: Any, *arguments: Any, **keywords: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *arguments, **keywords)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in _MISSING:
                raise NotFound("Audio not found.", code="blob_not_found") from None
            if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
                raise _unavailable() from error
            raise
        except (StoreConnectionError, HTTPClientError) as error:  # refused, timed out, cut
            raise _unavailable() from error


def _unavailable() -> StorageUnavailable:
    return StorageUnavailable(
        "The audio store could not be reached; try again shortly.",
        code="blob_store_unavailable",
    )
