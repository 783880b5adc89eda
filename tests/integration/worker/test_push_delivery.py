"""Push delivery end to end on real PostgreSQL, with the real Expo SDK against the local Expo
contract server (127.0.0.1 only)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile
from core.domain.member_notifications import DeviceRegistration
from entrypoints.container import Container
from entrypoints.settings import Secret, Settings
from tests.contracts.expo_server import ExpoContractServer, expo_server
from tests.fakes import FixedClock
from tests.integration.worker.support import (
    add_events,
    add_members,
    add_tokens,
    eventually,
    fast_worker_settings,
    rows,
    running_worker,
    scalar,
)

__all__ = ["expo_server"]  # the fixture, re-exported for pytest

PHONE = "ExponentPushToken[phone]"
TABLET = "ExpoPushToken[tablet]"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def container(
    settings: Settings, expo_server: ExpoContractServer, clock: FixedClock
) -> AsyncIterator[Container]:
    tuned = fast_worker_settings(
        settings, expo_server.base_url, backoff_base_seconds=1.0, backoff_cap_seconds=60.0
    )
    built = Container(settings=tuned)
    built.clock.override(clock)
    built.jitter.override(lambda: 1.0)  # backoff at its ceiling: predictable
    yield built
    built.push_sender().close()
    await built.engine().dispose()


async def notify(container: Container, engine: AsyncEngine, name: str, **payload: str) -> None:
    """What the worker does for an outbox event: the notification handler."""
    [event_id] = await add_events(engine, [(name, payload)])
    event = DomainEvent(event_id, name, container.clock().now(), payload)
    await container.notify_member()(event)


async def delivery_states(engine: AsyncEngine) -> Counter[tuple[str, str]]:
    found = await rows(engine, "SELECT token, state FROM push_deliveries")
    return Counter((row.token, row.state) for row in found)


async def test_429_then_200_delivers_once_after_backoff(
    engine: AsyncEngine, container: Container, expo_server: ExpoContractServer, clock: FixedClock
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada})
    await notify(container, engine, "badge.awarded", profileId=str(ada))
    expo_server.fail_next(429, retry_after=3)
    send = container.send_queued_pushes()

    first = await send()
    assert (first.claimed, first.retried, first.error is not None) == (1, 1, True)
    assert expo_server.delivery_count(PHONE) == 0
    clock.advance(seconds=2)
    assert (await send()).claimed == 0  # backing off: Retry-After is a floor
    clock.advance(seconds=1)
    assert (await send()).sent == 1

    assert expo_server.delivery_count(PHONE) == 1
    assert len(expo_server.requests) == 2
    [row] = await rows(engine, "SELECT state, attempts, ticket_id FROM push_deliveries")
    assert (row.state, row.attempts) == ("sent", 2)
    assert row.ticket_id


async def test_the_worker_retries_429_and_5xx_with_backoff(
    engine: AsyncEngine, settings: Settings, expo_server: ExpoContractServer
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada})
    expo_server.fail_next(429, 503)
    await add_events(engine, [("payout.paid", {"profileId": str(ada)})])

    async with running_worker(fast_worker_settings(settings, expo_server.base_url)):

        async def delivered() -> bool:
            return expo_server.delivery_count(PHONE) == 1

        await eventually(delivered, within=10)

    assert len(expo_server.requests) >= 3
    assert expo_server.delivery_count(PHONE) == 1
    assert await scalar(engine, "SELECT attempts FROM push_deliveries") == 3


async def test_a_device_not_registered_receipt_deactivates_the_token(
    engine: AsyncEngine, container: Container, expo_server: ExpoContractServer, clock: FixedClock
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada, TABLET: ada}, at=clock.now())
    expo_server.fail_receipts_for(PHONE, "DeviceNotRegistered")
    await notify(container, engine, "badge.awarded", profileId=str(ada))
    assert (await container.send_queued_pushes()()).sent == 2

    report = await container.check_push_receipts()()
    assert (report.checked, report.ok, report.failed, report.deactivated) == (2, 1, 1, 1)
    [phone] = await rows(engine, "SELECT * FROM push_tokens WHERE token = :t", t=PHONE)
    assert (phone.active, phone.deactivated_reason) == (False, "device_not_registered")
    assert await scalar(
        engine, "SELECT receipt_status FROM push_deliveries WHERE token = :t", t=PHONE
    ) == "DeviceNotRegistered"  # fmt: skip

    await notify(container, engine, "payout.failed", profileId=str(ada))
    await container.send_queued_pushes()()
    assert expo_server.delivery_count(PHONE) == 1
    assert expo_server.delivery_count(TABLET) == 2
    assert (await container.check_push_receipts()()).checked == 1  # only the new ticket


async def test_a_device_not_registered_ticket_deactivates_at_once(
    engine: AsyncEngine, container: Container, expo_server: ExpoContractServer
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada, TABLET: ada})
    expo_server.unregistered_tokens.add(PHONE)
    await notify(container, engine, "badge.awarded", profileId=str(ada))
    report = await container.send_queued_pushes()()
    assert (report.sent, report.failed, report.deactivated) == (1, 1, 1)
    await notify(container, engine, "payout.paid", profileId=str(ada))
    await container.send_queued_pushes()()
    assert await delivery_states(engine) == Counter(
        {(PHONE, "failed"): 1, (TABLET, "sent"): 2}
    )  # the second notification was not even queued for the phone


async def test_sends_go_in_chunks_of_at_most_100(
    engine: AsyncEngine, container: Container, expo_server: ExpoContractServer
) -> None:
    members = await add_members(engine, 25)
    await add_tokens(engine, {f"ExpoPushToken[{m}-{d}]": m for m in members for d in range(10)})
    for member in members:
        await notify(container, engine, "badge.awarded", profileId=str(member))
    send = container.send_queued_pushes()
    while (await send()).claimed:
        pass
    assert [len(request.body) for request in expo_server.requests] == [100, 100, 50]
    assert sum(len(sent) for sent in expo_server.deliveries.values()) == 250
    assert await delivery_states(engine) == Counter(
        {(f"ExpoPushToken[{m}-{d}]", "sent"): 1 for m in members for d in range(10)}
    )


async def test_the_access_token_is_sent_when_set(
    engine: AsyncEngine, settings: Settings, expo_server: ExpoContractServer
) -> None:
    expo_server.required_access_token = "expo-secret"
    tuned = replace(
        fast_worker_settings(settings, expo_server.base_url),
        expo_push_access_token=Secret("expo-secret"),
    )
    container = Container(settings=tuned)
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada})
    await notify(container, engine, "badge.awarded", profileId=str(ada))
    assert (await container.send_queued_pushes()()).sent == 1
    assert expo_server.requests[0].headers["Authorization"] == "Bearer expo-secret"
    await container.engine().dispose()


async def test_a_moved_token_does_not_get_the_previous_members_pushes(
    engine: AsyncEngine, container: Container, expo_server: ExpoContractServer
) -> None:
    ada, bob = await add_members(engine, 2)
    ada_principal = Principal(profile=Profile.new(ada, container.clock().now()))
    await container.register_push_token()(ada_principal, DeviceRegistration(PHONE, device_id="i"))
    await notify(container, engine, "payout.paid", profileId=str(ada))
    bob_principal = Principal(profile=Profile.new(bob, container.clock().now()))
    await container.register_push_token()(bob_principal, DeviceRegistration(PHONE, device_id="i"))
    assert (await container.send_queued_pushes()()).claimed == 0
    assert await delivery_states(engine) == Counter({(PHONE, "skipped"): 1})
    assert expo_server.delivery_count(PHONE) == 0


async def test_stalled_sends_are_resolved_as_uncertain(
    engine: AsyncEngine, container: Container, clock: FixedClock
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada})
    await notify(container, engine, "badge.awarded", profileId=str(ada))
    claimed = await container.push_queue().claim(now=clock.now(), limit=100, worker="dying")
    assert len(claimed) == 1
    resolve = container.resolve_stalled_pushes()
    assert await resolve() == 0
    clock.advance(seconds=container.worker_lease().total_seconds() + 1)
    assert await resolve() == 1
    assert await delivery_states(engine) == Counter({(PHONE, "uncertain"): 1})
    assert (await container.send_queued_pushes()()).claimed == 0
