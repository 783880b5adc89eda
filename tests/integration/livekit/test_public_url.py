"""``LIVEKIT_URL`` is where Chorus calls LiveKit; ``LIVEKIT_PUBLIC_URL`` is what phones are
given. Through HTTP, with livekit-api's real client against the LiveKit contract server."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from litestar import Litestar
from litestar.testing import AsyncTestClient

from entrypoints.settings import Secret
from tests.contracts.livekit_server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    LiveKitContractServer,
    livekit_server,
)
from tests.tokens import member_headers

__all__ = ["livekit_server"]  # the fixture, re-exported for pytest

LIVEKIT = {"livekit_api_key": DEFAULT_API_KEY, "livekit_api_secret": Secret(DEFAULT_API_SECRET)}
PUBLIC = "wss://live.chorus.example"


async def start_and_join(app: Litestar) -> tuple[dict[str, object], dict[str, object]]:
    host, viewer = member_headers(uuid.uuid4()), member_headers(uuid.uuid4())
    async with AsyncTestClient(app=app) as client:
        started = await client.post(
            "/live/start", json={"title": "Hausa evening", "language": "ha"}, headers=host
        )
        assert started.status_code == 201, started.text
        stream_id = started.json()["stream"]["id"]
        joined = await client.post("/live/token", json={"streamId": stream_id}, headers=viewer)
        assert joined.status_code == 200, joined.text
        return started.json(), joined.json()


async def test_phones_get_the_public_url_while_the_server_calls_livekit_url(
    make_app: Callable[..., Litestar], livekit_server: LiveKitContractServer
) -> None:
    app = make_app(livekit_url=livekit_server.url, livekit_public_url=PUBLIC, **LIVEKIT)
    started, joined = await start_and_join(app)
    assert (started["url"], joined["url"]) == (PUBLIC, PUBLIC)
    # The room was created through LIVEKIT_URL, on the (internal) contract server.
    assert started["stream"]["roomName"] in livekit_server.rooms  # type: ignore[index]
    assert [call.status for call in livekit_server.calls_to("CreateRoom")] == [200]


async def test_without_a_public_url_phones_get_livekit_url(
    make_app: Callable[..., Litestar], livekit_server: LiveKitContractServer
) -> None:
    app = make_app(livekit_url=livekit_server.url, **LIVEKIT)
    started, joined = await start_and_join(app)
    assert (started["url"], joined["url"]) == (livekit_server.url, livekit_server.url)
