"""Storage of devices, the notification feed, preferences and push deliveries, as ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.member_notifications import (
    ClaimedDelivery,
    DeliveryOutcome,
    FeedCursor,
    Notification,
    PushToken,
    ReceiptUpdate,
    SentDelivery,
)
from core.domain.notifications import NotificationCategory


class PushTokenRepository(Protocol):
    """Members' devices, inside the current unit of work. A token belongs to one member."""

    async def get(self, token: str, *, lock: bool = False) -> PushToken | None:
        """The token's row; with ``lock``, nobody else changes it until the unit of work
        ends."""
        ...

    async def add_if_absent(self, token: PushToken) -> PushToken | None:
        """Insert ``token``; ``None`` (and nothing written) when the token is registered
        already, even by a transaction that commits meanwhile."""
        ...

    async def register(self, token: PushToken) -> PushToken:
        """Replace the existing row for the same token: it now belongs to
        ``token.profile_id``, is active again, with the new platform and device name; the
        device id is kept when ``token`` has none. ``created_at`` is kept. Call it on a row
        read with ``lock``, after checking ``may_take_over``."""
        ...

    async def list_for(self, profile_id: UUID, *, active_only: bool = False) -> list[PushToken]:
        """The member's tokens, most recently registered first."""
        ...

    async def page_for(
        self, profile_id: UUID, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[PushToken]:
        """At most ``limit`` of the member's active tokens, most recently registered first
        (``updated_at`` then token, descending), strictly after the position ``before``."""
        ...

    async def delete(self, token: str, *, profile_id: UUID) -> bool:
        """Delete ``token`` if it belongs to ``profile_id``; ``True`` if it did."""
        ...

    async def deactivate(self, tokens: Sequence[str], *, reason: str, now: datetime) -> None: ...


class NotificationRepository(Protocol):
    """The feed, preferences and queued pushes, inside the current unit of work."""

    async def add_if_absent(self, notification: Notification) -> bool:
        """Insert unless the member already has a notification for the same
        ``source_event_id``; ``True`` if this call inserted it. Race-safe."""
        ...

    async def get(self, notification_id: UUID) -> Notification | None: ...

    async def page(
        self, profile_id: UUID, *, after: FeedCursor | None, limit: int, unread_only: bool
    ) -> list[Notification]:
        """Newest first by ``(created_at, id)``, strictly older than ``after``."""
        ...

    async def unread_count(self, profile_id: UUID) -> int: ...

    async def mark_read(self, profile_id: UUID, ids: Sequence[UUID] | None, now: datetime) -> int:
        """Mark the member's unread notifications among ``ids`` (all of them when ``None``)
        as read at ``now``; returns how many changed. Others' notifications are untouched."""
        ...

    async def preferences(self, profile_id: UUID) -> dict[NotificationCategory, bool]:
        """Only the categories the member set; missing means enabled."""
        ...

    async def set_preferences(
        self, profile_id: UUID, changes: Mapping[NotificationCategory, bool], now: datetime
    ) -> None: ...

    async def queue_pushes(
        self, notification: Notification, tokens: Sequence[str], now: datetime
    ) -> int:
        """Queue one push delivery per token (at most one per notification and device, ever);
        returns how many were queued."""
        ...


class PushDeliveryQueue(Protocol):
    """Push deliveries as a job queue. Every method runs in its own short transaction."""

    async def claim(self, *, now: datetime, limit: int, worker: str) -> list[ClaimedDelivery]:
        """Up to ``limit`` queued deliveries due at ``now``, marked ``sending`` and committed
        before returning (so a crash can never lead to sending them again). Deliveries whose
        device was deleted, deactivated or moved to another member are marked ``skipped``
        instead. Concurrent claimers never get the same delivery."""
        ...

    async def record(self, outcomes: Sequence[DeliveryOutcome], *, now: datetime) -> int:
        """Record send outcomes and deactivate the tokens they name, in one transaction. Only
        deliveries still ``sending`` (or ``uncertain``) under the same attempt are changed."""
        ...

    async def resolve_stalled(self, *, sending_before: datetime, now: datetime) -> int:
        """Deliveries ``sending`` since before ``sending_before`` (their worker died mid-send)
        become ``uncertain``; they are never sent again. Returns how many."""
        ...

    async def awaiting_receipts(
        self, *, sent_before: datetime, after_id: int, limit: int
    ) -> list[SentDelivery]:
        """Sent deliveries with a ticket and no receipt yet, sent before ``sent_before``, with
        an id above ``after_id``, by id."""
        ...

    async def record_receipts(self, updates: Sequence[ReceiptUpdate], *, now: datetime) -> None:
        """Store receipt statuses; deactivate the named tokens unless they were registered
        again after the push was sent."""
        ...

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` deliveries in a final state last changed before
        ``finished_before``; returns how many."""
        ...
