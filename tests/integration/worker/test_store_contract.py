"""One contract, two implementations: the notification repositories and the push delivery
queue behave the same in memory (tests/fake_notifications.py) and on PostgreSQL, so unit
tests with the fakes can be trusted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.push_deliveries import PostgresPushDeliveryQueue
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile
from core.domain.member_notifications import DeviceRegistration
from core.domain.notifications import BackoffPolicy, NotificationCategory, PushServiceUnavailable
from core.errors import Conflict, NotFound
from core.use_cases.notifications import (
    ListMyPushTokens,
    ListNotifications,
    MarkNotificationRead,
    NotifyMember,
    RegisterPushToken,
    ResolveStalledPushes,
    SendQueuedPushes,
    UnregisterPushToken,
    UpdateNotificationPreferences,
)
from tests.fake_notifications import FakePushDeliveryQueue, FakePushSender
from tests.fakes import FakeUnitOfWork, FixedClock, InMemoryStore, SequentialIds
from tests.integration.worker.support import add_members

PHONE, TABLET = "ExponentPushToken[p]", "ExpoPushToken[t]"


@dataclass
class Backend:
    uow: Callable[[], Any]
    queue: Any
    members: list[uuid.UUID]
    clock: FixedClock


@pytest.fixture(params=["fake", "postgres"])
async def backend(request: pytest.FixtureRequest, engine: AsyncEngine) -> Backend:
    clock = FixedClock()
    if request.param == "fake":
        store = InMemoryStore()
        members = [uuid.uuid4(), uuid.uuid4()]
        for member in members:
            store.profiles[member] = Profile.new(member, clock.now())
        return Backend(lambda: FakeUnitOfWork(store), FakePushDeliveryQueue(store), members, clock)
    members = await add_members(engine, 2)
    return Backend(
        lambda: PostgresUnitOfWork(engine), PostgresPushDeliveryQueue(engine), members, clock
    )


def principal(backend: Backend, member: uuid.UUID) -> Principal:
    return Principal(profile=Profile.new(member, backend.clock.now()))


async def test_devices(backend: Backend) -> None:
    ada, bob = backend.members
    register = RegisterPushToken(backend.uow, backend.clock)
    await register(principal(backend, ada), DeviceRegistration(PHONE, device_id="install-1"))
    backend.clock.advance(seconds=1)
    await register(principal(backend, ada), DeviceRegistration(TABLET))
    listing = ListMyPushTokens(backend.uow)
    assert [t.token for t in (await listing(principal(backend, ada))).items] == [TABLET, PHONE]
    first = await listing(principal(backend, ada), limit=1)
    assert [t.token for t in first.items] == [TABLET]
    assert first.next_cursor is not None
    rest = await listing(principal(backend, ada), cursor=first.next_cursor, limit=1)
    assert [t.token for t in rest.items] == [PHONE]

    backend.clock.advance(seconds=1)
    with pytest.raises(Conflict):
        await register(principal(backend, bob), DeviceRegistration(PHONE, device_id="install-2"))
    moved = await register(
        principal(backend, bob), DeviceRegistration(PHONE, device_id="install-1")
    )
    assert moved.device_id == "install-1"
    assert moved.created_at < moved.updated_at  # first registration kept
    assert [t.token for t in (await listing(principal(backend, ada))).items] == [TABLET]
    with pytest.raises(NotFound):
        await UnregisterPushToken(backend.uow)(principal(backend, ada), PHONE)
    await UnregisterPushToken(backend.uow)(principal(backend, bob), PHONE)
    assert (await listing(principal(backend, bob))).items == ()


async def test_feed_preferences_and_deliveries(backend: Backend) -> None:
    ada, bob = backend.members
    clock, ids = backend.clock, SequentialIds()
    await RegisterPushToken(backend.uow, clock)(principal(backend, ada), DeviceRegistration(PHONE))
    await RegisterPushToken(backend.uow, clock)(principal(backend, ada), DeviceRegistration(TABLET))
    await UpdateNotificationPreferences(backend.uow, clock)(
        principal(backend, ada), {NotificationCategory.PAYOUT: False}
    )
    notify = NotifyMember(backend.uow, clock, ids)
    events = []
    for number, name in enumerate(["badge.awarded", "payout.paid", "badge.awarded"]):
        clock.advance(seconds=1)
        event = DomainEvent(uuid.uuid4(), name, clock.now(), {"profileId": str(ada), "n": number})
        events.append(event)
        await notify(event)
    await notify(events[0])  # handled twice: nothing new

    feed = ListNotifications(backend.uow)
    first = await feed(principal(backend, ada), limit=2)
    rest = await feed(principal(backend, ada), limit=2, cursor=first.next_cursor)
    assert [n.category.value for n in (*first.items, *rest.items)] == [
        "badge", "payout", "badge",
    ]  # fmt: skip
    assert (first.unread_count, rest.next_cursor) == (3, None)
    with pytest.raises(NotFound):
        await MarkNotificationRead(backend.uow, clock)(principal(backend, bob), first.items[0].id)
    await MarkNotificationRead(backend.uow, clock)(principal(backend, ada), first.items[0].id)
    assert (await feed(principal(backend, ada), unread_only=True)).unread_count == 2

    # Two badge notifications x two devices; the payout category is switched off.
    sender = FakePushSender()
    sender.script.append(PushServiceUnavailable("503"))
    send = SendQueuedPushes(
        backend.queue, sender, clock, BackoffPolicy(1, 10, 3), lambda: 1.0, "w1", chunk_size=3
    )
    report = await send()
    assert (report.claimed, report.retried) == (3, 3)
    assert (await send()).sent == 1  # the fourth; the others back off
    assert (await send()).claimed == 0
    clock.advance(seconds=1)
    assert (await send()).sent == 3
    assert sorted(sender.deliveries_to(token) for token in (PHONE, TABLET)) == [2, 2]

    # A worker dies mid-send: after the lease the delivery is uncertain, never resent.
    clock.advance(seconds=1)
    await notify(DomainEvent(uuid.uuid4(), "badge.awarded", clock.now(), {"profileId": str(ada)}))
    claimed = await backend.queue.claim(now=clock.now(), limit=10, worker="dying")
    assert len(claimed) == 2
    resolve = ResolveStalledPushes(backend.queue, clock, lease=timedelta(seconds=30))
    clock.advance(seconds=31)
    assert await resolve() == 2
    assert (await send()).claimed == 0
