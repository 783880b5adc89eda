"""Writing domain events to the ``outbox`` table (dispatched later by the worker)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.events import DomainEvent

# One statement whatever the number of events: a commit writes its events in one round trip.
_INSERT_EVENTS = sa.text(
    "INSERT INTO outbox (id, name, payload, occurred_at, status, attempts, available_at, "
    "created_at) "
    "SELECT id, name, CAST(payload AS jsonb), occurred_at, 'pending', 0, occurred_at, "
    "occurred_at FROM unnest(CAST(:ids AS uuid[]), CAST(:names AS text[]), "
    "CAST(:payloads AS text[]), CAST(:occurred_at AS timestamptz[])) "
    "AS e(id, name, payload, occurred_at)"
)


async def write_events(connection: AsyncConnection, events: Sequence[DomainEvent]) -> None:
    """Insert ``events`` as pending outbox rows, on the caller's transaction."""
    if not events:
        return
    await connection.execute(
        _INSERT_EVENTS,
        {
            "ids": [event.id for event in events],
            "names": [event.name for event in events],
            "payloads": [json.dumps(dict(event.payload)) for event in events],
            "occurred_at": [event.occurred_at for event in events],
        },
    )
