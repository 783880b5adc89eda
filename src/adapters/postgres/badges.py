"""The badge catalogue and members' awards in PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.badge_tables import badges, user_badges
from core.domain.badges import ONCE, Award, AwardSource, Badge, Criterion
from core.domain.member_stats import Metric
from core.ports.badges import Holding

_CATALOGUE_ORDER = (badges.c.position, badges.c.code)
_ACTIVE_FOR = (
    sa.select(badges)
    .where(
        badges.c.retired_at.is_(None),
        badges.c.metric == sa.func.any(sa.bindparam("metrics", type_=pg.ARRAY(sa.Text))),
    )
    .order_by(*_CATALOGUE_ORDER)
)
_ADD_AWARDS = sa.text(
    "INSERT INTO user_badges (id, profile_id, badge_id, period, awarded_at, source, reason, "
    "awarded_by) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:profile_ids AS uuid[]), "
    "CAST(:badge_ids AS uuid[]), CAST(:periods AS text[]), CAST(:awarded_at AS timestamptz[]), "
    "CAST(:sources AS text[]), CAST(:reasons AS text[]), CAST(:awarded_by AS uuid[])) "
    "AS a(id, profile_id, badge_id, period, awarded_at, source, reason, awarded_by) "
    "ORDER BY badge_id, period "
    "ON CONFLICT ON CONSTRAINT user_badges_once DO NOTHING RETURNING id"
)
_HELD_BY = sa.text(
    "SELECT badge_id, min(awarded_at) AS first_awarded_at, max(awarded_at) AS last_awarded_at, "
    "count(*) AS times FROM user_badges WHERE profile_id = :profile_id GROUP BY badge_id"
)
# Members without the badge whose published standing meets it: one set-based query over the
# validators' records, probing the awards by their unique key.
_STANDING_CANDIDATES = sa.text(
    "SELECT vs.validator_id FROM validator_stats vs JOIN profiles p ON p.id = vs.validator_id "
    "WHERE vs.published_accuracy >= CAST(:threshold AS numeric) "
    "AND vs.published_gold_answers >= :min_sample AND p.status <> 'banned' "
    "AND NOT EXISTS (SELECT 1 FROM user_badges ub WHERE ub.profile_id = vs.validator_id "
    "AND ub.badge_id = :badge_id AND ub.period = '') "
    "ORDER BY vs.validator_id LIMIT :limit"
)


def to_badge(row: Any) -> Badge:
    return Badge(
        id=row.id,
        code=row.code,
        name=row.name,
        description=row.description,
        criterion=Criterion(
            metric=Metric(row.metric),
            threshold=Decimal(row.threshold),
            language=row.language,
            currency=row.currency,
            min_sample=row.min_sample,
        ),
        position=row.position,
        created_at=row.created_at,
        updated_at=row.updated_at,
        retired_at=row.retired_at,
    )


def _badge_row(badge: Badge) -> dict[str, Any]:
    criterion = badge.criterion
    return {
        "id": badge.id,
        "code": badge.code,
        "name": badge.name,
        "description": badge.description,
        "metric": criterion.metric.value,
        "threshold": criterion.threshold,
        "language": criterion.language,
        "currency": criterion.currency,
        "min_sample": criterion.min_sample,
        "position": badge.position,
        "created_at": badge.created_at,
        "updated_at": badge.updated_at,
        "retired_at": badge.retired_at,
    }


def _to_award(row: Any) -> Award:
    return Award(
        id=row.id,
        profile_id=row.profile_id,
        badge_id=row.badge_id,
        period=row.period,
        awarded_at=row.awarded_at,
        source=AwardSource(row.source),
        reason=row.reason,
        awarded_by=row.awarded_by,
    )


class PostgresBadgeCatalogue:
    """Implements ``core.ports.badges.BadgeCatalogue`` on the unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, badge: Badge) -> bool:
        statement = (
            insert(badges)
            .values(_badge_row(badge))
            .on_conflict_do_nothing(index_elements=[badges.c.code])
            .returning(badges.c.id)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def get(self, badge_id: UUID) -> Badge | None:
        return await self._one(badges.c.id == badge_id)

    async def by_code(self, code: str) -> Badge | None:
        return await self._one(badges.c.code == code)

    async def _one(self, condition: sa.ColumnElement[bool]) -> Badge | None:
        row = (await self._connection.execute(sa.select(badges).where(condition))).one_or_none()
        return to_badge(row) if row else None

    async def list_all(self, *, include_retired: bool) -> Sequence[Badge]:
        query = sa.select(badges).order_by(*_CATALOGUE_ORDER)
        if not include_retired:
            query = query.where(badges.c.retired_at.is_(None))
        return [to_badge(row) for row in await self._connection.execute(query)]

    async def active_for(self, metrics: Collection[Metric]) -> Sequence[Badge]:
        if not metrics:
            return []
        rows = await self._connection.execute(
            _ACTIVE_FOR, {"metrics": sorted(metric.value for metric in metrics)}
        )
        return [to_badge(row) for row in rows]

    async def save(self, badge: Badge) -> None:
        values = _badge_row(badge)
        del values["id"], values["code"], values["created_at"]
        await self._connection.execute(
            sa.update(badges).where(badges.c.id == badge.id).values(values)
        )


class PostgresAwardRepository:
    """Implements ``core.ports.badges.AwardRepository``: the unique key
    ``user_badges_once (profile_id, badge_id, period)`` decides, so of concurrent awards of
    one badge exactly one row is inserted."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_all(self, awards: Sequence[Award]) -> Sequence[Award]:
        if not awards:
            return []
        result = await self._connection.execute(
            _ADD_AWARDS,
            {
                "ids": [award.id for award in awards],
                "profile_ids": [award.profile_id for award in awards],
                "badge_ids": [award.badge_id for award in awards],
                "periods": [award.period for award in awards],
                "awarded_at": [award.awarded_at for award in awards],
                "sources": [award.source.value for award in awards],
                "reasons": [award.reason for award in awards],
                "awarded_by": [award.awarded_by for award in awards],
            },
        )
        inserted = set(result.scalars())
        return [award for award in awards if award.id in inserted]

    async def find(self, profile_id: UUID, badge_id: UUID, period: str = ONCE) -> Award | None:
        row = (
            await self._connection.execute(
                sa.select(user_badges).where(
                    user_badges.c.profile_id == profile_id,
                    user_badges.c.badge_id == badge_id,
                    user_badges.c.period == period,
                )
            )
        ).one_or_none()
        return _to_award(row) if row else None

    async def held_by(self, profile_id: UUID) -> Sequence[Holding]:
        rows = await self._connection.execute(_HELD_BY, {"profile_id": profile_id})
        return [
            Holding(row.badge_id, row.first_awarded_at, row.last_awarded_at, row.times)
            for row in rows
        ]

    async def standing_candidates(self, badge: Badge, limit: int) -> Sequence[UUID]:
        criterion = badge.criterion
        if criterion.metric is not Metric.ACCURACY:
            return []
        rows = await self._connection.execute(
            _STANDING_CANDIDATES,
            {
                "threshold": criterion.threshold,
                "min_sample": criterion.min_sample or 0,
                "badge_id": badge.id,
                "limit": limit,
            },
        )
        return list(rows.scalars())
