"""The notification feed, preferences and queued pushes in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.keyset import newest_first
from adapters.postgres.notification_tables import (
    notification_preferences,
    notifications,
    push_deliveries,
)
from core.domain.member_notifications import DeliveryState, FeedCursor, Notification
from core.domain.notifications import NotificationCategory


def to_notification(row: sa.Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        profile_id=row.profile_id,
        category=NotificationCategory(row.category),
        title=row.title,
        body=row.body,
        data=dict(row.data),
        created_at=row.created_at,
        read_at=row.read_at,
        source_event_id=row.source_event_id,
    )


class PostgresNotificationRepository:
    """Implements ``core.ports.notifications.NotificationRepository`` on the unit of work's
    connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_if_absent(self, notification: Notification) -> bool:
        statement = (
            insert(notifications)
            .values(
                id=notification.id,
                profile_id=notification.profile_id,
                category=notification.category.value,
                title=notification.title,
                body=notification.body,
                data=dict(notification.data),
                source_event_id=notification.source_event_id,
                created_at=notification.created_at,
                read_at=notification.read_at,
            )
            .on_conflict_do_nothing(constraint="notifications_source_event")
            .returning(notifications.c.id)
        )
        result = await self._connection.execute(statement)
        return result.scalar_one_or_none() is not None

    async def get(self, notification_id: UUID) -> Notification | None:
        result = await self._connection.execute(
            sa.select(notifications).where(notifications.c.id == notification_id)
        )
        row = result.one_or_none()
        return to_notification(row) if row else None

    async def page(
        self, profile_id: UUID, *, after: FeedCursor | None, limit: int, unread_only: bool
    ) -> list[Notification]:
        query = sa.select(notifications).where(notifications.c.profile_id == profile_id)
        if unread_only:
            query = query.where(notifications.c.read_at.is_(None))
        page = newest_first(
            query,
            notifications.c.created_at,
            notifications.c.id,
            before=None if after is None else (after.created_at, after.id),
            limit=limit,
        )
        result = await self._connection.execute(page)
        return [to_notification(row) for row in result]

    async def unread_count(self, profile_id: UUID) -> int:
        result = await self._connection.execute(
            sa.select(sa.func.count())
            .select_from(notifications)
            .where(notifications.c.profile_id == profile_id, notifications.c.read_at.is_(None))
        )
        return int(result.scalar_one())

    async def mark_read(self, profile_id: UUID, ids: Sequence[UUID] | None, now: datetime) -> int:
        statement = (
            sa.update(notifications)
            .where(notifications.c.profile_id == profile_id, notifications.c.read_at.is_(None))
            .values(read_at=now)
        )
        if ids is not None:
            if not ids:
                return 0
            statement = statement.where(notifications.c.id.in_(list(ids)))
        result = await self._connection.execute(statement)
        return int(result.rowcount)

    async def preferences(self, profile_id: UUID) -> dict[NotificationCategory, bool]:
        result = await self._connection.execute(
            sa.select(
                notification_preferences.c.category, notification_preferences.c.enabled
            ).where(notification_preferences.c.profile_id == profile_id)
        )
        return {NotificationCategory(row.category): row.enabled for row in result}

    async def set_preferences(
        self, profile_id: UUID, changes: Mapping[NotificationCategory, bool], now: datetime
    ) -> None:
        rows = [
            {
                "profile_id": profile_id,
                "category": category.value,
                "enabled": enabled,
                "updated_at": now,
            }
            for category, enabled in changes.items()
        ]
        statement = insert(notification_preferences).values(rows)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    notification_preferences.c.profile_id,
                    notification_preferences.c.category,
                ],
                set_={
                    "enabled": statement.excluded.enabled,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )

    async def queue_pushes(
        self, notification: Notification, tokens: Sequence[str], now: datetime
    ) -> int:
        if not tokens:
            return 0
        rows = [
            {
                "notification_id": notification.id,
                "token": token,
                "profile_id": notification.profile_id,
                "state": DeliveryState.QUEUED.value,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for token in dict.fromkeys(tokens)
        ]
        result = await self._connection.execute(
            insert(push_deliveries)
            .values(rows)
            .on_conflict_do_nothing(constraint="push_deliveries_once")
            .returning(push_deliveries.c.id)
        )
        return len(result.all())
