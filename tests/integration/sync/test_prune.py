"""The worker's ``sync.prune``: operations are remembered at least 30 days, expired
reservations go."""

from __future__ import annotations

from datetime import timedelta

import pytest

from entrypoints.container import Container
from entrypoints.worker.registry import build_periodic_tasks
from tests.integration.sync.helpers import (
    clips_of_new_members,
    count,
    push,
    reserve,
    skip_op,
)
from tests.tokens import member_headers

pytestmark = pytest.mark.integration


async def test_the_worker_forgets_old_operations_and_expired_reservations(
    client, engine, settings, clock
):
    (clip,) = await clips_of_new_members(engine, 1)
    headers = member_headers()
    skip = skip_op(clip)
    await push(client, headers, [skip])
    await reserve(client, member_headers())
    container = Container(settings=settings)
    container.clock.override(clock)
    try:
        tasks = build_periodic_tasks(container, settings)
        assert tasks.intervals["sync.prune"] == timedelta(hours=1)
        prune = tasks.get("sync.prune").task
        clock.advance(days=29)
        await prune()
        assert await count(engine, "sync_ops") == 1
        assert await count(engine, "clip_reservations") == 0
        (replayed,) = await push(client, headers, [skip])
        assert replayed["status"] == "duplicate"
        clock.advance(days=2)
        await prune()
        assert await count(engine, "sync_ops") == 0
    finally:
        await container.engine().dispose()
