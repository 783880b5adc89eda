"""A small, healthy database made by the real code paths, for the invariant checks.

Through the API (majority policy): rates; each validator registers a push token; five clips;
votes that accept one clip (then a late vote), reject one, leave one pending and accept one
that moderation then removes (its earnings reversed). Earnings are released (with no holding
period: as if 72 h had passed), then one more clip is accepted, so some earnings stay open.
Last, a worker handles every outbox event (notifications, pushes to the local Expo contract
server).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from litestar.testing import AsyncTestClient

from core.domain.identity import Principal
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.contracts.expo_server import ExpoContractServer
from tests.integration.clips.helpers import execute, scalar, upload, vote
from tests.integration.worker.support import eventually, fast_worker_settings, running_worker
from tests.tokens import bearer, hs256, service_token

RATES = {"clip_accepted": 5_000, "validation_agreed": 1_000}


@dataclass(frozen=True)
class World:
    accepted: str
    rejected: str
    pending: str
    removed: str
    fresh: str
    contributor: uuid.UUID
    validators: tuple[uuid.UUID, ...]


async def build_world(settings: Settings, expo: ExpoContractServer) -> World:
    settings = replace(fast_worker_settings(settings, expo.base_url), consensus_policy="majority")
    container = Container(settings=settings)
    contributor = uuid.uuid4()
    validators = tuple(uuid.uuid4() for _ in range(4))
    author = bearer(hs256(contributor))
    voter = [bearer(hs256(validator)) for validator in validators]
    async with AsyncTestClient(create_app(settings, container)) as client:
        for kind, amount in RATES.items():
            rate = {"kind": kind, "amountMinor": amount, "currency": "NGN"}
            posted = await client.post(
                "/monetization/rates", json=rate, headers=bearer(service_token())
            )
            assert posted.status_code == 201, posted.text
        for n, headers in enumerate(voter):
            device = {"token": f"ExponentPushToken[doctor-{n}]", "platform": "android"}
            registered = await client.post("/notifications/tokens", json=device, headers=headers)
            assert registered.is_success, registered.text
        clips = []
        for _ in range(5):
            response = await upload(client, author)
            assert response.status_code == 201, response.text
            clips.append(response.json()["id"])
        accepted, rejected, pending, removed, fresh = clips

        async def cast(*ballots: tuple[str, int, str]) -> None:
            for clip, who, verdict in ballots:
                response = await vote(client, voter[who], clip, verdict)
                assert response.status_code == 200, response.text

        await cast(
            (accepted, 0, "valid"), (accepted, 1, "valid"), (accepted, 2, "valid"),  # late
            (rejected, 0, "invalid"), (rejected, 3, "invalid"),
            (pending, 2, "valid"),
            (removed, 1, "valid"), (removed, 3, "valid"),
        )  # fmt: skip
        # The app's pool lives on the test client's loop: operators get their own.
        # Releasing with no holding period is releasing as if the 72 h were over.
        operator = Container(settings=replace(settings, reward_holding_hours=0))
        try:
            await execute(
                operator.engine(), "UPDATE voice_clips SET visibility = 'removed' WHERE id = :id",
                id=removed,
            )  # fmt: skip
            service = Principal(profile=None, is_service=True)
            await operator.reverse_clip_earnings()(service, uuid.UUID(removed), "test: removed")
            assert (await operator.release_earnings()()).released > 0
        finally:
            await operator.engine().dispose()
        await cast((fresh, 0, "valid"), (fresh, 2, "valid"))  # earnings still held

    engine = container.engine()

    async with running_worker(settings, container):

        async def handled() -> bool:
            unfinished = await scalar(engine, "SELECT count(*) FROM outbox WHERE status <> 'done'")
            unsent = await scalar(
                engine, "SELECT count(*) FROM push_deliveries WHERE state IN ('queued', 'sending')"
            )
            return bool(unfinished == 0 and unsent == 0)

        await eventually(handled, within=30)
    return World(accepted, rejected, pending, removed, fresh, contributor, validators)
