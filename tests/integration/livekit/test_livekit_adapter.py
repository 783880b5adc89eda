"""The LiveKit adapters against livekit-api's real client, a local Twirp contract server and
livekit-api's own token verifier. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import jwt
import pytest
from google.protobuf import json_format
from livekit import api

from adapters.livekit.video import LiveKitVideo
from adapters.livekit.webhooks import LiveKitWebhookVerifier
from core.domain.live import HOST_GRANTS, VIEWER_GRANTS, RoomEvent, RoomEventKind
from core.errors import FeatureUnavailable, InvalidInput, NotAuthenticated
from core.ports.live_video import LiveVideo, LiveWebhookVerifier
from tests.contracts.livekit_server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    LiveKitContractServer,
    livekit_server,
)

__all__ = ["livekit_server"]  # the fixture, re-exported for pytest

ROOM = "live-0f8e"


def make_video(server_url: str, api_secret: str = DEFAULT_API_SECRET) -> LiveKitVideo:
    return LiveKitVideo(
        url=server_url,
        api_key=DEFAULT_API_KEY,
        api_secret=api_secret,
        token_ttl=timedelta(hours=2),
        empty_timeout=timedelta(minutes=10),
        max_participants=50,
        request_timeout=timedelta(seconds=2),
    )


@pytest.fixture
async def video(livekit_server: LiveKitContractServer) -> AsyncIterator[LiveKitVideo]:
    adapter = make_video(livekit_server.url)
    yield adapter
    await adapter.aclose()


# --- rooms and participants ----------------------------------------------------------------


async def test_create_room_uses_the_configured_defaults(
    video: LiveKitVideo, livekit_server: LiveKitContractServer
) -> None:
    await video.create_room(ROOM)
    await video.create_room(ROOM)  # already there: fine
    room = livekit_server.rooms[ROOM]
    assert (room.empty_timeout, room.max_participants) == (600, 50)
    assert [c.content_type for c in livekit_server.calls_to("CreateRoom")] == [
        "application/protobuf"
    ] * 2


async def test_create_room_overrides(
    video: LiveKitVideo, livekit_server: LiveKitContractServer
) -> None:
    await video.create_room(ROOM, empty_timeout=timedelta(seconds=30), max_participants=3)
    room = livekit_server.rooms[ROOM]
    assert (room.empty_timeout, room.max_participants) == (30, 3)


async def test_delete_room_closes_it_and_a_missing_room_is_fine(
    video: LiveKitVideo, livekit_server: LiveKitContractServer
) -> None:
    await video.create_room(ROOM)
    livekit_server.add_participant(ROOM, "viewer-1")
    await video.delete_room(ROOM)
    assert ROOM not in livekit_server.rooms
    assert ROOM not in livekit_server.participants
    await video.delete_room(ROOM)
    assert [c.status for c in livekit_server.calls_to("DeleteRoom")] == [200, 404]


async def test_list_participants(
    video: LiveKitVideo, livekit_server: LiveKitContractServer
) -> None:
    await video.create_room(ROOM)
    host = livekit_server.add_participant(ROOM, "host-1", "Ada")
    livekit_server.add_participant(ROOM, "viewer-1")
    participants = await video.list_participants(ROOM)
    assert {p.identity for p in participants} == {"host-1", "viewer-1"}
    ada = next(p for p in participants if p.identity == "host-1")
    assert (ada.session, ada.name) == (host.sid, "Ada")
    assert ada.joined_at is not None
    assert ada.joined_at.tzinfo is UTC
    assert await video.list_participants("live-nobody") == ()


async def test_remove_participant_and_someone_already_gone_is_fine(
    video: LiveKitVideo, livekit_server: LiveKitContractServer
) -> None:
    await video.create_room(ROOM)
    livekit_server.add_participant(ROOM, "viewer-1")
    await video.remove_participant(ROOM, "viewer-1")
    assert livekit_server.participants[ROOM] == {}
    await video.remove_participant(ROOM, "viewer-1")


async def test_a_wrong_secret_is_refused_and_mapped(
    livekit_server: LiveKitContractServer,
) -> None:
    adapter = make_video(livekit_server.url, api_secret="not-the-secret-0123456789abcdef0123")
    try:
        with pytest.raises(FeatureUnavailable) as raised:
            await adapter.create_room(ROOM)
    finally:
        await adapter.aclose()
    assert raised.value.code == "live_video_rejected"
    assert raised.value.extra == {"status": 401, "reason": "unauthenticated"}
    assert livekit_server.rooms == {}


async def test_an_unreachable_server_is_mapped() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = make_video(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(FeatureUnavailable) as raised:
            await adapter.delete_room(ROOM)
    finally:
        await adapter.aclose()
    assert raised.value.code == "live_video_unavailable"


# --- the contract server itself ------------------------------------------------------------


async def test_contract_server_requires_the_grant_each_call_needs(
    livekit_server: LiveKitContractServer,
) -> None:
    token = (
        api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET)
        .with_grants(api.VideoGrants(room_admin=True, room="another-room"))
        .to_jwt()
    )
    async with api.LiveKitAPI.with_token(token, livekit_server.url) as client:
        with pytest.raises(api.ServerError) as no_create:
            await client.room.create_room(api.CreateRoomRequest(name=ROOM))
        with pytest.raises(api.ServerError) as wrong_room:
            await client.room.list_participants(api.ListParticipantsRequest(room=ROOM))
    assert (no_create.value.status, no_create.value.code) == (403, "permission_denied")
    assert (wrong_room.value.status, wrong_room.value.code) == (403, "permission_denied")


async def test_contract_server_speaks_json_too(livekit_server: LiveKitContractServer) -> None:
    token = (
        api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET)
        .with_grants(api.VideoGrants(room_create=True))
        .to_jwt()
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{livekit_server.url}/twirp/livekit.RoomService/CreateRoom",
            json={"name": ROOM, "empty_timeout": 42},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.json()
    assert (body["name"], body["empty_timeout"]) == (ROOM, 42)
    assert livekit_server.rooms[ROOM].empty_timeout == 42


# --- join tokens ---------------------------------------------------------------------------


def verified_video_claims(token: str) -> tuple[api.access_token.Claims, dict[str, Any]]:
    claims = api.TokenVerifier(DEFAULT_API_KEY, DEFAULT_API_SECRET).verify(token)
    raw = jwt.decode(token, DEFAULT_API_SECRET, algorithms=["HS256"], issuer=DEFAULT_API_KEY)
    return claims, raw


TOKENS = make_video("ws://127.0.0.1:7880")  # minting tokens opens no connection


def test_host_token_carries_exactly_publish_subscribe_and_data() -> None:
    token = TOKENS.issue_token(ROOM, "host-1", "Ada", HOST_GRANTS)
    claims, raw = verified_video_claims(token)
    assert (claims.identity, claims.name) == ("host-1", "Ada")
    assert claims.video == api.VideoGrants(
        room_join=True, room=ROOM, can_publish=True, can_subscribe=True, can_publish_data=True
    )
    assert raw["video"] == {
        "roomJoin": True,
        "room": ROOM,
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
    }
    assert raw["exp"] - raw["nbf"] == 2 * 3600


def test_viewer_token_subscribes_and_chats_but_never_publishes() -> None:
    token = TOKENS.issue_token(ROOM, "viewer-1", "Bola", VIEWER_GRANTS, ttl=timedelta(minutes=5))
    claims, raw = verified_video_claims(token)
    assert claims.identity == "viewer-1"
    assert raw["video"] == {
        "roomJoin": True,
        "room": ROOM,
        "canPublish": False,
        "canSubscribe": True,
        "canPublishData": True,
    }
    assert raw["exp"] - raw["nbf"] == 300


def test_tokens_do_not_verify_with_another_secret() -> None:
    token = TOKENS.issue_token(ROOM, "viewer-1", "Bola", VIEWER_GRANTS)
    with pytest.raises(jwt.InvalidSignatureError):
        api.TokenVerifier(DEFAULT_API_KEY, "another-secret-0123456789abcdef0123").verify(token)


# --- webhooks ------------------------------------------------------------------------------

WEBHOOKS = LiveKitWebhookVerifier(api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET)
JOINED_AT = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)


def webhook_body(
    event: str = "participant_joined", participant: api.ParticipantInfo | None = None
) -> str:
    message = api.WebhookEvent(
        id="EV_1",
        event=event,
        room=api.Room(name=ROOM, sid="RM_1"),
        participant=participant,
        created_at=int(JOINED_AT.timestamp()),
    )
    return json_format.MessageToJson(message)


def sign(
    body: str,
    *,
    secret: str = DEFAULT_API_SECRET,
    ttl: timedelta = timedelta(minutes=5),
) -> str:
    body_hash = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(DEFAULT_API_KEY, secret).with_sha256(body_hash).with_ttl(ttl).to_jwt()


def test_a_signed_webhook_is_accepted_and_mapped() -> None:
    participant = api.ParticipantInfo(identity="viewer-1", sid="PA_7")
    body = webhook_body(participant=participant)
    assert WEBHOOKS.verify(body, sign(body)) == RoomEvent(
        id="EV_1",
        kind=RoomEventKind.PARTICIPANT_JOINED,
        room_name=ROOM,
        participant_identity="viewer-1",
        participant_session="PA_7",
        occurred_at=JOINED_AT,
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("room_finished", RoomEventKind.ROOM_FINISHED),
        ("participant_left", RoomEventKind.PARTICIPANT_LEFT),
        ("track_published", RoomEventKind.UNKNOWN),
    ],
)
def test_webhook_kinds(name: str, kind: RoomEventKind) -> None:
    body = webhook_body(name)
    event = WEBHOOKS.verify(body, f"Bearer {sign(body)}")
    assert (event.kind, event.room_name, event.participant_identity) == (kind, ROOM, None)


def test_a_webhook_with_a_bad_signature_is_rejected() -> None:
    body = webhook_body()
    with pytest.raises(NotAuthenticated):
        WEBHOOKS.verify(body, sign(body, secret="forged-secret-0123456789abcdef0123"))


def test_a_webhook_whose_body_does_not_match_its_hash_is_rejected() -> None:
    signed_body = webhook_body("participant_joined")
    with pytest.raises(NotAuthenticated):
        WEBHOOKS.verify(webhook_body("room_finished"), sign(signed_body))


def test_an_expired_webhook_is_rejected() -> None:
    body = webhook_body()
    with pytest.raises(NotAuthenticated):
        WEBHOOKS.verify(body, sign(body, ttl=timedelta(minutes=-5)))


@pytest.mark.parametrize("authorization", ["", "Bearer ", "not-a-jwt"])
def test_a_webhook_without_a_usable_token_is_rejected(authorization: str) -> None:
    with pytest.raises(NotAuthenticated):
        WEBHOOKS.verify(webhook_body(), authorization)


def test_a_token_without_a_body_hash_is_rejected() -> None:
    token = api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET).to_jwt()
    with pytest.raises(NotAuthenticated):
        WEBHOOKS.verify(webhook_body(), token)


def test_a_signed_body_that_is_not_an_event_is_invalid_input() -> None:
    body = "this is not json"
    with pytest.raises(InvalidInput):
        WEBHOOKS.verify(body, sign(body))


def test_the_adapters_implement_the_ports() -> None:
    """Checked statically by mypy; the assignments fail type-checking if a port drifts."""
    video: LiveVideo = TOKENS
    webhooks: LiveWebhookVerifier = WEBHOOKS
    assert video.client_url == "ws://127.0.0.1:7880"
    assert webhooks is WEBHOOKS
