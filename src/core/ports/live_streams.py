"""Storage of live streams, their chat messages and the room events already handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.live import LiveMessage, LiveStream


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page stopped: the ordering key of its last item, a time and a tie-breaking id.
    The next page holds the items strictly after it (in the listing's order)."""

    at: datetime
    id: UUID


class LiveStreamRepository(Protocol):
    """Live streams and their chat, inside the current unit of work."""

    async def add(self, stream: LiveStream) -> bool:
        """Insert a new live ``stream``; ``False`` (and nothing written) when its host already
        has a live stream. Race-safe: of concurrent calls for one host at most one returns
        ``True`` — the storage, not a prior read, guarantees one live stream per host."""
        ...

    async def get(self, stream_id: UUID, *, lock: bool = False) -> LiveStream | None:
        """The stream with this id, or ``None``. With ``lock`` the stream is held until the
        unit of work ends, so concurrent changes to it happen one after another."""
        ...

    async def get_by_room(self, room_name: str, *, lock: bool = False) -> LiveStream | None:
        """The stream whose video room is ``room_name``, or ``None``; ``lock`` as in ``get``."""
        ...

    async def live_streams_of(self, host_id: UUID) -> Sequence[LiveStream]:
        """The host's streams that are live now (at most one)."""
        ...

    async def save(self, stream: LiveStream) -> None:
        """Write an existing stream's status, end time and viewer counts."""
        ...

    async def list_live(self, *, limit: int, after: Position | None) -> Sequence[LiveStream]:
        """Up to ``limit`` live streams, newest start first (then by id), strictly after
        ``after`` in that order."""
        ...

    async def mark_event_handled(self, event_id: str, at: datetime) -> bool:
        """Remember that the video service's event ``event_id`` was handled; ``False`` if it
        already was (a redelivery). Race-safe, like ``add``."""
        ...

    async def add_message_within_limit(
        self, message: LiveMessage, *, limit: int, since: datetime
    ) -> bool:
        """Insert ``message`` unless its author already posted ``limit`` messages in its stream
        at or after ``since``; ``True`` if inserted. Race-safe across processes: concurrent
        posts by one author in one stream are counted one after another."""
        ...

    async def list_messages(
        self, stream_id: UUID, *, limit: int, before: Position | None
    ) -> Sequence[LiveMessage]:
        """Up to ``limit`` messages of the stream, newest first (then by id), strictly older
        than ``before`` in that order."""
        ...
