"""A member's devices, in-app notification feed, per-category preferences and push deliveries;
and which domain events become which notification (title, body, data).

The push rules themselves (token format, chunks, error codes, backoff) are in
``core.domain.notifications``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.jobs import named_member
from core.domain.money import Money
from core.domain.notifications import (
    BackoffPolicy,
    NotificationCategory,
    PushAccepted,
    PushErrorCode,
    PushMessage,
    PushReceipt,
    PushTicket,
    RandomSource,
    ReceiptFailed,
    ensure_expo_push_token,
)
from core.domain.pagination import decode_position, encode_position
from core.errors import DomainError, InvalidInput

MAX_ACTIVE_DEVICES = 10
"""Registering an eleventh device deactivates the one registered longest ago."""
MAX_DEVICE_NAME_LENGTH = 100
MAX_DEVICE_ID_LENGTH = 200
DEFAULT_FEED_PAGE = 20
MAX_FEED_PAGE = 100
MAX_TITLE_LENGTH = 100
MAX_BODY_LENGTH = 300
MAX_RECEIPTS_PER_REQUEST = 1000
"""Expo answers at most 1000 receipts per ``getReceipts`` request."""
RECEIPT_LIFETIME = timedelta(hours=24)
"""Expo keeps receipts for a day; a ticket without one after that is ``expired``."""


class DevicePlatform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class TokenDeactivation(StrEnum):
    """Why a device stopped getting pushes."""

    DEVICE_NOT_REGISTERED = "device_not_registered"  # Expo: app uninstalled / permission revoked
    SUPERSEDED = "superseded"  # the member registered more than MAX_ACTIVE_DEVICES
    BANNED = "banned"  # moderation banned the member


@dataclass(frozen=True, slots=True)
class DeviceRegistration:
    """What the app sends to register a device. ``device_id`` is the app's own id for this
    installation (made once and kept on the phone); with it, a phone that changed accounts
    can move its token to the new account."""

    token: str
    platform: DevicePlatform | None = None
    device_name: str | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class PushToken:
    """An Expo push token and the member it currently belongs to."""

    token: str
    profile_id: UUID
    platform: DevicePlatform | None
    device_name: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    deactivated_reason: str | None = None
    device_id: str | None = None


def register_device(registration: DeviceRegistration, profile_id: UUID, now: datetime) -> PushToken:
    """A fresh, active registration of ``registration.token`` for ``profile_id``. The token
    must be an Expo push token; the device name is trimmed and at most 100 characters; the
    device id, if any, is 1–200 visible characters."""
    token = ensure_expo_push_token(registration.token.strip())
    name = " ".join((registration.device_name or "").split()) or None
    if name is not None and len(name) > MAX_DEVICE_NAME_LENGTH:
        raise InvalidInput(
            f"Device name must be at most {MAX_DEVICE_NAME_LENGTH} characters.",
            code="invalid_device_name",
        )
    device_id = registration.device_id
    if device_id is not None and not (
        0 < len(device_id) <= MAX_DEVICE_ID_LENGTH and device_id.isprintable()
    ):
        raise InvalidInput(
            f"Device id must be 1–{MAX_DEVICE_ID_LENGTH} printable characters.",
            code="invalid_device_id",
        )
    return PushToken(
        token=token,
        profile_id=profile_id,
        platform=registration.platform,
        device_name=name,
        active=True,
        created_at=now,
        updated_at=now,
        device_id=device_id,
    )


def may_take_over(registered: PushToken, registration: PushToken) -> bool:
    """Whether ``registration`` may replace the stored ``registered`` row of the same token.

    A member may always register their own token again. Another member's token moves only
    when both registrations name the same device id — the same installation of the app,
    signed in to another account. Knowing a token alone is not enough: otherwise whoever
    learns it could point someone's phone at their own notifications and cut its owner off.
    """
    if registered.profile_id == registration.profile_id:
        return True
    return registered.device_id is not None and registered.device_id == registration.device_id


def devices_to_retire(active: Sequence[PushToken], keep: int = MAX_ACTIVE_DEVICES) -> list[str]:
    """Tokens to deactivate so that at most ``keep`` stay active: the least recently
    registered go first."""
    newest_first = sorted(active, key=lambda t: (t.updated_at, t.token), reverse=True)
    return [token.token for token in newest_first[keep:]]


@dataclass(frozen=True, slots=True)
class Notification:
    """One entry of a member's in-app feed."""

    id: UUID
    profile_id: UUID
    category: NotificationCategory
    title: str
    body: str
    data: Mapping[str, Any]
    created_at: datetime
    read_at: datetime | None = None
    source_event_id: UUID | None = None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True, slots=True)
