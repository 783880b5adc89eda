"""SPEC §8 through HTTP: real PostgreSQL, livekit-api's real client against the LiveKit
contract server, and livekit-api's own verifier for the tokens Chorus mints."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from google.protobuf import json_format
from litestar import Litestar
from litestar.testing import AsyncTestClient
from livekit import api
from sqlalchemy.ext.asyncio import AsyncEngine

from entrypoints.settings import Environment, Secret
from tests.contracts.livekit_server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    LiveKitContractServer,
    livekit_server,
)
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers

__all__ = ["livekit_server"]  # the fixture, re-exported for pytest

LIVEKIT = {"livekit_api_key": DEFAULT_API_KEY, "livekit_api_secret": Secret(DEFAULT_API_SECRET)}


def live_app(make_app: Callable[..., Litestar], url: str, **overrides: object) -> Litestar:
    return make_app(livekit_url=url, **LIVEKIT, **overrides)


@pytest.fixture
async def client(
    make_app: Callable[..., Litestar], livekit_server: LiveKitContractServer
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=live_app(make_app, livekit_server.url)) as test_client:
        yield test_client


class Member:
    """A member with a stable id and bearer headers."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.headers = member_headers(self.id)


async def go_live(client, host: Member, title: str = "Yoruba hour") -> dict[str, Any]:
    response = await client.post(
        "/live/start", json={"title": title, "language": "yo"}, headers=host.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def set_profile(engine: AsyncEngine, member: Member, **values: str) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(f"UPDATE profiles SET {assignments} WHERE id = :id"),
            {"id": member.id, **values},
        )


async def count(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(sa.text(sql), params) or 0)


