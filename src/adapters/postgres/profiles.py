"""Profiles in PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.errors import storage_errors
from adapters.postgres.shared_connection import autocommit_connection
from adapters.postgres.tables import profiles
from core.domain.identity import Profile, ProfileStatus, Role
from core.domain.visibility import Visibility

_PROFILE_BY_ID = sa.select(profiles).where(profiles.c.id == sa.bindparam("profile_id"))
# ``= ANY(array)``: one statement text (and one prepared statement) for any number of ids.
_PROFILES_BY_IDS = sa.select(profiles).where(
    profiles.c.id == sa.func.any(sa.bindparam("profile_ids", type_=pg.ARRAY(pg.UUID)))
)


def _to_profile(row: sa.Row[Any]) -> Profile:
    return Profile(
        id=row.id,
        role=Role(row.role),
        status=ProfileStatus(row.status),
        display_name=row.display_name,
        languages=tuple(row.languages),
        payout_currency=row.payout_currency,
        created_at=row.created_at,
        updated_at=row.updated_at,
        time_zone=row.time_zone,
        show_on_leaderboards=row.show_on_leaderboards,
        visibility=Visibility(row.visibility),
    )


def _to_row(profile: Profile) -> dict[str, object]:
    return {
        "id": profile.id,
        "role": profile.role.value,
        "status": profile.status.value,
        "display_name": profile.display_name,
        "languages": list(profile.languages),
        "payout_currency": profile.payout_currency,
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
        "time_zone": profile.time_zone,
        "show_on_leaderboards": profile.show_on_leaderboards,
        "visibility": profile.visibility.value,
    }


class PostgresProfileRepository:
    """Implements ``core.ports.profiles.ProfileRepository`` on the unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, profile_id: UUID) -> Profile | None:
        result = await self._connection.execute(_PROFILE_BY_ID, {"profile_id": profile_id})
        row = result.one_or_none()
        return _to_profile(row) if row else None

    async def get_many(self, profile_ids: Collection[UUID]) -> Mapping[UUID, Profile]:
        if not profile_ids:
            return {}
        result = await self._connection.execute(
            _PROFILES_BY_IDS, {"profile_ids": sorted(set(profile_ids))}
        )
        return {row.id: _to_profile(row) for row in result}

    async def add_if_absent(self, profile: Profile) -> bool:
        statement = (
            insert(profiles)
            .values(_to_row(profile))
            .on_conflict_do_nothing(index_elements=[profiles.c.id])
            .returning(profiles.c.id)
        )
        result = await self._connection.execute(statement)
        return result.scalar_one_or_none() is not None

    async def save(self, profile: Profile) -> None:
        values = _to_row(profile)
        del values["id"], values["created_at"]
        await self._connection.execute(
            sa.update(profiles).where(profiles.c.id == profile.id).values(values)
        )


class PostgresProfileLookup:
    """Implements ``core.ports.profiles.ProfileLookup``: one autocommit read."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, profile_id: UUID) -> Profile | None:
        async with storage_errors(), autocommit_connection(self._engine) as connection:
            result = await connection.execute(_PROFILE_BY_ID, {"profile_id": profile_id})
            row = result.one_or_none()
        return _to_profile(row) if row else None