class NotificationDraft:
    """What an event says to tell a member; becomes a ``Notification`` and pushes."""

    profile_id: UUID
    category: NotificationCategory
    title: str
    body: str
    data: Mapping[str, Any] = field(default_factory=dict)


# -- the feed ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a feed page ends: the feed is ordered newest first by ``(created_at, id)``."""

    created_at: datetime
    id: UUID

    def encode(self) -> str:
        return encode_position(self.created_at, self.id)

    @classmethod
    def decode(cls, text: str) -> FeedCursor:
        """Parse a cursor given out by ``encode``; ``InvalidInput`` (``invalid_cursor``)."""
        return cls(*decode_position(text))

    @classmethod
    def after(cls, notification: Notification) -> FeedCursor:
        return cls(notification.created_at, notification.id)


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: tuple[Notification, ...]
    next_cursor: str | None
    unread_count: int


def check_page_size(limit: int | None) -> int:
    """1..100, 20 when not given."""
    if limit is None:
        return DEFAULT_FEED_PAGE
    if not 1 <= limit <= MAX_FEED_PAGE:
        raise InvalidInput(f"limit must be 1..{MAX_FEED_PAGE}.", code="invalid_limit")
    return limit


def with_default_preferences(
    stored: Mapping[NotificationCategory, bool],
) -> dict[NotificationCategory, bool]:
    """Every category, enabled unless the member switched it off."""
    return {category: stored.get(category, True) for category in NotificationCategory}


# -- push deliveries ---------------------------------------------------------------------------


class DeliveryState(StrEnum):
    """One push of one notification to one device.

    ``queued`` → ``sending`` (committed *before* the push service is called) → ``sent`` |
    ``failed`` | back to ``queued`` when the service definitely did not take it (429, 5xx,
    per-message rate limit). A row still ``sending`` after its lease belonged to a worker that
    died mid-request: the service may or may not have delivered it, so it becomes
    ``uncertain`` and is never sent again (at most once: a device never gets a notification
    twice). ``skipped``: the device was unregistered, deactivated or moved to another member
    before the push went out."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this worker marked ``sending``. ``attempts`` counts this attempt and fences
    the claim."""

    id: int
    notification_id: UUID
    attempts: int
    message: PushMessage


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """How one send attempt ended: ``SENT`` (with Expo's ticket), ``FAILED``, or ``QUEUED``
    again at ``retry_at``. ``deactivate`` names a token to switch off (DeviceNotRegistered)."""

    delivery: ClaimedDelivery
    state: DeliveryState
    ticket_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None
    deactivate: str | None = None


def ticket_outcomes(
    claimed: Sequence[ClaimedDelivery],
    tickets: Sequence[PushTicket],
    *,
    now: datetime,
    policy: BackoffPolicy,
    random: RandomSource,
) -> list[DeliveryOutcome]:
    """What Expo's tickets (one per message, in order) mean for each delivery: accepted →
    ``sent``; ``DeviceNotRegistered`` → ``failed`` and the token deactivated; a per-message
    rate limit → queued again after backoff (Expo did not take it); any other error →
    ``failed``."""
    if len(tickets) != len(claimed):
        raise ValueError("one ticket per message")
    outcomes: list[DeliveryOutcome] = []
    for delivery, ticket in zip(claimed, tickets, strict=True):
        if isinstance(ticket, PushAccepted):
            outcomes.append(
                DeliveryOutcome(delivery, DeliveryState.SENT, ticket_id=ticket.ticket_id)
            )
        elif ticket.error.is_retryable:
            outcomes.append(
                retry_or_fail(delivery, ticket.error.value, now=now, policy=policy, random=random)
            )
        else:
            gone = ticket.error.deactivates_token
            outcomes.append(
                DeliveryOutcome(
                    delivery,
                    DeliveryState.FAILED,
                    error=ticket.error.value,
                    deactivate=delivery.message.token if gone else None,
                )
            )
    return outcomes


