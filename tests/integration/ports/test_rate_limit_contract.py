"""Issue 11 §5: the shared write limit — PostgreSQL, and Redis when ``REDIS_URL`` is set —
admits exactly what ``SlidingWindowLimit`` admits: never more than the limit in any window
(a burst across a minute boundary included), under concurrency, across instances."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.rate_limits import PostgresWriteRateLimiter
from adapters.redis.rate_limits import RedisWriteRateLimiter
from core.domain.rate_limits import SlidingWindowLimit
from core.ports.rate_limits import WriteRateLimiter

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    "TEST_REDIS_URL" not in os.environ and not _redis_reachable(), reason="no Redis here"
)

Factory = Callable[[SlidingWindowLimit], WriteRateLimiter]


@pytest.fixture(params=["postgres", pytest.param("redis", marks=needs_redis)])
async def make_limiter(request, engine: AsyncEngine) -> AsyncIterator[Factory]:
    made: list[WriteRateLimiter] = []
    prefix = f"chorus-test:{uuid.uuid4()}:"

    def build(limit: SlidingWindowLimit) -> WriteRateLimiter:
        limiter: WriteRateLimiter
        if request.param == "postgres":
            limiter = PostgresWriteRateLimiter(engine, limit)
        else:
            limiter = RedisWriteRateLimiter(REDIS_URL, limit, prefix=prefix)
        made.append(limiter)
        return limiter

    yield build
    for limiter in made:
        await limiter.close()


async def test_a_burst_of_260_in_3_seconds_gets_exactly_the_limit(make_limiter):
    limiter = make_limiter(SlidingWindowLimit(120, 60))
    key = str(uuid.uuid4())
    answers = []
    started = time.monotonic()
    for n in range(260):
        answers.append(await limiter.hit(key))
        await asyncio.sleep(max(0.0, started + 3.1 * n / 259 - time.monotonic()))
    assert time.monotonic() - started >= 3.0
    assert answers[:120] == [None] * 120
    assert all(wait is not None and 56 <= wait <= 60 for wait in answers[120:])


async def test_a_burst_across_a_window_boundary_never_exceeds_the_limit(make_limiter):
    # A 2 s window, so that the burst can straddle a wall-clock multiple of it: a fixed
    # window would reset there and admit the limit again.
    limiter = make_limiter(SlidingWindowLimit(10, 2))
    key = str(uuid.uuid4())
    await asyncio.sleep(2 - (time.time() % 2) + 1.25)  # 0.75 s before a boundary
    admitted = 0
    for _ in range(30):
        admitted += await limiter.hit(key) is None
        await asyncio.sleep(0.05)  # 1.5 s in all
    assert admitted == 10


async def test_slots_come_back_as_writes_leave_the_window(make_limiter):
    limiter = make_limiter(SlidingWindowLimit(3, 1))
    key = str(uuid.uuid4())
    assert [await limiter.hit(key) for _ in range(4)] == [None, None, None, 1]
    await asyncio.sleep(1.05)
    assert await limiter.hit(key) is None


async def test_concurrent_writes_never_exceed_the_limit(make_limiter):
    limiter = make_limiter(SlidingWindowLimit(25, 60))
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(limiter.hit(key) for _ in range(60)))
    assert answers.count(None) == 25


async def test_instances_share_one_budget_and_keys_are_separate(make_limiter):
    limit = SlidingWindowLimit(3, 60)
    first, second = make_limiter(limit), make_limiter(limit)
    key, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert [await first.hit(key), await second.hit(key), await first.hit(key)] == [None] * 3
    assert await second.hit(key) is not None
    assert await second.hit(other) is None


async def test_postgres_forgets_idle_members(engine: AsyncEngine):
    limiter = PostgresWriteRateLimiter(engine, SlidingWindowLimit(5, 0.2))
    await limiter.hit("idle")
    await asyncio.sleep(0.3)
    await limiter.hit("busy")
    assert await limiter.prune() == 1
    async with engine.connect() as connection:
        keys = (await connection.execute(sa.text("SELECT key FROM write_rate_limits"))).scalars()
        assert list(keys) == ["busy"]
