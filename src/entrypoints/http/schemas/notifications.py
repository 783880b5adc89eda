"""Wire structs for ``/notifications``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from core.domain.member_notifications import (
    MAX_DEVICE_ID_LENGTH,
    MAX_DEVICE_NAME_LENGTH,
    DevicePlatform,
    DeviceRegistration,
    FeedPage,
    Notification,
    PushToken,
)
from core.domain.notifications import NotificationCategory
from entrypoints.http.schemas.wire import NO_NUL, exactly

# What ``core.domain.notifications.ensure_expo_push_token`` accepts, in printable ASCII.
EXPO_PUSH_TOKEN = exactly("(?:ExponentPushToken|ExpoPushToken)\\[[!-Z\\\\^-~]{1,200}\\]")
DEVICE_ID = exactly(f"[!-~]{{1,{MAX_DEVICE_ID_LENGTH}}}")

Category = Literal["clip_decided", "reward_released", "payout", "badge", "moderation"]


class PushTokenIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """An Expo push token (``ExponentPushToken[…]``) of the caller's device, and the app's
    own id for this installation (``deviceId``: made once, kept on the phone; a token moves
    to another account only when registered with the same one)."""

    token: Annotated[str, msgspec.Meta(max_length=230, pattern=EXPO_PUSH_TOKEN)]
    platform: Literal["ios", "android", "web"] | None = None
    device_name: (
        Annotated[str, msgspec.Meta(max_length=MAX_DEVICE_NAME_LENGTH, pattern=NO_NUL)] | None
    ) = None
    device_id: Annotated[str, msgspec.Meta(pattern=DEVICE_ID)] | None = None

    def to_registration(self) -> DeviceRegistration:
        return DeviceRegistration(
            token=self.token,
            platform=DevicePlatform(self.platform) if self.platform else None,
            device_name=self.device_name,
            device_id=self.device_id,
        )


class PushTokenOut(msgspec.Struct, rename="camel"):
    token: str
    platform: str | None
    device_name: str | None
    device_id: str | None
    active: bool
    deactivated_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, token: PushToken) -> PushTokenOut:
        return cls(
            token=token.token,
            platform=token.platform.value if token.platform else None,
            device_name=token.device_name,
            device_id=token.device_id,
            active=token.active,
            deactivated_reason=token.deactivated_reason,
            created_at=token.created_at,
            updated_at=token.updated_at,
        )


class PushTokenList(msgspec.Struct, rename="camel"):
    """A page of the caller's active devices; ``nextCursor`` is null on the last page."""

    items: list[PushTokenOut]
    next_cursor: str | None


class NotificationOut(msgspec.Struct, rename="camel"):
    id: UUID
    category: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        return cls(
            id=notification.id,
            category=notification.category.value,
            title=notification.title,
            body=notification.body,
            data=dict(notification.data),
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class NotificationPage(msgspec.Struct, rename="camel"):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int

    @classmethod
    def of(cls, page: FeedPage) -> NotificationPage:
        return cls(
            items=[NotificationOut.of(item) for item in page.items],
            next_cursor=page.next_cursor,
            unread_count=page.unread_count,
        )


class MarkedRead(msgspec.Struct, rename="camel"):
    updated: int


class CategoryPreference(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    category: Category
    enabled: bool


class PreferencesIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Categories to switch on or off; the others keep their setting."""

    categories: Annotated[list[CategoryPreference], msgspec.Meta(max_length=20)]

    def to_changes(self) -> dict[NotificationCategory, bool]:
        return {NotificationCategory(item.category): item.enabled for item in self.categories}


class PreferencesOut(msgspec.Struct, rename="camel"):
    """Whether pushes are sent per category (the in-app feed shows every category)."""

    categories: list[CategoryPreference]

    @classmethod
    def of(cls, preferences: dict[NotificationCategory, bool]) -> PreferencesOut:
        return cls(
            categories=[
                CategoryPreference(category=category.value, enabled=enabled)
                for category, enabled in preferences.items()
            ]
        )
