"""Storage of audio and other binary objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class BlobStore(Protocol):
    """Binary objects under opaque keys (``clips/<id>.wav``): on local disk, or in an
    S3-compatible object store shared by every instance. Stores raise ``NotFound`` for a
    missing object and ``StorageUnavailable`` when the store cannot be reached."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (atomically: readers never see a partial object)."""
        ...

    async def size(self, key: str) -> int:
        """The object's size in bytes; raises ``NotFound`` if absent."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``start`` … ``end`` (inclusive; ``None`` = to the end) in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object if it exists."""
        ...

    async def download_url(self, key: str) -> str | None:
        """A short-lived URL from which anyone holding it can fetch the object directly (with
        the content type given to ``put``, ranges included), so its bytes need not pass
        through this service; ``None`` when the store hands out no such URLs (the caller
        streams the object with ``read``). Does not check that the object exists."""
        ...
