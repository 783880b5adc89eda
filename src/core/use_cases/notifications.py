"""Use cases of push notifications and the in-app feed: devices, feed, preferences (for
members), and creating, sending and checking notifications (for the worker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, ensure_may_read
from core.domain.member_notifications import (
    MAX_RECEIPTS_PER_REQUEST,
    DeliveryOutcome,
    DeliveryState,
    DeviceRegistration,
    FeedCursor,
    FeedPage,
    Notification,
    PushToken,
    TokenDeactivation,
    check_page_size,
    devices_to_retire,
    draft_for_event,
    may_take_over,
    receipt_updates,
    register_device,
    retry_or_fail,
    ticket_outcomes,
    with_default_preferences,
)
from core.domain.notifications import (
    MAX_MESSAGES_PER_CHUNK,
    BackoffPolicy,
    NotificationCategory,
    PushOutcomeUnknown,
    PushRequestRejected,
    PushServiceUnavailable,
    RandomSource,
)
from core.domain.pagination import decode_keyed_position, encode_keyed_position
from core.errors import Conflict, NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.notifications import PushDeliveryQueue
from core.ports.push import PushSender
from core.ports.unit_of_work import UnitOfWork


def _member(principal: Principal) -> Profile:
    """Devices, feed and preferences are personal settings: suspended members keep them (they
    must hear about their account); banned members were refused already."""
    profile = principal.require_member()
    ensure_may_read(profile)
    return profile


# -- devices -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterPushToken:
    """A member registers a device for push notifications.

    Rules: the token must be an Expo push token. A token another member registered stays
    theirs (409 ``push_token_in_use``) unless both registrations carry the same device id —
    the same installation signed in to another account (``may_take_over``); then it moves
    to the caller, and from then on the previous member gets nothing on it, not even pushes
    already queued. Registering again switches a deactivated token back on. At most 10
    devices stay active per member; an eleventh deactivates the one registered longest ago.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, registration: DeviceRegistration) -> PushToken:
        caller = _member(principal)
        now = self.clock.now()
        token = register_device(registration, caller.id, now)
        async with self.uow_factory() as uow:
            stored = None
            registered = await uow.push_tokens.get(token.token, lock=True)
            if registered is None:
                stored = await uow.push_tokens.add_if_absent(token)
                if stored is None:  # registered by someone else a moment ago
                    registered = await uow.push_tokens.get(token.token, lock=True)
            if stored is None:
                assert registered is not None
                if not may_take_over(registered, token):
                    raise Conflict(
                        "This push token is registered to another account. Sign out there "
                        "first, or register it with that installation's device id.",
                        code="push_token_in_use",
                    )
                stored = await uow.push_tokens.register(token)
            active = await uow.push_tokens.list_for(caller.id, active_only=True)
            retired = devices_to_retire(active)
            if retired:
                await uow.push_tokens.deactivate(
                    retired, reason=TokenDeactivation.SUPERSEDED.value, now=now
                )
            await uow.commit()
        return stored


@dataclass(frozen=True, slots=True)
class UnregisterPushToken:
    """A member removes one of their devices (on sign-out). Someone else's token, or an
    unknown one, is "not found" (404): nobody learns whether another member's token exists."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, token: str) -> None:
        caller = _member(principal)
        async with self.uow_factory() as uow:
            if not await uow.push_tokens.delete(token, profile_id=caller.id):
                raise NotFound("No such device token.", code="push_token_not_found")
            await uow.commit()


@dataclass(frozen=True, slots=True)
class ListMyPushTokens:
    """The caller's own active devices, most recently registered first, a page at a time
    (``cursor``: ``next_cursor`` of the previous page). Deactivated devices (unregistered by
    Expo, superseded, moved to another account) are not listed: they receive nothing."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, cursor: str | None = None, limit: int = 20
    ) -> PushTokenPage:
        caller = _member(principal)
        before = decode_keyed_position(cursor) if cursor else None
        async with self.uow_factory() as uow:
            tokens = await uow.push_tokens.page_for(caller.id, before=before, limit=limit)
        last = tokens[-1] if len(tokens) == limit else None
        return PushTokenPage(
            items=tuple(tokens),
            next_cursor=encode_keyed_position(last.updated_at, last.token) if last else None,
        )


@dataclass(frozen=True, slots=True)
class PushTokenPage:
    items: tuple[PushToken, ...]
    next_cursor: str | None


