"""Rooms and join tokens on a LiveKit server, through ``livekit-api``'s Twirp RoomService."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
from livekit import api
from livekit.api.room_service import RoomService

from core.domain.live import LiveGrants
from core.errors import FeatureUnavailable
from core.ports.live_video import RoomParticipant

NOT_FOUND = "not_found"


class LiveKitVideo:
    """Implements ``core.ports.live_video.LiveVideo``. ``url`` is where this server calls
    LiveKit's API (an internal address will do); ``public_url`` (default: ``url``) is the
    one handed to phones to join rooms. The HTTP client is opened on first use; close it
    with ``aclose()`` (in the app's lifespan)."""

    def __init__(
        self,
        *,
        url: str,
        public_url: str | None = None,
        api_key: str,
        api_secret: str,
        token_ttl: timedelta = timedelta(hours=6),
        empty_timeout: timedelta = timedelta(minutes=5),
        max_participants: int = 0,
        request_timeout: timedelta = timedelta(seconds=10),
    ) -> None:
        if not (url and api_key and api_secret):
            raise ValueError("LiveKit needs a URL, an API key and an API secret.")
        self._url = url
        self._public_url = public_url or url
        self._api_key = api_key
        self._api_secret = api_secret
        self._token_ttl = token_ttl
        self._empty_timeout = empty_timeout
        self._max_participants = max_participants
        self._request_timeout = request_timeout
        self._client: api.LiveKitAPI | None = None

    @property
    def client_url(self) -> str:
        return self._public_url

    async def create_room(
        self,
        name: str,
        *,
        empty_timeout: timedelta | None = None,
        max_participants: int | None = None,
    ) -> None:
        if empty_timeout is None:
            empty_timeout = self._empty_timeout
        if max_participants is None:
            max_participants = self._max_participants
        request = api.CreateRoomRequest(
            name=name,
            empty_timeout=int(empty_timeout.total_seconds()),
            max_participants=max_participants,
        )
        async with _video_errors("create the room"):
            await self._rooms().create_room(request)

    async def delete_room(self, name: str) -> None:
        async with _video_errors("close the room", tolerate_not_found=True):
            await self._rooms().delete_room(api.DeleteRoomRequest(room=name))

    async def list_participants(self, room: str) -> tuple[RoomParticipant, ...]:
        async with _video_errors("list the room's participants"):
            response = await self._rooms().list_participants(api.ListParticipantsRequest(room=room))
        return tuple(_participant(p) for p in response.participants)

    async def remove_participant(self, room: str, identity: str) -> None:
        async with _video_errors("remove the participant", tolerate_not_found=True):
            await self._rooms().remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            )

    def issue_token(
        self,
        room: str,
        identity: str,
        name: str,
        grants: LiveGrants,
        ttl: timedelta | None = None,
    ) -> str:
        video_grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=grants.can_publish,
            can_subscribe=grants.can_subscribe,
            can_publish_data=grants.can_publish_data,
        )
        return (
            api.AccessToken(self._api_key, self._api_secret)
            .with_identity(identity)
            .with_name(name)
            .with_grants(video_grants)
            .with_ttl(self._token_ttl if ttl is None else ttl)
            .to_jwt()
        )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _rooms(self) -> RoomService:
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=self._request_timeout.total_seconds())
            self._client = api.LiveKitAPI(
                self._url, self._api_key, self._api_secret, timeout=timeout
            )
        return self._client.room


def _participant(info: api.ParticipantInfo) -> RoomParticipant:
    return RoomParticipant(
        identity=info.identity,
        session=info.sid,
        name=info.name,
        joined_at=datetime.fromtimestamp(info.joined_at, UTC) if info.joined_at else None,
    )


@asynccontextmanager
async def _video_errors(action: str, *, tolerate_not_found: bool = False) -> AsyncIterator[None]:
    """LiveKit and network failures become ``FeatureUnavailable``; with
    ``tolerate_not_found`` a missing room or participant counts as done."""
    try:
        yield
    except api.ServerError as error:
        if tolerate_not_found and error.code == NOT_FOUND:
            return
        code = "live_video_unavailable" if error.status >= 500 else "live_video_rejected"
        raise FeatureUnavailable(
            f"Live video could not {action}.", code=code, status=error.status, reason=error.code
        ) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise FeatureUnavailable(
            f"Live video could not {action}: the service is unreachable.",
            code="live_video_unavailable",
        ) from error
