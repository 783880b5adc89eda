"""The real-time video service that carries live streams, and its signed notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.domain.live import LiveGrants, RoomEvent


@dataclass(frozen=True, slots=True)
class RoomParticipant:
    """Someone connected to a room right now."""

    identity: str
    session: str
    name: str
    joined_at: datetime | None


class LiveVideo(Protocol):
    """Rooms, participants and join tokens on the video service. Raises
    ``FeatureUnavailable`` when the service cannot be reached or refuses the call."""

    @property
    def client_url(self) -> str:
        """The URL that apps connect to with the tokens issued here."""
        ...

    async def create_room(
        self,
        name: str,
        *,
        empty_timeout: timedelta | None = None,
        max_participants: int | None = None,
    ) -> None:
        """Creates the room (or keeps it if it exists); ``None`` means the configured
        default. The room closes itself once empty for ``empty_timeout``."""
        ...

    async def delete_room(self, name: str) -> None:
        """Disconnects everyone and closes the room; a room already gone is fine."""
        ...

    async def list_participants(self, room: str) -> tuple[RoomParticipant, ...]:
        """Who is in the room now; empty for a room that does not exist."""
        ...

    async def remove_participant(self, room: str, identity: str) -> None:
        """Disconnects one participant; someone already gone is fine."""
        ...

    def issue_token(
        self,
        room: str,
        identity: str,
        name: str,
        grants: LiveGrants,
        ttl: timedelta | None = None,
    ) -> str:
        """A signed token letting ``identity`` join ``room`` with exactly ``grants``;
        ``ttl`` ``None`` means the configured default."""
        ...


class LiveWebhookVerifier(Protocol):
    """Checks the video service's signed notifications."""

    def verify(self, body: str, authorization: str) -> RoomEvent:
        """The event in ``body``. Raises ``NotAuthenticated`` when the signature, the body's
        hash or the token's expiry does not check out, ``InvalidInput`` when a correctly
        signed body is not an event."""
        ...
