"""The Redis-backed write limiter shares one budget between app instances."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from entrypoints.http.rate_limit import RedisWriteRateLimiter

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(
    "TEST_REDIS_URL" not in os.environ and not _redis_reachable(), reason="no Redis here"
)
async def test_two_instances_share_the_budget():
    first, second = RedisWriteRateLimiter(REDIS_URL, 3), RedisWriteRateLimiter(REDIS_URL, 3)
    key = f"test-{uuid.uuid4()}"
    try:
        results = [await first.hit(key), await second.hit(key), await first.hit(key)]
        assert results == [None, None, None]
        assert (await second.hit(key) or 0) >= 1
    finally:
        await first.close()
        await second.close()
