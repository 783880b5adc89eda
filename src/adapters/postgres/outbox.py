"""Writing domain events to the ``outbox`` table (dispatched later by the worker)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import outbox
from core.domain.events import DomainEvent


async def write_events(connection: AsyncConnection, events: Sequence[DomainEvent]) -> None:
    """Insert ``events`` as pending outbox rows, on the caller's transaction."""
    if not events:
        return
    rows = [
        {
            "id": event.id,
            "name": event.name,
            "payload": dict(event.payload),
            "occurred_at": event.occurred_at,
            "status": "pending",
            "attempts": 0,
            "available_at": event.occurred_at,
            "created_at": event.occurred_at,
        }
        for event in events
    ]
    await connection.execute(outbox.insert(), rows)
