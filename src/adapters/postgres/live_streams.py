"""Live streams, their chat messages and handled video-service events in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.keyset import newest_first
from adapters.postgres.tables import live_messages, live_streams, live_webhook_events
from core.domain.live import LiveMessage, LiveStream, StreamStatus
from core.domain.visibility import Visibility
from core.ports.live_streams import Position

LIVE = StreamStatus.LIVE.value
VISIBLE = Visibility.VISIBLE.value


def _to_stream(row: sa.Row[Any]) -> LiveStream:
    return LiveStream(
        id=row.id,
        host_id=row.host_id,
        title=row.title,
        language=row.language,
        room_name=row.room_name,
        status=StreamStatus(row.status),
        started_at=row.started_at,
        ended_at=row.ended_at,
        viewer_sessions=frozenset(row.viewer_sessions),
        peak_viewers=row.peak_viewers,
        visibility=Visibility(row.visibility),
    )


def _to_stream_row(stream: LiveStream) -> dict[str, object]:
    return {
        "id": stream.id,
        "host_id": stream.host_id,
        "title": stream.title,
        "language": stream.language,
        "room_name": stream.room_name,
        "status": stream.status.value,
        "started_at": stream.started_at,
        "ended_at": stream.ended_at,
        "viewer_sessions": sorted(stream.viewer_sessions),
        "peak_viewers": stream.peak_viewers,
        "visibility": stream.visibility.value,
    }


def _to_message(row: sa.Row[Any]) -> LiveMessage:
    return LiveMessage(
        id=row.id,
        stream_id=row.stream_id,
        author_id=row.author_id,
        body=row.body,
        created_at=row.created_at,
        visibility=Visibility(row.visibility),
    )


class PostgresLiveStreamRepository:
    """Implements ``core.ports.live_streams.LiveStreamRepository`` on the unit of work's
    connection. One live stream per host is the partial unique index
    ``live_streams_one_live_per_host``; the chat limit is counted under a transaction-scoped
    advisory lock per (stream, author). Listings leave out what moderation hid or removed."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, stream: LiveStream) -> bool:
        statement = (
            insert(live_streams)
            .values(_to_stream_row(stream))
            .on_conflict_do_nothing(
                index_elements=[live_streams.c.host_id],
                index_where=live_streams.c.status == LIVE,
            )
            .returning(live_streams.c.id)
        )
        result = await self._connection.execute(statement)
        return result.scalar_one_or_none() is not None

    async def get(self, stream_id: UUID, *, lock: bool = False) -> LiveStream | None:
        return await self._one(live_streams.c.id == stream_id, lock=lock)

    async def get_by_room(self, room_name: str, *, lock: bool = False) -> LiveStream | None:
        return await self._one(live_streams.c.room_name == room_name, lock=lock)

    async def live_streams_of(self, host_id: UUID) -> Sequence[LiveStream]:
        result = await self._connection.execute(
            sa.select(live_streams).where(
                live_streams.c.host_id == host_id, live_streams.c.status == LIVE
            )
        )
        return [_to_stream(row) for row in result]

    async def save(self, stream: LiveStream) -> None:
        values = _to_stream_row(stream)
        for fixed in ("id", "host_id", "room_name", "started_at"):
            del values[fixed]
        await self._connection.execute(
            sa.update(live_streams).where(live_streams.c.id == stream.id).values(values)
        )

    async def list_live(self, *, limit: int, after: Position | None) -> Sequence[LiveStream]:
        statement = newest_first(
            sa.select(live_streams).where(
                live_streams.c.status == LIVE, live_streams.c.visibility == VISIBLE
            ),
            live_streams.c.started_at,
            live_streams.c.id,
            before=None if after is None else (after.at, after.id),
            limit=limit,
        )
        return [_to_stream(row) for row in await self._connection.execute(statement)]

    async def mark_event_handled(self, event_id: str, at: datetime) -> bool:
        statement = (
            insert(live_webhook_events)
            .values(id=event_id, received_at=at)
            .on_conflict_do_nothing(index_elements=[live_webhook_events.c.id])
            .returning(live_webhook_events.c.id)
        )
        result = await self._connection.execute(statement)
        return result.scalar_one_or_none() is not None

    async def add_message_within_limit(
        self, message: LiveMessage, *, limit: int, since: datetime
    ) -> bool:
        key = f"chorus.live_chat:{message.stream_id}:{message.author_id}"
        await self._connection.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0)))
        )
        recent = await self._connection.scalar(
            sa.select(sa.func.count())
            .select_from(live_messages)
            .where(
                live_messages.c.stream_id == message.stream_id,
                live_messages.c.author_id == message.author_id,
                live_messages.c.created_at >= since,
            )
        )
        if (recent or 0) >= limit:
            return False
        await self._connection.execute(
            live_messages.insert().values(
                id=message.id,
                stream_id=message.stream_id,
                author_id=message.author_id,
                body=message.body,
                created_at=message.created_at,
            )
        )
        return True

    async def list_messages(
        self, stream_id: UUID, *, limit: int, before: Position | None
    ) -> Sequence[LiveMessage]:
        statement = newest_first(
            sa.select(live_messages).where(
                live_messages.c.stream_id == stream_id, live_messages.c.visibility == VISIBLE
            ),
            live_messages.c.created_at,
            live_messages.c.id,
            before=None if before is None else (before.at, before.id),
            limit=limit,
        )
        return [_to_message(row) for row in await self._connection.execute(statement)]

    async def _one(self, condition: sa.ColumnElement[bool], *, lock: bool) -> LiveStream | None:
        statement = sa.select(live_streams).where(condition)
        if lock:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).one_or_none()
        return _to_stream(row) if row else None
