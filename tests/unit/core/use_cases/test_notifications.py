"""Notification use cases with in-memory fakes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile
from core.domain.member_notifications import (
    MAX_ACTIVE_DEVICES,
    DeliveryState,
    DeviceRegistration,
)
from core.domain.notifications import (
    BackoffPolicy,
    NotificationCategory,
    PushAccepted,
    PushErrorCode,
    PushOutcomeUnknown,
    PushRejected,
    PushRequestRejected,
    PushServiceUnavailable,
    ReceiptFailed,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.use_cases.notifications import (
    CheckPushReceipts,
    GetNotificationPreferences,
    ListMyPushTokens,
    ListNotifications,
    MarkAllNotificationsRead,
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

ADA = uuid.UUID("00000000-0000-4000-8000-00000000000a")
BOB = uuid.UUID("00000000-0000-4000-8000-00000000000b")
PHONE = "ExponentPushToken[phone]"
TABLET = "ExpoPushToken[tablet]"


class World:
    """A fake store, clock and the use cases wired to them."""

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.sender = FakePushSender()
        self.queue = FakePushDeliveryQueue(self.store)
        for member in (ADA, BOB):
            self.store.profiles[member] = Profile.new(member, self.clock.now())

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def principal(self, member: uuid.UUID) -> Principal:
        return Principal(profile=self.store.profiles[member])

    async def register(self, member: uuid.UUID, token: str, device_id: str | None = None) -> None:
        await RegisterPushToken(self.uow, self.clock)(
            self.principal(member), DeviceRegistration(token, device_id=device_id)
        )

    async def tokens(self, member: uuid.UUID) -> list[str]:
        page = await ListMyPushTokens(self.uow)(self.principal(member))
        return [t.token for t in page.items]

    async def notify(self, name: str, **payload: object) -> DomainEvent:
        event = DomainEvent(self.ids.new_id(), name, self.clock.now(), payload)
        await NotifyMember(self.uow, self.clock, self.ids)(event)
        return event

    def send(self, **overrides: object) -> SendQueuedPushes:
        settings: dict[str, object] = {
            "queue": self.queue,
            "sender": self.sender,
            "clock": self.clock,
            "policy": BackoffPolicy(base_seconds=1, cap_seconds=60, max_attempts=3),
            "random": lambda: 1.0,
            "worker": "w1",
        }
        return SendQueuedPushes(**(settings | overrides))  # type: ignore[arg-type]

    def deliveries(self) -> list[tuple[str, DeliveryState]]:
        return sorted((d.token, d.state) for d in self.store.notifications.deliveries.values())


@pytest.fixture
def world() -> World:
    return World()


async def test_a_member_registers_lists_and_deletes_their_devices(world: World) -> None:
    await world.register(ADA, PHONE)
    world.clock.advance(seconds=1)
    await world.register(ADA, TABLET)
    assert await world.tokens(ADA) == [TABLET, PHONE]

    await UnregisterPushToken(world.uow)(world.principal(ADA), PHONE)
    assert await world.tokens(ADA) == [TABLET]


async def test_nobody_lists_or_deletes_another_members_tokens(world: World) -> None:
    await world.register(ADA, PHONE)
    assert await world.tokens(BOB) == []
    with pytest.raises(NotFound) as refused:
        await UnregisterPushToken(world.uow)(world.principal(BOB), PHONE)
    assert refused.value.code == "push_token_not_found"
    assert await world.tokens(ADA) == [PHONE]


async def test_knowing_another_members_token_is_not_enough_to_take_it(world: World) -> None:
    await world.register(ADA, PHONE, device_id="install-a")
    for stranger_device in (None, "install-b"):
        with pytest.raises(Conflict) as refused:
            await world.register(BOB, PHONE, device_id=stranger_device)
        assert refused.value.code == "push_token_in_use"
    assert await world.tokens(ADA) == [PHONE]
    assert await world.tokens(BOB) == []


async def test_a_token_moves_with_the_same_installation(world: World) -> None:
    await world.register(ADA, PHONE, device_id="install-a")
    await world.register(BOB, PHONE, device_id="install-a")
    assert await world.tokens(ADA) == []
    assert await world.tokens(BOB) == [PHONE]


async def test_a_token_registered_without_a_device_id_stays_with_its_member(world: World) -> None:
    await world.register(ADA, PHONE)
    with pytest.raises(Conflict):
        await world.register(BOB, PHONE, device_id="install-b")
    # Its own member can add the device id later; then the installation can move it.
    await world.register(ADA, PHONE, device_id="install-a")
    await world.register(ADA, PHONE)  # registering again without one keeps it
    await world.register(BOB, PHONE, device_id="install-a")
    assert await world.tokens(BOB) == [PHONE]


async def test_bad_tokens_and_the_service_identity_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.register(ADA, "apns:1234")
    with pytest.raises(PermissionDenied):
        await RegisterPushToken(world.uow, world.clock)(
            Principal(profile=None, is_service=True), DeviceRegistration(PHONE)
        )


async def test_an_eleventh_device_retires_the_oldest(world: World) -> None:
    for number in range(MAX_ACTIVE_DEVICES + 1):
        world.clock.advance(seconds=1)
        await world.register(ADA, f"ExpoPushToken[{number}]")
    retired = world.store.notifications.tokens["ExpoPushToken[0]"]
    listed = await ListMyPushTokens(world.uow)(world.principal(ADA), limit=100)
    # The retired device is no longer listed (it receives nothing); the ten newest are.
    assert [t.token for t in listed.items] == [
        f"ExpoPushToken[{number}]" for number in range(MAX_ACTIVE_DEVICES, 0, -1)
    ]
    assert all(t.active for t in listed.items)
    assert listed.next_cursor is None
    assert (retired.active, retired.deactivated_reason) == (False, "superseded")


async def test_devices_are_listed_a_page_at_a_time(world: World) -> None:
    for number in range(5):
        world.clock.advance(seconds=1)
        await world.register(ADA, f"ExpoPushToken[{number}]")
    listing, seen, cursor = ListMyPushTokens(world.uow), [], None
    while True:
        page = await listing(world.principal(ADA), cursor=cursor, limit=2)
        seen += [t.token for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"ExpoPushToken[{number}]" for number in range(4, -1, -1)]
    with pytest.raises(InvalidInput):
        await listing(world.principal(ADA), cursor="bm90LW91cnM")


async def test_an_event_becomes_one_notification_and_one_push_per_device(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.register(ADA, TABLET)
    event = await world.notify("badge.awarded", profileId=str(ADA), badgeCode="first")
    # Handling the same event again (a retried job) changes nothing.
    await NotifyMember(world.uow, world.clock, world.ids)(event)

    page = await ListNotifications(world.uow)(world.principal(ADA))
    assert [n.title for n in page.items] == ["New badge"]
    assert page.unread_count == 1
    assert world.deliveries() == sorted(
        [(PHONE, DeliveryState.QUEUED), (TABLET, DeliveryState.QUEUED)]
    )


async def test_events_for_unknown_members_notify_nobody(world: World) -> None:
    await world.notify("payout.paid", profileId=str(uuid.uuid4()))
    assert world.store.notifications.notifications == {}


async def test_a_switched_off_category_gets_the_feed_but_no_push(world: World) -> None:
    await world.register(ADA, PHONE)
    update = UpdateNotificationPreferences(world.uow, world.clock)
    result = await update(world.principal(ADA), {NotificationCategory.PAYOUT: False})
    assert result[NotificationCategory.PAYOUT] is False
    assert result[NotificationCategory.BADGE] is True

    await world.notify("payout.paid", profileId=str(ADA))
    await world.notify("badge.awarded", profileId=str(ADA))

    page = await ListNotifications(world.uow)(world.principal(ADA))
    assert len(page.items) == 2
    assert world.deliveries() == [(PHONE, DeliveryState.QUEUED)]
    assert (await GetNotificationPreferences(world.uow)(world.principal(BOB)))[
        NotificationCategory.PAYOUT
    ]


async def test_the_feed_pages_newest_first_and_reads_are_own_only(world: World) -> None:
    for number in range(5):
        world.clock.advance(seconds=1)
        await world.notify("badge.awarded", profileId=str(ADA), badgeCode=f"b{number}")
    list_feed = ListNotifications(world.uow)
    first = await list_feed(world.principal(ADA), limit=2)
    second = await list_feed(world.principal(ADA), limit=2, cursor=first.next_cursor)
    third = await list_feed(world.principal(ADA), limit=2, cursor=second.next_cursor)
    codes = [n.data["badgeCode"] for page in (first, second, third) for n in page.items]
    assert codes == ["b4", "b3", "b2", "b1", "b0"]
    assert third.next_cursor is None

    newest = first.items[0]
    with pytest.raises(NotFound):
        await MarkNotificationRead(world.uow, world.clock)(world.principal(BOB), newest.id)
    read = await MarkNotificationRead(world.uow, world.clock)(world.principal(ADA), newest.id)
    assert read.read_at == world.clock.now()
    unread = await list_feed(world.principal(ADA), unread_only=True)
    assert len(unread.items) == 4
    assert await MarkAllNotificationsRead(world.uow, world.clock)(world.principal(ADA)) == 4
    assert (await list_feed(world.principal(ADA))).unread_count == 0


async def test_queued_pushes_are_sent_once_with_tickets(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))

    report = await world.send()()
    assert (report.claimed, report.sent) == (1, 1)
    assert (await world.send()()).claimed == 0
    assert world.sender.deliveries_to(PHONE) == 1
    [delivery] = world.store.notifications.deliveries.values()
    assert delivery.state is DeliveryState.SENT
    assert delivery.ticket_id
    message = world.sender.sent[0][0]
    assert message.data["notificationId"]


async def test_rate_limited_sends_are_retried_after_backoff(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))
    world.sender.script.append(PushServiceUnavailable("429", retry_after_seconds=5))

    report = await world.send()()
    assert (report.claimed, report.retried) == (1, 1)
    assert (await world.send()()).claimed == 0  # not due yet
    world.clock.advance(seconds=5)
    report = await world.send()()
    assert report.sent == 1
    assert world.sender.deliveries_to(PHONE) == 1


async def test_retries_stop_after_the_last_attempt(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))
    for _ in range(3):
        world.sender.script.append(PushServiceUnavailable("503"))
        await world.send()()
        world.clock.advance(seconds=60)
    assert world.deliveries() == [(PHONE, DeliveryState.FAILED)]


async def test_a_refused_request_fails_its_deliveries(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))
    world.sender.script.append(PushRequestRejected("bad credentials"))
    report = await world.send()()
    assert report.failed == 1
    assert world.deliveries() == [(PHONE, DeliveryState.FAILED)]


async def test_device_not_registered_deactivates_and_later_sends_skip_it(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.register(ADA, TABLET)
    world.sender.script.append(
        lambda messages: [
            PushRejected(m.token, PushErrorCode.DEVICE_NOT_REGISTERED)
            if m.token == PHONE
            else PushAccepted(m.token, "t-ok")
            for m in messages
        ]
    )
    await world.notify("badge.awarded", profileId=str(ADA))
    report = await world.send()()
    assert report.deactivated == 1

    await world.notify("payout.paid", profileId=str(ADA))
    await world.send()()
    assert world.sender.deliveries_to(PHONE) == 0
    assert world.sender.deliveries_to(TABLET) == 2


async def test_a_receipt_saying_the_device_is_gone_deactivates_it(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.register(ADA, TABLET)
    await world.notify("badge.awarded", profileId=str(ADA))
    await world.send()()
    phone_ticket = next(
        d.ticket_id for d in world.store.notifications.deliveries.values() if d.token == PHONE
    )
    assert phone_ticket is not None
    world.sender.receipts[phone_ticket] = ReceiptFailed(
        phone_ticket, PushErrorCode.DEVICE_NOT_REGISTERED
    )
    check = CheckPushReceipts(world.queue, world.sender, world.clock, delay=timedelta(minutes=15))
    assert (await check()).checked == 0  # too early
    world.clock.advance(minutes=15)
    report = await check()
    assert (report.checked, report.ok, report.failed, report.deactivated) == (2, 1, 1, 1)
    assert (await check()).checked == 0

    await world.notify("payout.paid", profileId=str(ADA))
    await world.send()()
    assert world.sender.deliveries_to(PHONE) == 1
    assert world.sender.deliveries_to(TABLET) == 2


async def test_a_token_moved_to_another_member_skips_the_old_members_pushes(world: World) -> None:
    await world.register(ADA, PHONE, device_id="install-a")
    await world.notify("badge.awarded", profileId=str(ADA))
    await world.register(BOB, PHONE, device_id="install-a")  # before the push went out
    report = await world.send()()
    assert report.claimed == 0
    assert world.deliveries() == [(PHONE, DeliveryState.SKIPPED)]
    assert world.sender.deliveries_to(PHONE) == 0


async def test_stalled_sends_become_uncertain_and_are_never_resent(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))
    world.sender.script.append(RuntimeError("process died mid-request"))
    with pytest.raises(RuntimeError):
        await world.send()()
    assert world.deliveries() == [(PHONE, DeliveryState.SENDING)]

    resolve = ResolveStalledPushes(world.queue, world.clock, lease=timedelta(minutes=5))
    assert await resolve() == 0
    world.clock.advance(minutes=6)
    assert await resolve() == 1
    assert (await world.send()()).claimed == 0
    assert world.deliveries() == [(PHONE, DeliveryState.UNCERTAIN)]


async def test_a_send_without_an_answer_is_uncertain_and_never_resent(world: World) -> None:
    await world.register(ADA, PHONE)
    await world.notify("badge.awarded", profileId=str(ADA))
    world.sender.script.append(PushOutcomeUnknown("read timeout"))
    report = await world.send()()
    assert (report.claimed, report.uncertain, report.retried) == (1, 1, 0)
    world.clock.advance(hours=1)
    assert (await world.send()()).claimed == 0
    assert world.deliveries() == [(PHONE, DeliveryState.UNCERTAIN)]
