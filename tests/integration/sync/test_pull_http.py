"""GET /sync/pull on real PostgreSQL: the current state first, then only what changed, in
pages, gzipped when accepted; nobody else's changes."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.clips.helpers import cast, execute, serve, upload
from tests.integration.http.test_auth import assert_problem
from tests.integration.money.test_money_http import AGREED_RATE, CLIP_RATE, add_rates
from tests.integration.sync.helpers import op, push
from tests.integration.sync.test_push_http import member, notification_for
from tests.tokens import member_headers

pytestmark = pytest.mark.integration


async def pull(client, headers, cursor: str | None = None, limit: int = 100) -> dict:
    query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = await client.get(f"/sync/pull{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def pull_all(client, headers, cursor: str | None, limit: int = 100) -> tuple[dict, str]:
    """Every page of one window, merged."""
    merged: dict = {"clips": [], "notifications": [], "balance": None, "rewardRates": None}
    while True:
        page = await pull(client, headers, cursor, limit)
        merged["clips"] += page["clips"]
        merged["notifications"] += page["notifications"]
        for key in ("balance", "rewardRates"):
            if page[key] is not None:
                merged[key] = page[key]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return merged, cursor


async def test_first_pull_is_the_current_state_then_only_changes(client, engine, settings):
    await add_rates(client, engine)
    me, headers = await member(client)
    uploaded = await upload(client, headers)
    assert uploaded.status_code == 201
    clip_id = uploaded.json()["id"]
    notification = await notification_for(settings, engine, me)

    first = await pull(client, headers)
    assert first["hasMore"] is False
    assert [(c["id"], c["status"]) for c in first["clips"]] == [(clip_id, "pending")]
    assert first["clips"][0]["clientId"] == uploaded.json()["clientId"]
    assert [n["id"] for n in first["notifications"]] == [notification]
    assert first["balance"] == {
        "currency": "NGN", "availableMinor": 0, "pendingMinor": 0, "onHoldMinor": 0,
        "lifetimeEarnedMinor": 0,
    }  # fmt: skip
    assert sorted(r["kind"] for r in first["rewardRates"]) == [
        "clip_accepted",
        "validation_agreed",
    ]

    nothing = await pull(client, headers, first["cursor"])
    assert nothing == {**nothing, "clips": [], "notifications": [], "balance": None,
                       "rewardRates": None, "hasMore": False}  # fmt: skip

    for verdict in ("valid", "valid"):  # two validators accept the clip
        validator = member_headers()
        await serve(client, validator)
        assert (await cast(client, validator, clip_id, verdict)).status_code == 200
    await push(client, headers, [op("notification.read", {"notificationId": notification})])
    changed = await pull(client, headers, nothing["cursor"])
    assert [(c["id"], c["status"]) for c in changed["clips"]] == [(clip_id, "accepted")]
    assert changed["clips"][0]["decidedAt"] is not None
    assert [(n["id"], n["readAt"] is not None) for n in changed["notifications"]] == [
        (notification, True)
    ]
    assert changed["balance"]["pendingMinor"] == CLIP_RATE
    assert changed["rewardRates"] is None
    assert AGREED_RATE  # the validators' earnings are theirs, not in this member's pull


async def test_a_window_comes_in_pages_without_losing_or_repeating(client, engine, settings):
    me, headers = await member(client)
    ids = set()
    for _ in range(5):
        response = await upload(client, headers, client_id=uuid.uuid4())
        ids.add(response.json()["id"])
    notifications = {await notification_for(settings, engine, me) for _ in range(1)}
    pages = []
    cursor = None
    while True:
        page = await pull(client, headers, cursor, limit=2)
        pages.append(page)
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert [len(p["clips"]) + len(p["notifications"]) for p in pages] == [2, 2, 2]
    assert [c["id"] for p in pages for c in p["clips"]] == sorted(
        (c["id"] for p in pages for c in p["clips"]),
        key=[c["id"] for p in pages for c in p["clips"]].index,
    )
    assert {c["id"] for p in pages for c in p["clips"]} == ids
    assert {n["id"] for p in pages for n in p["notifications"]} == notifications
    assert pages[0]["balance"] is not None
    assert all(p["balance"] is None for p in pages[1:])


async def test_pulls_show_only_the_callers_changes(client, engine, settings):
    me, headers = await member(client)
    other, other_headers = await member(client)
    await upload(client, other_headers)
    await notification_for(settings, engine, other)
    first = await pull(client, headers)
    assert first["clips"] == []
    assert first["notifications"] == []
    # Someone else's cursor finds nothing of theirs either.
    theirs = await pull(client, other_headers)
    again = await pull(client, headers, theirs["cursor"])
    assert again["clips"] == []
    assert me != other


async def test_a_removed_clip_comes_back_with_its_visibility(client, engine):
    _, headers = await member(client)
    clip_id = (await upload(client, headers)).json()["id"]
    first = await pull(client, headers)
    await execute(engine, "UPDATE voice_clips SET visibility = 'removed' WHERE id = :i", i=clip_id)
    changed = await pull(client, headers, first["cursor"])
    assert [(c["id"], c["visibility"]) for c in changed["clips"]] == [(clip_id, "removed")]


@pytest.mark.parametrize("cursor", ["garbage", "AAAA", "eJyrVipTslJQSjNU0lFQKkktLokHAEG6Bpk"])
async def test_a_cursor_we_did_not_make_is_422(client, cursor):
    response = await client.get(f"/sync/pull?cursor={cursor}", headers=member_headers())
    assert_problem(response, 422, "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "501", "many"])
async def test_bad_page_sizes_are_refused(client, limit):
    response = await client.get(f"/sync/pull?limit={limit}", headers=member_headers())
    assert 400 <= response.status_code < 500


async def test_pulls_are_gzipped_for_clients_that_accept_it(client, engine, settings):
    me, headers = await member(client)
    for _ in range(8):
        await notification_for(settings, engine, me)
    response = await client.get("/sync/pull", headers={**headers, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["notifications"]) == 8


async def test_openapi_documents_the_sync_endpoints(client):
    schema = (await client.get("/docs/openapi.json")).json()
    for path, method in (("/sync/push", "post"), ("/sync/batches", "post"), ("/sync/pull", "get")):
        operation = schema["paths"][path][method]
        assert operation["tags"] == ["sync"]
        assert "422" in operation["responses"] or method == "post"
    assert "PushIn" in str(schema["components"]["schemas"])