# -- feed and preferences ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListNotifications:
    """The caller's in-app feed, newest first, a page at a time (``limit`` 1..100, default
    20), with an opaque cursor for the next page and the number of unread notifications."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self,
        principal: Principal,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        unread_only: bool = False,
    ) -> FeedPage:
        caller = _member(principal)
        size = check_page_size(limit)
        after = FeedCursor.decode(cursor) if cursor else None
        async with self.uow_factory() as uow:
            rows = await uow.notifications.page(
                caller.id, after=after, limit=size + 1, unread_only=unread_only
            )
            unread = await uow.notifications.unread_count(caller.id)
        items = tuple(rows[:size])
        more = len(rows) > size
        next_cursor = FeedCursor.after(items[-1]).encode() if more and items else None
        return FeedPage(items, next_cursor, unread)


@dataclass(frozen=True, slots=True)
class MarkNotificationRead:
    """The caller marks one of their notifications read (again: no change). Someone else's
    notification is "not found"."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, notification_id: UUID) -> Notification:
        caller = _member(principal)
        async with self.uow_factory() as uow:
            notification = await uow.notifications.get(notification_id)
            if notification is None or notification.profile_id != caller.id:
                raise NotFound("No such notification.", code="notification_not_found")
            if notification.is_read:
                return notification
            await uow.notifications.mark_read(caller.id, [notification_id], self.clock.now())
            updated = await uow.notifications.get(notification_id)
            await uow.commit()
        assert updated is not None
        return updated


@dataclass(frozen=True, slots=True)
class MarkAllNotificationsRead:
    """The caller marks every unread notification of theirs read; returns how many."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal) -> int:
        caller = _member(principal)
        async with self.uow_factory() as uow:
            changed = await uow.notifications.mark_read(caller.id, None, self.clock.now())
            await uow.commit()
        return changed


@dataclass(frozen=True, slots=True)
class GetNotificationPreferences:
    """Whether the caller gets pushes for each category (all on until switched off). The
    in-app feed shows every category regardless."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal) -> dict[NotificationCategory, bool]:
        caller = _member(principal)
        async with self.uow_factory() as uow:
            return with_default_preferences(await uow.notifications.preferences(caller.id))


@dataclass(frozen=True, slots=True)
class UpdateNotificationPreferences:
    """The caller switches push categories on or off; categories not mentioned keep their
    setting. Returns every category's setting."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(
        self, principal: Principal, changes: Mapping[NotificationCategory, bool]
    ) -> dict[NotificationCategory, bool]:
        caller = _member(principal)
        async with self.uow_factory() as uow:
            if changes:
                await uow.notifications.set_preferences(caller.id, changes, self.clock.now())
            stored = await uow.notifications.preferences(caller.id)
            await uow.commit()
        return with_default_preferences(stored)


# -- the worker's side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotifyMember:
    """Event handler for ``clip.decided``, ``reward.released``, ``payout.paid``,
    ``payout.failed``, ``badge.awarded`` and ``moderation.decided``.

    Rules: the event becomes one feed notification for the member it names (none if that
    profile does not exist); if the member allows pushes for its category, one push delivery
    is queued per active device, in the same transaction. Idempotent: a second handling of
    the same event finds the notification and queues nothing, so a device can never get it
    twice. A payload naming no member is a ``PermanentFailure``."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, event: DomainEvent) -> None:
        draft = draft_for_event(event)
        if draft is None:
            return
        now = self.clock.now()
        async with self.uow_factory() as uow:
            if await uow.profiles.get(draft.profile_id) is None:
                return
            notification = Notification(
                id=self.ids.new_id(),
                profile_id=draft.profile_id,
                category=draft.category,
                title=draft.title,
                body=draft.body,
                data=draft.data,
                created_at=now,
                source_event_id=event.id,
            )
            if not await uow.notifications.add_if_absent(notification):
                return
            preferences = with_default_preferences(
                await uow.notifications.preferences(draft.profile_id)
            )
            if preferences[draft.category]:
                devices = await uow.push_tokens.list_for(draft.profile_id, active_only=True)
                await uow.notifications.queue_pushes(
                    notification, [device.token for device in devices], now
                )
            await uow.commit()


@dataclass(frozen=True, slots=True)
class PushSendReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    deactivated: int = 0
    error: str | None = None
    uncertain: int = 0


