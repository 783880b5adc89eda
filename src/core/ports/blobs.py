"""Storage of audio and other binary objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class BlobStore(Protocol):
    """Binary objects under opaque keys (``clips/<id>.wav``)."""

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