async def stream_row(engine: AsyncEngine, stream_id: str) -> sa.Row[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(
            sa.text("SELECT * FROM live_streams WHERE id = :id"), {"id": uuid.UUID(stream_id)}
        )
        return result.one()


def video_claims(token: str) -> tuple[api.access_token.Claims, dict[str, Any]]:
    """Checked by livekit-api's own verifier, plus the raw claims to see every grant sent."""
    claims = api.TokenVerifier(DEFAULT_API_KEY, DEFAULT_API_SECRET).verify(token)
    raw = jwt.decode(token, DEFAULT_API_SECRET, algorithms=["HS256"], issuer=DEFAULT_API_KEY)
    return claims, raw


# --- going live and tokens -------------------------------------------------------------------


async def test_going_live_creates_room_row_event_and_a_publish_token(
    client, engine, livekit_server
):
    host = Member()
    body = await go_live(client, host, title="  Yoruba   hour ")
    stream = body["stream"]
    assert stream["title"] == "Yoruba hour"
    assert (stream["status"], stream["hostId"], stream["currentViewers"]) == (
        "live",
        str(host.id),
        0,
    )
    assert (body["url"], body["role"], body["identity"]) == (
        livekit_server.url,
        "host",
        str(host.id),
    )
    assert body["grants"] == {"canPublish": True, "canSubscribe": True, "canPublishData": True}
    assert stream["roomName"] in livekit_server.rooms
    assert [c.status for c in livekit_server.calls_to("CreateRoom")] == [200]

    claims, raw = video_claims(body["token"])
    assert claims.identity == str(host.id)
    assert raw["video"] == {
        "roomJoin": True,
        "room": stream["roomName"],
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
    }
    row = await stream_row(engine, stream["id"])
    assert (row.status, row.host_id, row.ended_at) == ("live", host.id, None)
    started = await count(
        engine,
        "SELECT count(*) FROM outbox WHERE name = 'stream.started' AND payload->>'streamId' = :id",
        id=stream["id"],
    )
    assert started == 1


async def test_viewer_tokens_subscribe_and_chat_but_never_publish(client):
    host, viewer = Member(), Member()
    stream = (await go_live(client, host))["stream"]
    response = await client.post(
        "/live/token", json={"streamId": stream["id"]}, headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["role"], body["identity"]) == ("viewer", str(viewer.id))
    claims, raw = video_claims(body["token"])
    assert claims.identity == str(viewer.id)
    assert claims.video == api.VideoGrants(
        room_join=True,
        room=stream["roomName"],
        can_publish=False,
        can_subscribe=True,
        can_publish_data=True,
    )
    assert raw["video"] == {
        "roomJoin": True,
        "room": stream["roomName"],
        "canPublish": False,
        "canSubscribe": True,
        "canPublishData": True,
    }
    host_again = await client.post(
        "/live/token", json={"streamId": stream["id"]}, headers=host.headers
    )
    assert video_claims(host_again.json()["token"])[1]["video"]["canPublish"] is True


async def test_tokens_do_not_verify_with_another_secret(client):
    body = await go_live(client, Member())
    with pytest.raises(jwt.InvalidSignatureError):
        api.TokenVerifier(DEFAULT_API_KEY, "another-secret-0123456789abcdef0123").verify(
            body["token"]
        )


async def test_publish_tokens_are_for_the_host_of_a_live_stream_only(client, engine):
    host, viewer, banned = Member(), Member(), Member()
    stream = (await go_live(client, host))["stream"]
    ask = {"streamId": stream["id"], "role": "host"}
    assert_problem(
        await client.post("/live/token", json=ask, headers=viewer.headers), 403, "host_only"
    )
    assert (await client.get("/me", headers=banned.headers)).status_code == 200
    await set_profile(engine, banned, status="banned")
    assert_problem(
        await client.post("/live/token", json={"streamId": stream["id"]}, headers=banned.headers),
        403,
        "account_banned",
    )
    await client.post("/live/end", json={"streamId": stream["id"]}, headers=host.headers)
    assert_problem(
        await client.post("/live/token", json=ask, headers=host.headers), 409, "stream_ended"
    )
    assert_problem(
        await client.post("/live/token", json={"streamId": stream["id"]}, headers=viewer.headers),
        409,
        "stream_ended",
    )
    assert_problem(
        await client.post(
            "/live/token", json={"streamId": str(uuid.uuid4())}, headers=host.headers
        ),
        404,
        "stream_not_found",
    )
    bad_role = await client.post(
        "/live/token", json={"streamId": stream["id"], "role": "publisher"}, headers=host.headers
    )
    assert_problem(bad_role, 422)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": "   ", "language": "yo"}, 422),  # a rule: blank after trimming
        ({"title": "x" * 121, "language": "yo"}, 422),  # the schema's maxLength
        ({"title": "Hi", "language": "not a language"}, 422),  # the schema's pattern
    ],
)
async def test_bad_stream_input_is_refused_and_nothing_is_created(client, engine, body, status):
    response = await client.post("/live/start", json=body, headers=Member().headers)
    assert_problem(response, status)
    assert await count(engine, "SELECT count(*) FROM live_streams") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"title": "a\u0000b", "language": "yo"},
        {"title": "Hi"},
        {"title": "Hi", "language": "yo", "x": 1},
    ],
)
async def test_malformed_stream_input_is_400(client, body):
    assert_problem(await client.post("/live/start", json=body, headers=Member().headers), 422)


async def test_a_second_live_stream_is_409(client, engine):
    host = Member()
    await go_live(client, host)
    response = await client.post(
        "/live/start", json={"title": "Again", "language": "yo"}, headers=host.headers
    )
    assert_problem(response, 409, "already_live")
    assert await count(engine, "SELECT count(*) FROM live_streams") == 1


async def test_concurrent_starts_by_one_host_create_exactly_one_stream(
    client, engine, livekit_server
):
    host = Member()
    assert (await client.get("/me", headers=host.headers)).status_code == 200
    responses = await asyncio.gather(
        *(
            client.post(
                "/live/start", json={"title": f"Take {i}", "language": "yo"}, headers=host.headers
            )
            for i in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "already_live")
    assert (
        await count(engine, "SELECT count(*) FROM live_streams WHERE host_id = :h", h=host.id) == 1
    )
    assert await count(engine, "SELECT count(*) FROM outbox WHERE name = 'stream.started'") == 1
    assert len(livekit_server.rooms) == 1


async def test_the_database_refuses_a_second_live_stream_for_a_host(client, engine):
    """The rule holds even for writes that bypass the application."""
    host = Member()
    stream = (await go_live(client, host))["stream"]
    with pytest.raises(sa.exc.IntegrityError, match="live_streams_one_live_per_host"):
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO live_streams (id, host_id, title, language, room_name, status, "
                    "started_at) SELECT gen_random_uuid(), host_id, title, language, 'other', "
                    "'live', now() FROM live_streams WHERE id = :id"
                ),
                {"id": uuid.UUID(stream["id"])},
            )


