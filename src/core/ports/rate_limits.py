"""A shared budget of writes per member."""

from __future__ import annotations

from typing import Protocol


class WriteRateLimiter(Protocol):
    """Counts writes against ``core.domain.rate_limits.SlidingWindowLimit``, shared by every
    instance of the app (the state lives in PostgreSQL or Redis, with their clock), atomic
    under concurrency, in one round trip."""

    async def hit(self, key: str) -> int | None:
        """Count one write for ``key``: ``None`` if admitted, else whole seconds until one
        would be. Raises ``StorageUnavailable`` when the store cannot be reached."""
        ...

    async def prune(self) -> int:
        """Forget keys with no admitted write within the window; how many were forgotten
        (periodic, in the worker; stores that expire keys on their own return 0)."""
        ...

    async def close(self) -> None:
        """Release connections (the PostgreSQL one shares the app's engine: nothing)."""
        ...