def retry_or_fail(
    delivery: ClaimedDelivery,
    error: str,
    *,
    now: datetime,
    policy: BackoffPolicy,
    random: RandomSource,
    retry_after_seconds: float | None = None,
) -> DeliveryOutcome:
    """Expo definitely did not take the message: queued again after a jittered exponential
    delay (at least ``Retry-After``), or ``failed`` when the attempts are used up."""
    if not policy.should_retry(delivery.attempts):
        return DeliveryOutcome(delivery, DeliveryState.FAILED, error=f"gave up: {error}")
    delay = policy.delay(delivery.attempts, random, at_least=retry_after_seconds)
    return DeliveryOutcome(
        delivery, DeliveryState.QUEUED, error=error, retry_at=now + timedelta(seconds=delay)
    )


@dataclass(frozen=True, slots=True)
class SentDelivery:
    """A delivery Expo accepted, waiting for its receipt."""

    id: int
    token: str
    ticket_id: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiptUpdate:
    """``receipt_status`` is ``ok``, Expo's error code, or ``expired``; ``deactivate`` is the
    token to switch off when the device is gone."""

    delivery_id: int
    receipt_status: str
    deactivate: str | None = None
    sent_at: datetime | None = None


def receipt_updates(
    pending: Sequence[SentDelivery], receipts: Mapping[str, PushReceipt], now: datetime
) -> list[ReceiptUpdate]:
    """What the receipts say about ``pending`` deliveries. A receipt that is not there yet
    is waited for until ``RECEIPT_LIFETIME`` after sending, then recorded as ``expired``."""
    updates: list[ReceiptUpdate] = []
    for delivery in pending:
        receipt = receipts.get(delivery.ticket_id)
        if receipt is None:
            if now - delivery.sent_at >= RECEIPT_LIFETIME:
                updates.append(ReceiptUpdate(delivery.id, "expired"))
            continue
        if isinstance(receipt, ReceiptFailed):
            gone = receipt.error is PushErrorCode.DEVICE_NOT_REGISTERED
            updates.append(
                ReceiptUpdate(
                    delivery.id,
                    receipt.error.value,
                    deactivate=delivery.token if gone else None,
                    sent_at=delivery.sent_at,
                )
            )
        else:
            updates.append(ReceiptUpdate(delivery.id, "ok"))
    return updates


# -- which events notify whom ------------------------------------------------------------------


_recipient = named_member  # the member an event notifies


def _money(payload: Mapping[str, Any]) -> str | None:
    amount, currency = payload.get("amountMinor"), payload.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return None
    try:
        return str(Money(amount, currency.upper()))
    except DomainError:
        return None


def _ids(payload: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: payload[key] for key in keys if isinstance(payload.get(key), str | int)}


def _clip_decided(event: DomainEvent) -> NotificationDraft:
    payload = event.payload
    status = payload.get("status")
    language = payload.get("language")
    clip = f"{language} clip" if isinstance(language, str) and language else "clip"
    if status == "accepted":
        title, body = "Clip accepted", f"Your {clip} passed validation. Thank you!"
    elif status == "rejected":
        title, body = "Clip not accepted", f"Validators did not accept your {clip}."
    else:
        title, body = "Clip reviewed", f"The review of your {clip} is finished."
    return NotificationDraft(
        _recipient(payload, "contributorId", "profileId"),
        NotificationCategory.CLIP_DECIDED,
        title,
        body,
        {**_ids(payload, "clipId"), "status": str(status)} if status else _ids(payload, "clipId"),
    )