async def test_when_livekit_is_unreachable_going_live_is_503_and_nothing_is_kept(make_app, engine):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AsyncTestClient(app=live_app(make_app, f"http://127.0.0.1:{port}")) as down:
        response = await down.post(
            "/live/start", json={"title": "Hi", "language": "yo"}, headers=Member().headers
        )
    assert_problem(response, 503, "live_video_unavailable")
    assert await count(engine, "SELECT count(*) FROM live_streams") == 0
    assert await count(engine, "SELECT count(*) FROM outbox WHERE name LIKE 'stream.%'") == 0


# --- ending ---------------------------------------------------------------------------------


async def test_the_host_ends_the_stream_and_the_room_is_deleted(client, engine, livekit_server):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    livekit_server.add_participant(stream["roomName"], "someone")
    response = await client.post("/live/end", json={"streamId": stream["id"]}, headers=host.headers)
    assert response.status_code == 200, response.text
    ended = response.json()
    assert ended["status"] == "ended"
    assert ended["endedAt"] is not None
    assert ended["durationSeconds"] >= 0
    assert stream["roomName"] not in livekit_server.rooms
    row = await stream_row(engine, stream["id"])
    assert row.status == "ended"
    assert row.ended_at is not None
    payload_sql = (
        "SELECT count(*) FROM outbox WHERE name = 'stream.ended' "
        "AND payload->>'endedBy' = :by AND payload ? 'durationSeconds'"
    )
    assert await count(engine, payload_sql, by=str(host.id)) == 1


async def test_ending_twice_is_409_and_changes_nothing(client, engine):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    await client.post("/live/end", json={"streamId": stream["id"]}, headers=host.headers)
    before = await stream_row(engine, stream["id"])
    again = await client.post("/live/end", json={"streamId": stream["id"]}, headers=host.headers)
    assert_problem(again, 409, "stream_ended")
    assert await stream_row(engine, stream["id"]) == before
    assert await count(engine, "SELECT count(*) FROM outbox WHERE name = 'stream.ended'") == 1


async def test_a_viewer_cannot_end_someone_elses_stream(client, engine, livekit_server):
    host, viewer = Member(), Member()
    stream = (await go_live(client, host))["stream"]
    response = await client.post(
        "/live/end", json={"streamId": stream["id"]}, headers=viewer.headers
    )
    assert_problem(response, 403, "not_stream_host")
    assert (await stream_row(engine, stream["id"])).status == "live"
    assert stream["roomName"] in livekit_server.rooms


async def test_a_moderator_ends_any_stream(client, engine):
    host, moderator = Member(), Member()
    stream = (await go_live(client, host))["stream"]
    assert (await client.get("/me", headers=moderator.headers)).status_code == 200
    await set_profile(engine, moderator, role="moderator")
    response = await client.post(
        "/live/end", json={"streamId": stream["id"]}, headers=moderator.headers
    )
    assert response.status_code == 200, response.text


async def test_ending_an_unknown_stream_is_404(client):
    response = await client.post(
        "/live/end", json={"streamId": str(uuid.uuid4())}, headers=Member().headers
    )
    assert_problem(response, 404, "stream_not_found")


