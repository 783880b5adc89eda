"""SPEC §9 over HTTP: devices (own only), the feed, mark-read and preferences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.domain.events import DomainEvent
from entrypoints.container import Container
from tests.tokens import member_headers

PHONE = "ExponentPushToken[phone-1]"
TABLET = "ExpoPushToken[tablet-2]"


def path_of(token: str) -> str:
    return f"/notifications/tokens/{quote(token, safe='')}"


async def register(
    client: AsyncTestClient[Litestar],
    member: uuid.UUID,
    token: str,
    device_id: str | None = None,
    status: int = 201,
) -> dict:
    body = {"token": token, "platform": "android", "deviceName": "Pixel"}
    if device_id is not None:
        body["deviceId"] = device_id
    response = await client.post("/notifications/tokens", json=body, headers=member_headers(member))
    assert response.status_code == status, response.text
    return dict(response.json())


async def my_tokens(client: AsyncTestClient[Litestar], member: uuid.UUID) -> list[str]:
    response = await client.get("/notifications/tokens", headers=member_headers(member))
    assert response.status_code == 200, response.text
    return [item["token"] for item in response.json()["items"]]


async def test_a_member_registers_lists_and_deletes_own_devices(client) -> None:
    ada = uuid.uuid4()
    body = await register(client, ada, PHONE)
    assert body["token"] == PHONE
    assert (body["platform"], body["deviceName"], body["active"]) == ("android", "Pixel", True)
    await register(client, ada, TABLET)
    assert sorted(await my_tokens(client, ada)) == sorted([PHONE, TABLET])

    response = await client.delete(path_of(PHONE), headers=member_headers(ada))
    assert response.status_code == 204, response.text
    assert await my_tokens(client, ada) == [TABLET]


async def test_nobody_lists_or_deletes_another_members_tokens(client) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await register(client, ada, PHONE)
    assert await my_tokens(client, bob) == []
    response = await client.delete(path_of(PHONE), headers=member_headers(bob))
    assert response.status_code == 404
    assert response.json()["code"] == "push_token_not_found"
    assert await my_tokens(client, ada) == [PHONE]
    missing = await client.delete(path_of("ExpoPushToken[nobody]"), headers=member_headers(bob))
    assert missing.status_code == 404


async def test_nobody_registers_a_token_for_someone_else(client) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    response = await client.post(
        "/notifications/tokens",
        json={"token": PHONE, "profileId": str(bob)},
        headers=member_headers(ada),
    )
    assert response.status_code == 422
    assert await my_tokens(client, bob) == []


async def test_another_members_token_is_refused_and_stays_theirs(client) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await register(client, ada, PHONE, device_id="install-a")
    refused = await register(client, bob, PHONE, status=409)
    assert refused["code"] == "push_token_in_use"
    assert str(ada) not in str(refused)
    await register(client, bob, PHONE, device_id="install-b", status=409)
    assert await my_tokens(client, ada) == [PHONE]
    assert await my_tokens(client, bob) == []


async def test_a_token_moves_with_its_installation(client) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await register(client, ada, PHONE, device_id="install-a")
    moved = await register(client, bob, PHONE, device_id="install-a")
    assert moved["deviceId"] == "install-a"
    assert await my_tokens(client, ada) == []
    assert await my_tokens(client, bob) == [PHONE]
    response = await client.delete(path_of(PHONE), headers=member_headers(ada))
    assert response.status_code == 404


async def test_bad_tokens_and_anonymous_callers_are_refused(client) -> None:
    response = await client.post(
        "/notifications/tokens", json={"token": "fcm:abc"}, headers=member_headers()
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "token"
    assert (await client.get("/notifications/tokens")).status_code == 401
    assert (await client.get("/notifications")).status_code == 401


async def test_preferences_default_on_and_change_per_category(client) -> None:
    ada = uuid.uuid4()
    response = await client.get("/notifications/preferences", headers=member_headers(ada))
    assert response.status_code == 200
    assert all(item["enabled"] for item in response.json()["categories"])

    response = await client.put(
        "/notifications/preferences",
        json={"categories": [{"category": "payout", "enabled": False}]},
        headers=member_headers(ada),
    )
    assert response.status_code == 200, response.text
    settings = {item["category"]: item["enabled"] for item in response.json()["categories"]}
    assert settings == {
        "clip_decided": True, "reward_released": True, "payout": False, "badge": True,
        "moderation": True,
    }  # fmt: skip
    bad = await client.put(
        "/notifications/preferences",
        json={"categories": [{"category": "marketing", "enabled": True}]},
        headers=member_headers(ada),
    )
    assert bad.status_code == 422


async def test_the_feed_pages_and_marks_read_own_notifications_only(client, settings) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await register(client, ada, PHONE)  # creates the profile
    await register(client, bob, TABLET)
    container = Container(settings=settings)
    start = datetime.now(UTC)
    try:
        for number in range(5):
            container.clock.override(_At(start + timedelta(seconds=number)))
            event = DomainEvent(
                uuid.uuid4(),
                "badge.awarded",
                start,
                {"profileId": str(ada), "badgeCode": f"b{number}"},
            )
            await container.notify_member()(event)
    finally:
        await container.engine().dispose()

    first = await client.get("/notifications?limit=2", headers=member_headers(ada))
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["data"]["badgeCode"] for item in page["items"]] == ["b4", "b3"]
    assert page["unreadCount"] == 5
    second = await client.get(
        f"/notifications?limit=2&cursor={page['nextCursor']}", headers=member_headers(ada)
    )
    assert [item["data"]["badgeCode"] for item in second.json()["items"]] == ["b2", "b1"]
    bad_cursor = await client.get("/notifications?cursor=nope", headers=member_headers(ada))
    assert bad_cursor.status_code == 422

    newest = page["items"][0]["id"]
    others = await client.post(f"/notifications/{newest}/read", headers=member_headers(bob))
    assert others.status_code == 404
    assert (await client.get("/notifications", headers=member_headers(bob))).json()["items"] == []
    mine = await client.post(f"/notifications/{newest}/read", headers=member_headers(ada))
    assert mine.status_code == 200, mine.text
    assert mine.json()["readAt"]
    unread = await client.get("/notifications?unread=true", headers=member_headers(ada))
    assert len(unread.json()["items"]) == 4
    everything = await client.post("/notifications/read-all", headers=member_headers(ada))
    assert everything.json() == {"updated": 4}


class _At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_devices_are_paged_and_deactivated_ones_are_not_listed(client, engine) -> None:
    """Issue 16 §7: the device list is a page like every list, of active devices only."""
    import sqlalchemy as sa

    ada = uuid.uuid4()
    tokens = [f"ExponentPushToken[device-{number}]" for number in range(5)]
    for token in tokens:
        await register(client, ada, token)
    async with engine.begin() as connection:  # Expo said the first one is gone
        await connection.execute(
            sa.text(
                "UPDATE push_tokens SET active = false,"
                " deactivated_reason = 'device_not_registered' WHERE token = :token"
            ),
            {"token": tokens[0]},
        )
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/notifications/tokens", params=params, headers=member_headers(ada))
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        assert all(item["active"] and item["deactivatedReason"] is None for item in body["items"])
        seen += [item["token"] for item in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(tokens[1:])
    assert len(seen) == len(set(seen))
    bad = await client.get(
        "/notifications/tokens", params={"cursor": "bm90LW91cnM"}, headers=member_headers(ada)
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
