"""PostHog down: API requests and the worker carry on; captured events reach PostHog once it
answers again (the real posthog client against the local PostHog contract server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.posthog.analytics import PostHogAnalytics
from entrypoints.container import Container
from entrypoints.settings import Secret, Settings
from tests.contracts.expo_server import ExpoContractServer, expo_server
from tests.contracts.posthog_server import PostHogContractServer, posthog_server
from tests.integration.worker.support import (
    add_events,
    add_members,
    add_tokens,
    eventually,
    fast_worker_settings,
    running_worker,
    scalar,
)
from tests.tokens import member_headers

__all__ = ["expo_server", "posthog_server"]  # the fixtures, re-exported for pytest

FACTS = 12


async def test_a_posthog_outage_blocks_nothing_and_events_arrive_when_it_returns(
    engine: AsyncEngine,
    settings: Settings,
    make_app: Callable[..., Litestar],
    expo_server: ExpoContractServer,
    posthog_server: PostHogContractServer,
) -> None:
    tuned = replace(
        fast_worker_settings(settings, expo_server.base_url),
        posthog_api_key=Secret("phc_contract"),
        posthog_host=posthog_server.base_url,
    )
    posthog_server.go_down(refuse=True)

    # The API does not wait for analytics.
    async with AsyncTestClient(app=make_app(tuned)) as client:
        started = time.monotonic()
        member = uuid.uuid4()
        response = await client.post(
            "/notifications/tokens",
            json={"token": "ExponentPushToken[analytics]"},
            headers=member_headers(member),
        )
        assert response.status_code == 201, response.text
        assert time.monotonic() - started < 2

    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {"ExpoPushToken[ada]": ada})
    facts = [
        (
            "clip.decided",
            {"clipId": f"c{n}", "contributorId": str(ada), "status": "accepted", "language": "yo"},
        )
        for n in range(FACTS)
    ]
    await add_events(engine, facts)  # fmt: skip

    # The production client retries a failed batch twice, then drops it (the documented bound,
    # tested in tests/integration/analytics); here it keeps retrying long enough for PostHog
    # to come back whatever the machine's speed.
    container = Container(settings=tuned)
    patient = PostHogAnalytics(
        api_key="phc_contract", host=posthog_server.base_url, max_retries=8,
        flush_interval_seconds=0.1, timeout_seconds=1.0,
    )  # fmt: skip
    container.analytics.override(patient)
    async with running_worker(tuned, container) as worker:

        async def jobs_done() -> bool:
            left = await scalar(engine, "SELECT count(*) FROM outbox WHERE status <> 'done'")
            return bool(left == 0)

        started = time.monotonic()
        await eventually(jobs_done, within=10)
        assert time.monotonic() - started < 5  # an analytics outage does not hold up jobs
        await eventually(lambda: _true(expo_server.delivery_count("ExpoPushToken[ada]") == FACTS))
        assert posthog_server.events == []

        posthog_server.come_back()
        events = await asyncio.to_thread(posthog_server.wait_for_events, FACTS, 20.0)
        assert worker.container.analytics() is patient

    delivered = [event for event in posthog_server.events if event["event"] == "clip_decided"]
    lost = patient.dropped_events + patient.failed_events
    # The documented bound: an event is delivered, or counted as dropped — never blocks.
    assert len(delivered) + lost == FACTS
    assert len(events) == FACTS, f"{lost} dropped"
    assert {event["distinct_id"] for event in delivered} == {str(ada)}
    for event in delivered:
        assert event["properties"]["clip_id"].startswith("c")
        assert "contributor_id" not in event["properties"]


async def _true(value: bool) -> bool:
    return value
