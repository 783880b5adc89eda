"""Two workers (separate containers, so separate connection pools) on one database."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.events import DomainEvent
from core.use_cases.jobs import EventHandlers, PeriodicTasks
from entrypoints.settings import Settings
from tests.integration.worker.support import add_events, eventually, running_worker, scalar

JOBS = 1000


async def test_two_workers_process_1000_jobs_each_exactly_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    job_ids = set(await add_events(engine, [("test.job", {"n": n}) for n in range(JOBS)]))
    runs: Counter[uuid.UUID] = Counter()
    by_worker: Counter[str] = Counter()
    running: set[uuid.UUID] = set()
    overlaps: list[uuid.UUID] = []

    def handlers_for(name: str) -> EventHandlers:
        async def handle(event: DomainEvent) -> None:
            if event.id in running:
                overlaps.append(event.id)
            running.add(event.id)
            await asyncio.sleep(random.random() / 1000)
            running.discard(event.id)
            runs[event.id] += 1
            by_worker[name] += 1

        handlers = EventHandlers()
        handlers.register("test.job", "count", handle)
        return handlers

    tuned = replace(
        settings,
        worker=replace(settings.worker, poll_seconds=0.02, batch_size=25, concurrency=5),
    )
    async with (
        running_worker(tuned, handlers=handlers_for("a"), tasks=PeriodicTasks()),
        running_worker(tuned, handlers=handlers_for("b"), tasks=PeriodicTasks()),
    ):

        async def all_done() -> bool:
            done = await scalar(engine, "SELECT count(*) FROM outbox WHERE status = 'done'")
            return bool(done == JOBS)

        await eventually(all_done, within=30)

    assert set(runs) == job_ids
    assert set(runs.values()) == {1}
    assert overlaps == []
    assert by_worker["a"] > 0
    assert by_worker["b"] > 0
    assert by_worker["a"] + by_worker["b"] == JOBS
    assert await scalar(engine, "SELECT max(attempts) FROM outbox") == 1
