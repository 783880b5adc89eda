"""Helpers for the worker, push and analytics integration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.outbox import write_events
from core.domain.events import DomainEvent
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.worker.runtime import Worker


def fast_worker_settings(settings: Settings, expo_url: str, **worker: Any) -> Settings:
    """Short polls, leases and backoff, so tests finish in seconds."""
    tuned = {
        "poll_seconds": 0.02,
        "lease_seconds": 5.0,
        "backoff_base_seconds": 0.05,
        "backoff_cap_seconds": 0.5,
        "shutdown_seconds": 5.0,
        "receipt_delay_seconds": 0.0,
        "receipt_interval_seconds": 0.2,
    }
    return replace(
        settings,
        expo_push_url=expo_url,
        push_sender="expo",
        worker=replace(settings.worker, **(tuned | worker)),
    )


async def add_members(engine: AsyncEngine, count: int) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    members = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": member,
            "role": "member",
            "status": "active",
            "languages": [],
            "created_at": now,
            "updated_at": now,
        }
        for member in members
    ]
    async with engine.begin() as connection:
        await connection.execute(sa.text(
            "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
            "VALUES (:id, :role, :status, :languages, :created_at, :updated_at)"
        ), rows)  # fmt: skip
    return members


async def add_tokens(
    engine: AsyncEngine, tokens: dict[str, uuid.UUID], at: datetime | None = None
) -> None:
    now = at or datetime.now(UTC)
    rows = [{"token": token, "profile_id": member, "now": now} for token, member in tokens.items()]
    async with engine.begin() as connection:
        await connection.execute(sa.text(
            "INSERT INTO push_tokens (token, profile_id, active, created_at, updated_at) "
            "VALUES (:token, :profile_id, true, :now, :now)"
        ), rows)  # fmt: skip


async def add_events(
    engine: AsyncEngine, events: Iterable[tuple[str, dict[str, Any]]]
) -> list[uuid.UUID]:
    """Commit domain events to the outbox, as a use case's unit of work would."""
    now = datetime.now(UTC)
    made = [DomainEvent(uuid.uuid4(), name, now, payload) for name, payload in events]
    async with engine.begin() as connection:
        await write_events(connection, made)
    return [event.id for event in made]


async def scalar(engine: AsyncEngine, query: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(sa.text(query), params)).scalar_one()


async def rows(engine: AsyncEngine, query: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.text(query), params)).all())


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0, every: float = 0.05
) -> None:
    """Wait until ``check()`` is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(every)


@asynccontextmanager
async def running_worker(
    settings: Settings, container: Container | None = None, **kwargs: Any
) -> AsyncIterator[Worker]:
    """An in-process worker with its own container (its own connection pool)."""
    worker = Worker(container or Container(settings=settings), settings, **kwargs)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=15)
        await worker.close()
