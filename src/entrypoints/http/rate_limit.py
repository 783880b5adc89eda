"""Per-member limits on write requests: fixed one-minute windows, in memory for one process
or in Redis (atomic INCR) when ``REDIS_URL`` is set so that every instance shares them."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as redis

WINDOW_SECONDS = 60


class WriteRateLimiter(Protocol):
    async def hit(self, key: str) -> int | None:
        """Count one write for ``key``; ``None`` if allowed, else seconds until it may retry."""
        ...

    async def close(self) -> None: ...


class MemoryWriteRateLimiter:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str) -> int | None:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        async with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return None if count <= self._limit else _seconds_left(now)

    async def close(self) -> None:
        self._counts.clear()


class RedisWriteRateLimiter:
    def __init__(self, url: str, limit: int) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._limit = limit

    async def hit(self, key: str) -> int | None:
        now = time.time()
        redis_key = f"chorus:rl:{key}:{int(now // WINDOW_SECONDS)}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return None if int(count) <= self._limit else _seconds_left(now)

    async def close(self) -> None:
        await self._redis.aclose()


def _seconds_left(now: float) -> int:
    return max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS))


def make_write_rate_limiter(redis_url: str | None, limit: int) -> WriteRateLimiter:
    if redis_url:
        return RedisWriteRateLimiter(redis_url, limit)
    return MemoryWriteRateLimiter(limit)
