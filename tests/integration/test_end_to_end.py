"""One member's day across the features: a rate is set, a clip is recorded, two validators
decide it, rewards land in pending, and the worker tells the contributor — in the feed and
by push to their device."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from tests.contracts.expo_server import expo_server
from tests.integration.clips.helpers import execute, upload, vote
from tests.integration.worker.support import eventually, fast_worker_settings, running_worker
from tests.tokens import member_headers

__all__ = ["expo_server"]

CLIP_RATE, AGREED_RATE = 50_000, 2_000


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, blob_dir=tmp_path / "blobs", consensus_policy="majority")


async def test_a_decided_clip_pays_and_notifies_its_contributor(
    make_app, settings, engine, expo_server
):
    async with AsyncTestClient(app=make_app()) as client:
        admin_id = uuid.uuid4()
        admin = member_headers(admin_id)
        await client.get("/me", headers=admin)
        await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=admin_id)
        for kind, amount in (("clip_accepted", CLIP_RATE), ("validation_agreed", AGREED_RATE)):
            rate = {"kind": kind, "amountMinor": amount, "currency": "NGN"}
            created = await client.post("/monetization/rates", json=rate, headers=admin)
            assert created.status_code == 201, created.text

        contributor = member_headers()
        device = "ExponentPushToken[e2e-device]"
        registered = await client.post(
            "/notifications/tokens", json={"token": device}, headers=contributor
        )
        assert registered.status_code == 201, registered.text
        clip_id = (await upload(client, contributor)).json()["id"]
        first, second = member_headers(), member_headers()
        assert (await vote(client, first, clip_id)).json()["decided"] is False
        assert (await vote(client, second, clip_id)).json()["clipStatus"] == "accepted"

        balance = (await client.get("/monetization/balance", headers=contributor)).json()
        assert (balance["pendingMinor"], balance["availableMinor"]) == (CLIP_RATE, 0)
        validator_balance = (await client.get("/monetization/balance", headers=first)).json()
        assert validator_balance["pendingMinor"] == AGREED_RATE

        async with running_worker(fast_worker_settings(settings, expo_server.base_url)):

            async def told() -> bool:
                return expo_server.delivery_count(device) >= 1

            await eventually(told)
        feed = (await client.get("/notifications", headers=contributor)).json()
        assert [item["category"] for item in feed["items"]] == ["clip_decided"]
        assert expo_server.delivery_count(device) == 1
