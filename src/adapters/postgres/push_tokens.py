"""Members' push tokens in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.notification_tables import push_tokens
from core.domain.member_notifications import DevicePlatform, PushToken


def _to_token(row: sa.Row[Any]) -> PushToken:
    return PushToken(
        token=row.token,
        profile_id=row.profile_id,
        platform=DevicePlatform(row.platform) if row.platform else None,
        device_name=row.device_name,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deactivated_reason=row.deactivated_reason,
        device_id=row.device_id,
    )


def _to_row(token: PushToken) -> dict[str, object]:
    return {
        "token": token.token,
        "profile_id": token.profile_id,
        "platform": token.platform.value if token.platform else None,
        "device_name": token.device_name,
        "device_id": token.device_id,
        "active": True,
        "created_at": token.created_at,
        "updated_at": token.updated_at,
    }


class PostgresPushTokenRepository:
    """Implements ``core.ports.notifications.PushTokenRepository`` on the unit of work's
    connection. ``updated_at`` is when the token was last registered."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, token: str, *, lock: bool = False) -> PushToken | None:
        query = sa.select(push_tokens).where(push_tokens.c.token == token)
        result = await self._connection.execute(query.with_for_update() if lock else query)
        row = result.one_or_none()
        return _to_token(row) if row else None

    async def add_if_absent(self, token: PushToken) -> PushToken | None:
        statement = (
            insert(push_tokens)
            .values(_to_row(token))
            .on_conflict_do_nothing(index_elements=[push_tokens.c.token])
            .returning(*push_tokens.c)
        )
        row = (await self._connection.execute(statement)).one_or_none()
        return _to_token(row) if row else None

    async def register(self, token: PushToken) -> PushToken:
        statement = insert(push_tokens).values(_to_row(token))
        upsert = statement.on_conflict_do_update(
            index_elements=[push_tokens.c.token],
            set_={
                "profile_id": statement.excluded.profile_id,
                "platform": statement.excluded.platform,
                "device_name": statement.excluded.device_name,
                "device_id": sa.func.coalesce(
                    statement.excluded.device_id, push_tokens.c.device_id
                ),
                "active": True,
                "deactivated_at": None,
                "deactivated_reason": None,
                "updated_at": statement.excluded.updated_at,
            },
        ).returning(*push_tokens.c)
        result = await self._connection.execute(upsert)
        return _to_token(result.one())

    async def list_for(self, profile_id: UUID, *, active_only: bool = False) -> list[PushToken]:
        query = sa.select(push_tokens).where(push_tokens.c.profile_id == profile_id)
        if active_only:
            query = query.where(push_tokens.c.active)
        query = query.order_by(push_tokens.c.updated_at.desc(), push_tokens.c.token.desc())
        result = await self._connection.execute(query)
        return [_to_token(row) for row in result]

    async def page_for(
        self, profile_id: UUID, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[PushToken]:
        query = sa.select(push_tokens).where(
            push_tokens.c.profile_id == profile_id, push_tokens.c.active
        )
        if before is not None:
            query = query.where(
                sa.tuple_(push_tokens.c.updated_at, push_tokens.c.token)
                < sa.tuple_(sa.literal(before[0]), sa.literal(before[1]))
            )
        query = query.order_by(push_tokens.c.updated_at.desc(), push_tokens.c.token.desc())
        result = await self._connection.execute(query.limit(limit))
        return [_to_token(row) for row in result]

    async def delete(self, token: str, *, profile_id: UUID) -> bool:
        result = await self._connection.execute(
            sa.delete(push_tokens)
            .where(push_tokens.c.token == token, push_tokens.c.profile_id == profile_id)
            .returning(push_tokens.c.token)
        )
        return result.scalar_one_or_none() is not None

    async def deactivate(self, tokens: Sequence[str], *, reason: str, now: datetime) -> None:
        if not tokens:
            return
        await self._connection.execute(
            sa.update(push_tokens)
            .where(push_tokens.c.token.in_(list(tokens)), push_tokens.c.active)
            .values(active=False, deactivated_at=now, deactivated_reason=reason)
        )