def _reward_released(event: DomainEvent) -> NotificationDraft:
    amount = _money(event.payload)
    body = (
        f"{amount} moved to your available balance."
        if amount
        else "A reward moved to your available balance."
    )
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.REWARD_RELEASED,
        "Reward released",
        body,
        _ids(event.payload, "rewardId", "earningId", "clipId"),
    )


def _payout_requested(event: DomainEvent) -> NotificationDraft:
    amount = _money(event.payload)
    body = f"We are sending your payout of {amount}." if amount else "We are sending your payout."
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.PAYOUT,
        "Payout requested",
        body,
        _ids(event.payload, "payoutId"),
    )


def _payout_paid(event: DomainEvent) -> NotificationDraft:
    amount = _money(event.payload)
    body = f"Your payout of {amount} was sent." if amount else "Your payout was sent."
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.PAYOUT,
        "Payout sent",
        body,
        _ids(event.payload, "payoutId"),
    )


def _payout_failed(event: DomainEvent) -> NotificationDraft:
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.PAYOUT,
        "Payout failed",
        "We could not complete your payout. Open the app for details.",
        _ids(event.payload, "payoutId"),
    )


def _badge_awarded(event: DomainEvent) -> NotificationDraft:
    label = event.payload.get("badgeName") or event.payload.get("badgeTitle")
    body = f"You earned the “{label}” badge." if isinstance(label, str) else "You earned a badge."
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.BADGE,
        "New badge",
        body,
        _ids(event.payload, "badgeId", "badgeCode"),
    )


_MODERATION_BODIES = {
    "hide": "Your {target} was hidden after review ({reason}).",
    "remove": "Your {target} was removed after review ({reason}).",
    "restore": "Your {target} is shown again after review ({reason}).",
    "suspend_user": "Your account was suspended after review ({reason}): you can read but "
    "not record, validate or withdraw.",
    "ban_user": "Your account was banned after review ({reason}).",
    "dismiss": "Your {target} is shown again: the reports about it were unfounded.",
}
_TARGETS = {
    "clip": "clip",
    "live_message": "message",
    "live_stream": "stream",
    "profile": "profile",
}
_REASON_CODE = re.compile(r"[a-z_]{1,40}")


def _moderation_decided(event: DomainEvent) -> NotificationDraft:
    action = event.payload.get("action")
    target = _TARGETS.get(str(event.payload.get("targetType")), "content")
    reason = event.payload.get("reason")
    code = reason if isinstance(reason, str) and _REASON_CODE.fullmatch(reason) else None
    template = _MODERATION_BODIES.get(str(action), "A moderation decision concerns you.")
    return NotificationDraft(
        _recipient(event.payload, "profileId"),
        NotificationCategory.MODERATION,
        "Moderation decision",
        template.format(target=target, reason=(code or "other").replace("_", " ")),
        {
            **_ids(event.payload, "decisionId", "flagId", "targetId", "targetType"),
            **({"action": action} if isinstance(action, str) else {}),
            **({"reason": code} if code else {}),
        },
    )


_DRAFTERS: dict[str, Callable[[DomainEvent], NotificationDraft]] = {
    "clip.decided": _clip_decided,
    "reward.released": _reward_released,
    "payout.requested": _payout_requested,
    "payout.paid": _payout_paid,
    "payout.failed": _payout_failed,
    "badge.awarded": _badge_awarded,
    "moderation.decided": _moderation_decided,
}

NOTIFYING_EVENTS: frozenset[str] = frozenset(_DRAFTERS)
"""Event names that notify a member."""


def draft_for_event(event: DomainEvent) -> NotificationDraft | None:
    """The notification ``event`` asks for, ``None`` for events that notify nobody. Raises
    ``PermanentFailure`` (``malformed_event``) when the payload names no recipient. Texts are
    cut to 100 (title) and 300 (body) characters; ``data`` carries ids and codes only."""
    drafter = _DRAFTERS.get(event.name)
    if drafter is None:
        return None
    draft = drafter(event)
    return NotificationDraft(
        draft.profile_id,
        draft.category,
        draft.title[:MAX_TITLE_LENGTH],
        draft.body[:MAX_BODY_LENGTH],
        {"event": event.name, **draft.data},
    )
