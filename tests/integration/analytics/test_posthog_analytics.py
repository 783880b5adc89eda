"""PostHogAnalytics with the real posthog client against a local PostHog contract server.
All traffic stays on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from adapters.posthog.analytics import NoopAnalytics, PostHogAnalytics, build_analytics
from core.domain.analytics_events import AnalyticsEvent
from core.ports.analytics import Analytics
from tests.contracts.posthog_server import PostHogContractServer, posthog_server

__all__ = ["posthog_server"]  # the fixture, re-exported for pytest

API_KEY = "phc_contract_test"


def make_analytics(server: PostHogContractServer, **overrides: object) -> PostHogAnalytics:
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "host": server.base_url,
        "flush_interval_seconds": 0.05,
        "timeout_seconds": 1.0,
        "max_retries": 2,
        "flush_timeout_seconds": 3.0,
    }
    return PostHogAnalytics(**(settings | overrides))


@pytest.fixture
def analytics(posthog_server: PostHogContractServer) -> Iterator[PostHogAnalytics]:
    client = make_analytics(posthog_server)
    _: Analytics = client  # the adapter satisfies the port (checked by mypy)
    yield client
    client.shutdown()


def test_events_arrive_with_the_profile_as_distinct_id_and_no_personal_data(
    analytics: PostHogAnalytics, posthog_server: PostHogContractServer
) -> None:
    profile_id = uuid4()
    properties = {"clip_id": "c1", "amount_minor": 250, "email": "ada@example.com"}

    analytics.capture(profile_id, AnalyticsEvent.REWARD_EARNED, properties)
    analytics.flush()

    [event] = posthog_server.wait_for_events(1)
    assert event["event"] == "reward_earned"
    assert event["distinct_id"] == str(profile_id)
    assert event["api_key"] == API_KEY
    assert event["properties"]["clip_id"] == "c1"
    assert event["properties"]["amount_minor"] == 250
    assert "email" not in event["properties"]


@pytest.mark.parametrize("gzip", [True, False])
def test_batches_arrive_compressed_or_plain(
    posthog_server: PostHogContractServer, gzip: bool
) -> None:
    analytics = make_analytics(posthog_server, gzip=gzip)
    for event in (AnalyticsEvent.STREAM_STARTED, AnalyticsEvent.STREAM_ENDED):
        analytics.capture("p1", event, {"stream_id": "s1"})
    analytics.shutdown()

    events = posthog_server.wait_for_events(2)
    assert [event["event"] for event in events] == ["stream_started", "stream_ended"]


def test_events_not_on_the_list_are_dropped_silently(
    analytics: PostHogAnalytics, posthog_server: PostHogContractServer
) -> None:
    analytics.capture("p1", "user_signed_up", {})  # type: ignore[arg-type]
    analytics.capture("p1", AnalyticsEvent.FLAG_CREATED, {"broken": object()})
    analytics.capture("p1", AnalyticsEvent.BADGE_AWARDED)
    analytics.flush()

    events = posthog_server.wait_for_events(2, timeout=1.0)
    assert "user_signed_up" not in {event["event"] for event in events}
    assert "badge_awarded" in {event["event"] for event in events}


@pytest.mark.parametrize("refuse", [True, False], ids=["refused", "503"])
def test_events_captured_while_down_arrive_once_the_server_is_back(
    posthog_server: PostHogContractServer, refuse: bool
) -> None:
    analytics = make_analytics(posthog_server)
    posthog_server.go_down(refuse=refuse)

    started = time.monotonic()
    analytics.capture("p1", AnalyticsEvent.PAYOUT_REQUESTED, {"payout_id": "po1"})
    assert time.monotonic() - started < 0.1

    time.sleep(0.3)  # the first upload fails; the client backs off and retries
    posthog_server.come_back()
    events = posthog_server.wait_for_events(1, timeout=5.0)
    analytics.shutdown()

    assert [event["event"] for event in events] == ["payout_requested"]


def test_a_dead_server_never_blocks_or_fails_callers_and_drops_within_the_bound(
    posthog_server: PostHogContractServer,
) -> None:
    posthog_server.go_down(refuse=True)
    queue_size, batch_size, captured = 5, 5, 200
    analytics = make_analytics(
        posthog_server, max_queue_size=queue_size, flush_at=batch_size, flush_timeout_seconds=0.5
    )

    started = time.monotonic()
    for _ in range(captured):
        analytics.capture(uuid4(), AnalyticsEvent.CLIP_SUBMITTED, {"clip_id": "c"})
    capturing = time.monotonic() - started
    analytics.flush()
    analytics.shutdown()
    stopping = time.monotonic() - started - capturing

    assert capturing < 0.5  # 200 captures, no network on the caller's thread
    assert stopping < 1.5  # flush and shutdown each wait at most flush_timeout_seconds
    assert analytics.dropped_events >= captured - queue_size - batch_size
    assert posthog_server.events == []


def test_a_batch_that_fails_every_retry_is_counted_as_failed(
    posthog_server: PostHogContractServer,
) -> None:
    posthog_server.go_down()
    analytics = make_analytics(posthog_server, max_retries=0)

    analytics.capture("p1", AnalyticsEvent.CLIP_DECIDED, {"clip_id": "c1"})
    analytics.flush()
    analytics.shutdown()

    assert analytics.failed_events == 1
    assert posthog_server.requests >= 1


def test_captures_after_shutdown_are_dropped_without_error(
    analytics: PostHogAnalytics, posthog_server: PostHogContractServer
) -> None:
    analytics.shutdown()
    analytics.capture("p1", AnalyticsEvent.CLIP_DECIDED)
    analytics.flush()
    analytics.shutdown()

    assert analytics.dropped_events == 1
    assert posthog_server.events == []


def test_without_an_api_key_analytics_is_switched_off() -> None:
    analytics: Analytics = build_analytics(None)
    assert isinstance(analytics, NoopAnalytics)
    assert isinstance(build_analytics(""), NoopAnalytics)
    analytics.capture("p1", AnalyticsEvent.CLIP_DECIDED, {"clip_id": "c1"})
    analytics.flush()
    analytics.shutdown()


def test_with_an_api_key_analytics_goes_to_posthog(posthog_server: PostHogContractServer) -> None:
    analytics = build_analytics(API_KEY, host=posthog_server.base_url)
    assert isinstance(analytics, PostHogAnalytics)
    analytics.shutdown()