@dataclass(frozen=True, slots=True)
class SendQueuedPushes:
    """Send one chunk (at most 100) of queued push deliveries.

    Rules: deliveries are marked ``sending`` and committed before Expo is called, so a worker
    that dies mid-request never sends them again (they become ``uncertain``: at most once
    per device). Tickets are stored for the receipt check; ``DeviceNotRegistered`` deactivates
    the token at once; a 429, a 5xx, an unreachable service or a per-message rate limit means
    Expo did not take the message: it is queued again after exponential, jittered backoff
    (at least the ``Retry-After``), until ``policy.max_attempts``. A request Expo refuses
    outright fails its deliveries. A request that may have reached Expo without an answer
    (read timeout, connection dropped mid-exchange) makes them ``uncertain``: never resent.
    Any other error leaves them ``sending`` (they become ``uncertain`` after the lease) and
    propagates."""

    queue: PushDeliveryQueue
    sender: PushSender
    clock: Clock
    policy: BackoffPolicy
    random: RandomSource
    worker: str
    chunk_size: int = MAX_MESSAGES_PER_CHUNK

    async def __call__(self) -> PushSendReport:
        claimed = await self.queue.claim(
            now=self.clock.now(),
            limit=min(self.chunk_size, MAX_MESSAGES_PER_CHUNK),
            worker=self.worker,
        )
        if not claimed:
            return PushSendReport()
        error: str | None = None
        try:
            tickets = await self.sender.send([delivery.message for delivery in claimed])
        except PushOutcomeUnknown as unknown:
            error = f"{unknown.code}: {unknown.message}"
            outcomes = [
                DeliveryOutcome(delivery, DeliveryState.UNCERTAIN, error=error)
                for delivery in claimed
            ]
        except PushServiceUnavailable as unavailable:
            error = f"{unavailable.code}: {unavailable.message}"
            now = self.clock.now()
            outcomes = [
                retry_or_fail(
                    delivery,
                    error,
                    now=now,
                    policy=self.policy,
                    random=self.random,
                    retry_after_seconds=unavailable.retry_after_seconds,
                )
                for delivery in claimed
            ]
        except PushRequestRejected as rejected:
            error = f"{rejected.code}: {rejected.message}"
            outcomes = [
                DeliveryOutcome(delivery, DeliveryState.FAILED, error=error) for delivery in claimed
            ]
        else:
            outcomes = ticket_outcomes(
                claimed, tickets, now=self.clock.now(), policy=self.policy, random=self.random
            )
        await self.queue.record(outcomes, now=self.clock.now())
        return _send_report(len(claimed), outcomes, error)


def _send_report(
    claimed: int, outcomes: list[DeliveryOutcome], error: str | None
) -> PushSendReport:
    def count(state: DeliveryState) -> int:
        return sum(1 for outcome in outcomes if outcome.state is state)

    return PushSendReport(
        claimed=claimed,
        sent=count(DeliveryState.SENT),
        failed=count(DeliveryState.FAILED),
        retried=count(DeliveryState.QUEUED),
        uncertain=count(DeliveryState.UNCERTAIN),
        deactivated=sum(1 for outcome in outcomes if outcome.deactivate),
        error=error,
    )


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    checked: int = 0
    ok: int = 0
    failed: int = 0
    expired: int = 0
    deactivated: int = 0


@dataclass(frozen=True, slots=True)
class CheckPushReceipts:
    """Periodic: fetch Expo's receipts for deliveries sent at least ``delay`` ago (Expo
    advises about 15 minutes), up to ``max_requests`` requests of 1000 tickets per run.

    Rules: ``ok`` and error receipts are stored on the delivery; ``DeviceNotRegistered``
    deactivates the token (unless the device registered again after the push), so later
    notifications skip it; a ticket without a receipt 24 hours after sending is ``expired``.
    Expo being unavailable fails the run; the next run tries again."""

    queue: PushDeliveryQueue
    sender: PushSender
    clock: Clock
    delay: timedelta = timedelta(minutes=15)
    max_requests: int = 10

    async def __call__(self) -> ReceiptReport:
        checked = ok = failed = expired = deactivated = 0
        after_id = 0
        for _ in range(self.max_requests):
            now = self.clock.now()
            pending = await self.queue.awaiting_receipts(
                sent_before=now - self.delay, after_id=after_id, limit=MAX_RECEIPTS_PER_REQUEST
            )
            if not pending:
                break
            receipts = await self.sender.get_receipts([delivery.ticket_id for delivery in pending])
            updates = receipt_updates(pending, receipts, now)
            await self.queue.record_receipts(updates, now=self.clock.now())
            checked += len(pending)
            ok += sum(1 for update in updates if update.receipt_status == "ok")
            expired += sum(1 for update in updates if update.receipt_status == "expired")
            failed += sum(1 for update in updates if update.receipt_status not in {"ok", "expired"})
            deactivated += sum(1 for update in updates if update.deactivate)
            after_id = pending[-1].id
            if len(pending) < MAX_RECEIPTS_PER_REQUEST:
                break
        return ReceiptReport(checked, ok, failed, expired, deactivated)


@dataclass(frozen=True, slots=True)
class ResolveStalledPushes:
    """Periodic: deliveries left ``sending`` by a worker that died mid-request (older than the
    lease) become ``uncertain``: Expo may have delivered them, so they are never sent again."""

    queue: PushDeliveryQueue
    clock: Clock
    lease: timedelta = timedelta(minutes=5)

    async def __call__(self) -> int:
        now = self.clock.now()
        return await self.queue.resolve_stalled(sending_before=now - self.lease, now=now)


@dataclass(frozen=True, slots=True)
class PrunePushDeliveries:
    """Periodic: delete deliveries in a final state untouched for ``retention``."""

    queue: PushDeliveryQueue
    clock: Clock
    retention: timedelta = timedelta(days=7)
    batch: int = 10_000

    async def __call__(self) -> int:
        return await self.queue.prune(
            finished_before=self.clock.now() - self.retention, limit=self.batch
        )
