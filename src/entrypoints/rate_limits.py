"""Which store keeps the members' write budgets: Redis when ``REDIS_URL`` is set, else
PostgreSQL — shared by every instance either way."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.rate_limits import PostgresWriteRateLimiter
from adapters.redis.rate_limits import RedisWriteRateLimiter
from core.domain.rate_limits import SlidingWindowLimit
from core.ports.rate_limits import WriteRateLimiter
from entrypoints.settings import Settings

WRITE_WINDOW_SECONDS = 60.0


def make_write_rate_limiter(settings: Settings, engine: AsyncEngine) -> WriteRateLimiter:
    limit = SlidingWindowLimit(settings.write_rate_limit_per_minute, WRITE_WINDOW_SECONDS)
    if settings.redis_url is not None:
        return RedisWriteRateLimiter(settings.redis_url.reveal(), limit)
    return PostgresWriteRateLimiter(engine, limit)
