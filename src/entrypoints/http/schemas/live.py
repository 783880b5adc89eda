"""Wire structs for ``/live``, and the opaque page cursors of its listings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from core.domain.live import (
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    LiveGrants,
    LiveMessage,
    LiveRole,
    LiveStream,
)
from core.domain.pagination import decode_position, encode_position
from core.ports.live_streams import Position
from core.use_cases.live import StartStreamCommand, StreamJoin
from entrypoints.http.schemas.wire import NO_NUL, LanguageTag


class StartStreamIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_LENGTH, pattern=NO_NUL)]
    language: LanguageTag

    def to_command(self) -> StartStreamCommand:
        return StartStreamCommand(title=self.title, language=self.language)


class StreamTokenIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    stream_id: UUID
    role: Literal["host", "viewer"] | None = None

    def live_role(self) -> LiveRole | None:
        return LiveRole(self.role) if self.role else None


class StreamRefIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    stream_id: UUID


class ChatMessageIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_LENGTH, pattern=NO_NUL)]


class GrantsOut(msgspec.Struct, rename="camel"):
    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool

    @classmethod
    def of(cls, grants: LiveGrants) -> GrantsOut:
        return cls(
            can_publish=grants.can_publish,
            can_subscribe=grants.can_subscribe,
            can_publish_data=grants.can_publish_data,
        )


class StreamOut(msgspec.Struct, rename="camel"):
    id: UUID
    host_id: UUID
    title: str
    language: str
    room_name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: int | None
    current_viewers: int
    peak_viewers: int

    @classmethod
    def of(cls, stream: LiveStream) -> StreamOut:
        duration = stream.duration
        return cls(
            id=stream.id,
            host_id=stream.host_id,
            title=stream.title,
            language=stream.language,
            room_name=stream.room_name,
            status=stream.status.value,
            started_at=stream.started_at,
            ended_at=stream.ended_at,
            duration_seconds=int(duration.total_seconds()) if duration is not None else None,
            current_viewers=stream.current_viewers,
            peak_viewers=stream.peak_viewers,
        )


class StreamJoinOut(msgspec.Struct, rename="camel"):
    """Connect to ``url`` with ``token``; ``grants`` say what the token allows."""

    stream: StreamOut
    url: str
    token: str
    identity: str
    role: str
    grants: GrantsOut

    @classmethod
    def of(cls, join: StreamJoin) -> StreamJoinOut:
        return cls(
            stream=StreamOut.of(join.stream),
            url=join.url,
            token=join.token,
            identity=join.identity,
            role=join.role.value,
            grants=GrantsOut.of(join.grants),
        )


class StreamPageOut(msgspec.Struct, rename="camel"):
    items: list[StreamOut]
    next_cursor: str | None


class ChatMessageOut(msgspec.Struct, rename="camel"):
    id: UUID
    stream_id: UUID
    author_id: UUID
    body: str
    created_at: datetime

    @classmethod
    def of(cls, message: LiveMessage) -> ChatMessageOut:
        return cls(
            id=message.id,
            stream_id=message.stream_id,
            author_id=message.author_id,
            body=message.body,
            created_at=message.created_at,
        )


class ChatPageOut(msgspec.Struct, rename="camel"):
    items: list[ChatMessageOut]
    next_cursor: str | None


class WebhookOut(msgspec.Struct, rename="camel"):
    """``applied``, ``ignored`` (unknown event or room) or ``duplicate`` (already handled)."""

    outcome: str


def encode_cursor(position: Position | None) -> str | None:
    return None if position is None else encode_position(position.at, position.id)


def decode_cursor(cursor: str | None) -> Position | None:
    """The position in a cursor from ``encode_cursor``; 422 ``invalid_cursor`` otherwise."""
    if cursor is None:
        return None
    at, position_id = decode_position(cursor)
    return Position(at=at, id=position_id)