async def test_concurrent_ends_end_once(client, engine):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    responses = await asyncio.gather(
        *(
            client.post("/live/end", json={"streamId": stream["id"]}, headers=host.headers)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    assert await count(engine, "SELECT count(*) FROM outbox WHERE name = 'stream.ended'") == 1


# --- reading --------------------------------------------------------------------------------


async def test_live_streams_are_listed_newest_first_with_a_cursor(client):
    hosts = [Member() for _ in range(3)]
    ids = [(await go_live(client, host))["stream"]["id"] for host in hosts]
    ended_host = Member()
    ended = (await go_live(client, ended_host))["stream"]
    await client.post("/live/end", json={"streamId": ended["id"]}, headers=ended_host.headers)
    viewer = Member()
    first = await client.get("/live", params={"limit": 2}, headers=viewer.headers)
    assert first.status_code == 200, first.text
    assert [s["id"] for s in first.json()["items"]] == ids[::-1][:2]
    cursor = first.json()["nextCursor"]
    assert cursor
    second = await client.get(
        "/live", params={"limit": 2, "cursor": cursor}, headers=viewer.headers
    )
    assert [s["id"] for s in second.json()["items"]] == ids[:1]
    assert second.json()["nextCursor"] is None
    everything = await client.get("/live", headers=viewer.headers)
    assert len(everything.json()["items"]) == 3


@pytest.mark.parametrize(
    ("params", "status"),
    [({"cursor": "not-a-cursor"}, 422), ({"limit": 0}, 422), ({"limit": 101}, 422)],
)
async def test_bad_page_parameters_are_4xx(client, params, status):
    headers = Member().headers
    assert_problem(await client.get("/live", params=params, headers=headers), status)


async def test_get_one_stream(client):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    response = await client.get(f"/live/{stream['id']}", headers=Member().headers)
    assert response.status_code == 200
    assert response.json() == stream
    missing = await client.get(f"/live/{uuid.uuid4()}", headers=Member().headers)
    assert_problem(missing, 404, "stream_not_found")
    assert_problem(await client.get(f"/live/{stream['id']}"), 401, "missing_token")


# --- chat -----------------------------------------------------------------------------------


async def post_message(client, stream_id: str, member: Member, body: str):
    return await client.post(
        f"/live/{stream_id}/messages", json={"body": body}, headers=member.headers
    )


async def test_chat_is_kept_and_listed_newest_first_with_a_cursor(client):
    host, viewer = Member(), Member()
    stream_id = (await go_live(client, host))["stream"]["id"]
    bodies = ["  first  ", "second", "third"]
    for body in bodies:
        response = await post_message(client, stream_id, viewer, body)
        assert response.status_code == 201, response.text
    assert response.json()["authorId"] == str(viewer.id)
    page = await client.get(
        f"/live/{stream_id}/messages", params={"limit": 2}, headers=host.headers
    )
    assert page.status_code == 200, page.text
    assert [m["body"] for m in page.json()["items"]] == ["third", "second"]
    rest = await client.get(
        f"/live/{stream_id}/messages",
        params={"limit": 2, "cursor": page.json()["nextCursor"]},
        headers=host.headers,
    )
    assert [m["body"] for m in rest.json()["items"]] == ["first"]
    assert rest.json()["nextCursor"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [("", 422), ("   ", 422), ("x" * 501, 422), ("x" * 5000, 422), ("\u0000", 422)],
)
async def test_empty_oversized_and_unstorable_messages_are_refused(client, engine, body, status):
    stream_id = (await go_live(client, Member()))["stream"]["id"]
    assert_problem(await post_message(client, stream_id, Member(), body), status)
    assert await count(engine, "SELECT count(*) FROM live_messages") == 0


async def test_a_500_character_message_is_accepted(client):
    stream_id = (await go_live(client, Member()))["stream"]["id"]
    assert (await post_message(client, stream_id, Member(), "é" * 500)).status_code == 201


async def test_posting_into_an_ended_stream_is_refused(client, engine):
    host, viewer = Member(), Member()
    stream_id = (await go_live(client, host))["stream"]["id"]
    await client.post("/live/end", json={"streamId": stream_id}, headers=host.headers)
    assert_problem(await post_message(client, stream_id, viewer, "hello?"), 409, "stream_ended")
    assert_problem(await post_message(client, str(uuid.uuid4()), viewer, "hi"), 404)
    assert await count(engine, "SELECT count(*) FROM live_messages") == 0
    history = await client.get(f"/live/{stream_id}/messages", headers=viewer.headers)
    assert history.status_code == 200


async def test_flooding_the_chat_is_429_per_member_per_stream(client):
    host, chatty, calm = Member(), Member(), Member()
    stream_id = (await go_live(client, host))["stream"]["id"]
    statuses = [
        (await post_message(client, stream_id, chatty, f"m{i}")).status_code for i in range(5)
    ]
    assert statuses == [201] * 5
    flooded = await post_message(client, stream_id, chatty, "one too many")
    assert_problem(flooded, 429, "chat_rate_limited")
    assert int(flooded.headers["retry-after"]) >= 1
    assert (await post_message(client, stream_id, calm, "I may talk")).status_code == 201


async def test_the_chat_limit_holds_across_app_instances_and_concurrent_posts(
    make_app, livekit_server, engine
):
    """Two app instances (as two processes would) share one budget, kept in the database."""
    host, chatty = Member(), Member()
    first_app = live_app(make_app, livekit_server.url)
    second_app = live_app(make_app, livekit_server.url)
    async with AsyncTestClient(app=first_app) as one, AsyncTestClient(app=second_app) as two:
        stream_id = (await go_live(one, host))["stream"]["id"]
        assert (await one.get("/me", headers=chatty.headers)).status_code == 200
        responses = await asyncio.gather(
            *(post_message(one if i % 2 else two, stream_id, chatty, f"m{i}") for i in range(12))
        )
    assert sorted(r.status_code for r in responses) == [201] * 5 + [429] * 7
    assert await count(engine, "SELECT count(*) FROM live_messages") == 5


# --- webhooks -------------------------------------------------------------------------------


def webhook(
    event: str,
    room: str,
    *,
    event_id: str | None = None,
    identity: str = "",
    sid: str = "",
) -> str:
    message = api.WebhookEvent(
        id=event_id or f"EV_{uuid.uuid4().hex[:12]}",
        event=event,
        room=api.Room(name=room, sid="RM_1"),
        participant=api.ParticipantInfo(identity=identity, sid=sid) if identity else None,
        created_at=1_700_000_000,
    )
    return json_format.MessageToJson(message)


def signature(
    body: str, *, secret: str = DEFAULT_API_SECRET, ttl: timedelta = timedelta(minutes=5)
) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(DEFAULT_API_KEY, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


async def deliver(client, body: str, authorization: str | None = None):
    headers = {"Content-Type": "application/webhook+json"}
    headers["Authorization"] = signature(body) if authorization is None else authorization
    return await client.post("/live/webhook", content=body.encode(), headers=headers)


async def viewers(client, stream_id: str) -> tuple[int, int]:
    body = (await client.get(f"/live/{stream_id}", headers=Member().headers)).json()
    return body["currentViewers"], body["peakViewers"]


async def test_joins_and_leaves_keep_current_and_peak_viewers(client):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    room = stream["roomName"]
    for identity in ("a", "b", str(host.id)):
        response = await deliver(
            client, webhook("participant_joined", room, identity=identity, sid=f"PA_{identity}")
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "applied"}
    assert await viewers(client, stream["id"]) == (2, 2)
    await deliver(client, webhook("participant_left", room, identity="a", sid="PA_a"))
    assert await viewers(client, stream["id"]) == (1, 2)


async def test_duplicate_webhooks_are_harmless(client):
    stream = (await go_live(client, Member()))["stream"]
    room = stream["roomName"]
    joined = webhook("participant_joined", room, event_id="EV_join", identity="a", sid="PA_a")
    left = webhook("participant_left", room, event_id="EV_left", identity="a", sid="PA_a")
    assert (await deliver(client, joined)).json() == {"outcome": "applied"}
    assert (await deliver(client, joined)).json() == {"outcome": "duplicate"}
    await deliver(client, left)
    late_again = await deliver(client, joined)  # a redelivery after the leave
    assert late_again.json() == {"outcome": "duplicate"}
    assert await viewers(client, stream["id"]) == (0, 1)


async def test_concurrent_joins_are_all_counted(client):
    stream = (await go_live(client, Member()))["stream"]
    bodies = [
        webhook("participant_joined", stream["roomName"], identity=f"v{i}", sid=f"PA_{i}")
        for i in range(10)
    ]
    responses = await asyncio.gather(*(deliver(client, body) for body in bodies))
    assert {r.status_code for r in responses} == {200}
    assert await viewers(client, stream["id"]) == (10, 10)


async def test_room_finished_ends_the_stream(client, engine):
    host = Member()
    stream = (await go_live(client, host))["stream"]
    finished = webhook("room_finished", stream["roomName"])
    assert (await deliver(client, finished)).json() == {"outcome": "applied"}
    row = await stream_row(engine, stream["id"])
    assert row.status == "ended"
    assert row.ended_at is not None
    assert (await deliver(client, finished)).json() == {"outcome": "ignored"}
    ended_events = await count(
        engine,
        "SELECT count(*) FROM outbox WHERE name = 'stream.ended' "
        "AND payload->>'endedBy' = 'video_service'",
    )
    assert ended_events == 1
    # The host may go live again.
    await go_live(client, host)


async def test_unknown_events_and_rooms_are_accepted_and_ignored(client, engine):
    stream = (await go_live(client, Member()))["stream"]
    for body in (
        webhook("track_published", stream["roomName"]),
        webhook("egress_ended", stream["roomName"]),
        webhook("participant_joined", "live-unknown", identity="a", sid="PA_a"),
    ):
        response = await deliver(client, body)
        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "ignored"}
    assert await viewers(client, stream["id"]) == (0, 0)


@pytest.mark.parametrize("case", ["bad signature", "body not matching", "expired", "missing"])
async def test_forged_webhooks_are_401_and_change_nothing(client, engine, case):
    stream = (await go_live(client, Member()))["stream"]
    body = webhook("room_finished", stream["roomName"])
    authorization = {
        "bad signature": signature(body, secret="forged-secret-0123456789abcdef0123"),
        "body not matching": signature(webhook("participant_left", stream["roomName"])),
        "expired": signature(body, ttl=timedelta(minutes=-5)),
        "missing": "",
    }[case]
    assert_problem(await deliver(client, body, authorization), 401)
    assert (await stream_row(engine, stream["id"])).status == "live"
    assert await count(engine, "SELECT count(*) FROM live_webhook_events") == 0
    assert await count(engine, "SELECT count(*) FROM outbox WHERE name = 'stream.ended'") == 0


async def test_a_signed_body_that_is_not_an_event_is_422(client):
    assert_problem(await deliver(client, "not json"), 422, "invalid_webhook_body")


async def test_a_non_utf8_body_fails_its_hash(client):
    body = b"\xff\xfe{}"
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET).with_sha256(digest).to_jwt()
    response = await client.post("/live/webhook", content=body, headers={"Authorization": token})
    assert_problem(response, 401)


# --- LiveKit not configured -----------------------------------------------------------------

SOME_ID = "00000000-0000-4000-8000-000000000001"
ENDPOINTS = [
    ("POST", "/live/start", {"title": "Hi", "language": "yo"}),
    ("POST", "/live/token", {"streamId": SOME_ID}),
    ("POST", "/live/end", {"streamId": SOME_ID}),
    ("GET", "/live", None),
    ("GET", f"/live/{SOME_ID}", None),
    ("GET", f"/live/{SOME_ID}/messages", None),
    ("POST", f"/live/{SOME_ID}/messages", {"body": "hi"}),
    ("POST", "/live/webhook", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_without_livekit_in_production_every_live_endpoint_is_503(
    make_app, method, path, body
):
    app = make_app(
        environment=Environment.PRODUCTION,
        livekit_url=None,
        livekit_api_key=None,
        livekit_api_secret=None,
    )
    async with AsyncTestClient(app=app) as unconfigured:
        response = await unconfigured.request(method, path, json=body, headers=Member().headers)
        assert_problem(response, 503, "live_unavailable")
        assert "LIVEKIT" in response.json()["detail"]
        assert (await unconfigured.get("/me", headers=Member().headers)).status_code == 200


async def test_openapi_documents_the_live_endpoints(client):
    schema = (await client.get("/docs/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/live",
        "/live/start",
        "/live/token",
        "/live/end",
        "/live/{stream_id}",
        "/live/{stream_id}/messages",
        "/live/webhook",
    ):
        assert path in paths, sorted(paths)
    assert paths["/live/start"]["post"]["security"] == [{"BearerAuth": []}]
    assert "already_live" in paths["/live/start"]["post"]["description"]
    assert (
        "application/problem+json"
        in paths["/live/{stream_id}/messages"]["post"]["responses"]["429"]["content"]
    )
    assert not paths["/live/webhook"]["post"].get("security")


async def test_room_limits_and_token_lifetime_come_from_configuration(make_app, livekit_server):
    app = live_app(
        make_app,
        livekit_server.url,
        livekit_empty_timeout_seconds=42,
        livekit_max_participants=7,
        livekit_token_ttl_minutes=15,
    )
    async with AsyncTestClient(app=app) as configured:
        started = await go_live(configured, Member())
    created = livekit_server.calls_to("CreateRoom")[-1].request
    assert created is not None
    assert (created.empty_timeout, created.max_participants) == (42, 7)
    raw = jwt.decode(started["token"], options={"verify_signature": False})
    assert 15 * 60 - 5 <= raw["exp"] - raw["nbf"] <= 15 * 60 + 5
