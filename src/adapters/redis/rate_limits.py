"""The write rate limit in Redis: one script call (one round trip) per write."""

from __future__ import annotations

import redis.asyncio as redis
from redis.exceptions import RedisError

from core.domain.rate_limits import SlidingWindowLimit, retry_after_seconds
from core.errors import StorageUnavailable

# The list at KEYS[1] holds the times (ms, Redis's clock) of the last admitted writes, newest
# first — the state of ``SlidingWindowLimit.admit``. Scripts run atomically.
_HIT = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
if oldest and now - tonumber(oldest) < window then
  return tonumber(oldest) + window - now
end
redis.call('LPUSH', KEYS[1], now)
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class RedisWriteRateLimiter:
    """Implements ``core.ports.rate_limits.WriteRateLimiter`` with one Redis list per key
    (expiring a window after its last admitted write)."""

    def __init__(self, url: str, limit: SlidingWindowLimit, prefix: str = "chorus:rl:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._script = self._redis.register_script(_HIT)
        self._arguments = [limit.limit, max(1, round(limit.window_seconds * 1000))]
        self._prefix = prefix

    async def hit(self, key: str) -> int | None:
        try:
            wait_ms = int(await self._script(keys=[self._prefix + key], args=self._arguments))
        except (RedisError, OSError) as error:
            raise StorageUnavailable(
                "The rate-limit store is unavailable.", code="rate_limiter_unavailable"
            ) from error
        return None if wait_ms < 0 else retry_after_seconds(wait_ms / 1000)

    async def prune(self) -> int:
        return 0  # keys expire a window after their last admitted write

    async def close(self) -> None:
        await self._redis.aclose()
