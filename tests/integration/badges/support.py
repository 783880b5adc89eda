"""Steps shared by the badge tests: members, badges and the worker's statistics handler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.events import DomainEvent
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.integration.clips.helpers import execute
from tests.tokens import bearer, member_headers, service_token

SERVICE = bearer(service_token())


async def make_admin(client, engine: AsyncEngine) -> dict[str, str]:
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=subject)
    return member_headers(subject)


async def make_member(client, **profile: Any) -> tuple[uuid.UUID, dict[str, str]]:
    """A member seen once by the API (so their profile exists), with optional profile fields
    set through ``PATCH /me``."""
    member = uuid.uuid4()
    headers = member_headers(member)
    response = await client.get("/me", headers=headers)
    assert response.status_code == 200, response.text
    if profile:
        patched = await client.patch("/me", json=profile, headers=headers)
        assert patched.status_code == 200, patched.text
    return member, headers


async def add_badge(client, headers: dict[str, str], code: str, **criterion: Any) -> dict:
    body = {"code": code, "name": code.replace("-", " ").title(), "criterion": criterion}
    response = await client.post("/admin/badges", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def pending_events(engine: AsyncEngine, *names: str) -> list[DomainEvent]:
    """The outbox's events (of ``names``, if given), oldest first."""
    query = "SELECT id, name, payload, occurred_at FROM outbox ORDER BY created_at, id"
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text(query))).all()
    return [
        DomainEvent(row.id, row.name, row.occurred_at, row.payload)
        for row in rows
        if not names or row.name in names
    ]


@asynccontextmanager
async def worker_container(settings: Settings) -> AsyncIterator[Container]:
    """A container of its own (its own pool, on the test's event loop), as a worker has."""
    container = Container(settings=settings)
    try:
        yield container
    finally:
        await container.engine().dispose()


async def count_facts(container: Container, events: Iterable[DomainEvent]) -> None:
    """Run the worker's member-statistics handler on ``events``, as the worker would."""
    handler = container.record_member_activity()
    for event in events:
        await handler(event)


async def count_outbox(container: Container, engine: AsyncEngine) -> None:
    await count_facts(container, await pending_events(engine))
