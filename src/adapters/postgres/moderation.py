"""Moderation in PostgreSQL: targets (clips, chat messages, streams, profiles), flags, open
cases, the append-only audit log, fraud signals, the daily earnings cap's rows and the
activity reads of burst detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.clip_tables import validations, voice_clips
from adapters.postgres.keyset import newest_first
from adapters.postgres.moderation_tables import (
    daily_earnings,
    flags,
    fraud_signals,
    moderation_cases,
    moderation_decisions,
)
from adapters.postgres.tables import live_messages, live_streams, profiles
from core.domain.fraud import Burst, FraudSignal, SignalKind
from core.domain.live import StreamStatus
from core.domain.moderation import (
    Action,
    ActorKind,
    Decision,
    DecisionReason,
    Flag,
    FlagReason,
    FlagStatus,
    Target,
    TargetRef,
    TargetType,
    preview,
)
from core.domain.visibility import Visibility
from core.ports.moderation import ActivityWindow, CapDay, Case, QueueItem

#: Per kind of target: its table, owner column and preview column.
_TARGET_TABLES: Mapping[TargetType, tuple[sa.Table, str, str]] = {
    TargetType.CLIP: (voice_clips, "contributor_id", "prompt"),
    TargetType.LIVE_MESSAGE: (live_messages, "author_id", "body"),
    TargetType.LIVE_STREAM: (live_streams, "host_id", "title"),
    TargetType.PROFILE: (profiles, "id", "display_name"),
}
_ACTIVITY_ROWS = 1000


def _is(ref: TargetRef, table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [table.c.target_type == ref.type.value, table.c.target_id == ref.id]


def _refs_in(refs: Sequence[TargetRef], table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.tuple_(table.c.target_type, table.c.target_id).in_(
        [(ref.type.value, ref.id) for ref in refs]
    )


class PostgresModerationTargets:
    """Implements ``core.ports.moderation.ModerationTargets``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(self, ref: TargetRef) -> Target | None:
        table, owner, text = _TARGET_TABLES[ref.type]
        columns = [table.c[owner].label("owner_id"), table.c.visibility, table.c[text]]
        if ref.type is TargetType.LIVE_STREAM:
            columns.append(table.c.status)
        statement = sa.select(*columns).where(table.c.id == ref.id).with_for_update()
        row = (await self._connection.execute(statement)).one_or_none()
        if row is None:
            return None
        return Target(
            ref=ref,
            owner_id=row.owner_id,
            visibility=Visibility(row.visibility),
            preview=preview(row[2]),
            live=ref.type is TargetType.LIVE_STREAM and row.status == StreamStatus.LIVE.value,
        )

    async def set_visibility(self, ref: TargetRef, visibility: Visibility) -> None:
        table = _TARGET_TABLES[ref.type][0]
        await self._connection.execute(
            sa.update(table).where(table.c.id == ref.id).values(visibility=visibility.value)
        )


def _to_flag(row: sa.Row[Any]) -> Flag:
    return Flag(
        id=row.id,
        target=TargetRef(TargetType(row.target_type), row.target_id),
        reporter_id=row.reporter_id,
        reason=FlagReason(row.reason),
        note=row.note,
        counts=row.counts,
        status=FlagStatus(row.status),
        created_at=row.created_at,
    )


class PostgresFlagRepository:
    """Implements ``core.ports.moderation.FlagRepository``; one open flag per reporter (or
    per automatic reason) and target is a partial unique index, so ``add`` is race-safe."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, flag: Flag, owner_id: UUID) -> bool:
        statement = (
            insert(flags)
            .values(
                id=flag.id,
                target_type=flag.target.type.value,
                target_id=flag.target.id,
                owner_id=owner_id,
                reporter_id=flag.reporter_id,
                reason=flag.reason.value,
                note=flag.note,
                counts=flag.counts,
                status=flag.status.value,
                created_at=flag.created_at,
            )
            .on_conflict_do_nothing()
            .returning(flags.c.id)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def counting_reporters(self, target: TargetRef) -> int:
        statement = sa.select(sa.func.count(sa.distinct(flags.c.reporter_id))).where(
            *_is(target, flags), flags.c.status == FlagStatus.OPEN.value, flags.c.counts
        )
        return int((await self._connection.execute(statement)).scalar_one())

    async def settle(self, target: TargetRef, status: FlagStatus, at: datetime) -> int:
        result = await self._connection.execute(
            sa.update(flags)
            .where(*_is(target, flags), flags.c.status == FlagStatus.OPEN.value)
            .values(status=status.value, resolved_at=at)
        )
        return int(result.rowcount)

    async def reasons_for(
        self, targets: Sequence[TargetRef]
    ) -> Mapping[TargetRef, Mapping[FlagReason, int]]:
        if not targets:
            return {}
        statement = (
            sa.select(flags.c.target_type, flags.c.target_id, flags.c.reason, sa.func.count())
            .where(_refs_in(targets, flags))
            .group_by(flags.c.target_type, flags.c.target_id, flags.c.reason)
        )
        found: dict[TargetRef, dict[FlagReason, int]] = {}
        for kind, target_id, reason, count in await self._connection.execute(statement):
            ref = TargetRef(TargetType(kind), target_id)
            found.setdefault(ref, {})[FlagReason(reason)] = int(count)
        return found

    async def against_member(self, owner_id: UUID) -> Mapping[FlagStatus, Mapping[FlagReason, int]]:
        statement = (
            sa.select(flags.c.status, flags.c.reason, sa.func.count())
            .where(flags.c.owner_id == owner_id)
            .group_by(flags.c.status, flags.c.reason)
        )
        found: dict[FlagStatus, dict[FlagReason, int]] = {}
        for status, reason, count in await self._connection.execute(statement):
            found.setdefault(FlagStatus(status), {})[FlagReason(reason)] = int(count)
        return found

    async def raised_by(self, reporter_id: UUID) -> Mapping[FlagStatus, int]:
        statement = (
            sa.select(flags.c.status, sa.func.count())
            .where(flags.c.reporter_id == reporter_id)
            .group_by(flags.c.status)
        )
        return {
            FlagStatus(status): int(count)
            for status, count in await self._connection.execute(statement)
        }


def _to_case(row: Any) -> Case:
    return Case(
        id=row.id,
        target=TargetRef(TargetType(row.target_type), row.target_id),
        owner_id=row.owner_id,
        is_open=row.is_open,
        opened_at=row.opened_at,
        auto_hidden=row.auto_hidden,
    )


# The queue: open cases oldest first, each with its target's visibility and preview and a
# summary of its open flags (count, distinct counting reporters, per reason, latest notes).
_QUEUE = """
SELECT c.*,
       coalesce(vc.visibility, lm.visibility, ls.visibility, p.visibility) AS visibility,
       coalesce(vc.prompt, lm.body, ls.title, p.display_name, '') AS preview,
       f.open_flags, f.counting, f.reasons, f.notes
FROM moderation_cases c
LEFT JOIN voice_clips vc ON c.target_type = 'clip' AND vc.id = c.target_id
LEFT JOIN live_messages lm ON c.target_type = 'live_message' AND lm.id = c.target_id
LEFT JOIN live_streams ls ON c.target_type = 'live_stream' AND ls.id = c.target_id
LEFT JOIN profiles p ON c.target_type = 'profile' AND p.id = c.target_id
CROSS JOIN LATERAL (
    SELECT count(*) AS open_flags,
           count(DISTINCT o.reporter_id) FILTER (WHERE o.counts) AS counting,
           coalesce((SELECT jsonb_object_agg(r.reason, r.n) FROM (
               SELECT reason, count(*) AS n FROM flags
               WHERE target_type = c.target_type AND target_id = c.target_id
                 AND status = 'open' GROUP BY reason) r), '{}'::jsonb) AS reasons,
           coalesce((SELECT array_agg(n.note ORDER BY n.created_at DESC) FROM (
               SELECT note, created_at FROM flags
               WHERE target_type = c.target_type AND target_id = c.target_id
                 AND status = 'open' AND note IS NOT NULL
               ORDER BY created_at DESC LIMIT 3) n), '{}') AS notes
    FROM flags o
    WHERE o.target_type = c.target_type AND o.target_id = c.target_id AND o.status = 'open'
) f
WHERE c.is_open AFTER
ORDER BY c.opened_at, c.id
LIMIT :limit
"""
_QUEUE_FIRST = sa.text(_QUEUE.replace("AFTER", ""))
_QUEUE_AFTER = sa.text(_QUEUE.replace("AFTER", "AND (c.opened_at, c.id) > (:after_at, :after_id)"))


def _new_case(target: Target, at: datetime, case_id: UUID, *, is_open: bool) -> Any:
    """The INSERT of a target's first case (the callers add what happens on conflict)."""
    return insert(moderation_cases).values(
        target_type=target.ref.type.value,
        target_id=target.ref.id,
        id=case_id,
        owner_id=target.owner_id,
        is_open=is_open,
        auto_hidden=False,
        opened_at=at,
        closed_at=None if is_open else at,
    )


class PostgresModerationCases:
    """Implements ``core.ports.moderation.ModerationCases``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def open(self, target: Target, at: datetime, case_id: UUID) -> Case:
        statement = _new_case(target, at, case_id, is_open=True)
        current = moderation_cases.c
        upsert = statement.on_conflict_do_update(
            index_elements=[current.target_type, current.target_id],
            set_={
                "is_open": True,
                "closed_at": None,
                "opened_at": sa.case(
                    (current.is_open, current.opened_at), else_=statement.excluded.opened_at
                ),
            },
        ).returning(*moderation_cases.c)
        return _to_case((await self._connection.execute(upsert)).one())

    async def get(self, target: TargetRef) -> Case | None:
        row = (
            await self._connection.execute(
                sa.select(moderation_cases).where(*_is(target, moderation_cases))
            )
        ).one_or_none()
        return _to_case(row) if row else None

    async def mark_auto_hidden(self, target: TargetRef) -> None:
        await self._connection.execute(
            sa.update(moderation_cases)
            .where(*_is(target, moderation_cases))
            .values(auto_hidden=True)
        )

    async def close(self, target: Target, at: datetime, case_id: UUID) -> None:
        statement = _new_case(target, at, case_id, is_open=False)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[moderation_cases.c.target_type, moderation_cases.c.target_id],
                set_={"is_open": False, "closed_at": at, "auto_hidden": False},
            )
        )

    async def queue(
        self, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[QueueItem]:
        if after is None:
            rows = await self._connection.execute(_QUEUE_FIRST, {"limit": limit})
        else:
            rows = await self._connection.execute(
                _QUEUE_AFTER, {"limit": limit, "after_at": after[0], "after_id": after[1]}
            )
        return [
            QueueItem(
                case=_to_case(row),
                visibility=Visibility(row.visibility or Visibility.REMOVED.value),
                preview=preview(row.preview),
                open_flags=int(row.open_flags),
                counting_reporters=int(row.counting),
                reasons={FlagReason(k): int(v) for k, v in sorted(row.reasons.items())},
                notes=tuple(row.notes),
            )
            for row in rows
        ]


def _to_decision(row: sa.Row[Any]) -> Decision:
    return Decision(
        id=row.id,
        target=TargetRef(TargetType(row.target_type), row.target_id),
        owner_id=row.owner_id,
        action=Action(row.action),
        reason=DecisionReason(row.reason),
        note=row.note,
        actor_id=row.actor_id,
        actor_kind=ActorKind(row.actor_kind),
        created_at=row.created_at,
        summary=row.summary,
    )


class PostgresDecisionLog:
    """Implements ``core.ports.moderation.DecisionLog``; a trigger refuses UPDATE and
    DELETE on ``moderation_decisions``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def append(self, decision: Decision) -> None:
        await self._connection.execute(
            moderation_decisions.insert().values(
                id=decision.id,
                target_type=decision.target.type.value,
                target_id=decision.target.id,
                owner_id=decision.owner_id,
                action=decision.action.value,
                reason=decision.reason.value,
                note=decision.note,
                actor_id=decision.actor_id,
                actor_kind=decision.actor_kind.value,
                created_at=decision.created_at,
                summary=dict(decision.summary),
            )
        )

    async def page(
        self,
        *,
        before: tuple[datetime, UUID] | None,
        limit: int,
        target: TargetRef | None = None,
        member_id: UUID | None = None,
    ) -> Sequence[Decision]:
        query = sa.select(moderation_decisions)
        if target is not None:
            query = query.where(*_is(target, moderation_decisions))
        if member_id is not None:
            query = query.where(moderation_decisions.c.owner_id == member_id)
        page = newest_first(
            query,
            moderation_decisions.c.created_at,
            moderation_decisions.c.id,
            before=before,
            limit=limit,
        )
        return [_to_decision(row) for row in await self._connection.execute(page)]

    async def latest_for(self, targets: Sequence[TargetRef]) -> Mapping[TargetRef, Decision]:
        if not targets:
            return {}
        table = moderation_decisions
        statement = (
            sa.select(table)
            .where(_refs_in(targets, table))
            .ext(distinct_on(table.c.target_type, table.c.target_id))
            .order_by(
                table.c.target_type, table.c.target_id, table.c.created_at.desc(), table.c.id.desc()
            )
        )
        decisions = [_to_decision(row) for row in await self._connection.execute(statement)]
        return {decision.target: decision for decision in decisions}


class PostgresFraudSignals:
    """Implements ``core.ports.moderation.FraudSignalRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, signal: FraudSignal) -> None:
        await self._connection.execute(
            fraud_signals.insert().values(
                id=signal.id,
                profile_id=signal.profile_id,
                kind=signal.kind.value,
                detail=dict(signal.detail),
                created_at=signal.created_at,
            )
        )

    async def for_member(self, profile_id: UUID, limit: int) -> Sequence[FraudSignal]:
        statement = newest_first(
            sa.select(fraud_signals).where(fraud_signals.c.profile_id == profile_id),
            fraud_signals.c.created_at,
            fraud_signals.c.id,
            before=None,
            limit=limit,
        )
        return [
            FraudSignal(row.id, row.profile_id, SignalKind(row.kind), row.created_at, row.detail)
            for row in await self._connection.execute(statement)
        ]


# Rows created where missing and locked, in member-id order (no deadlocks); ``DO UPDATE``
# with an unchanged value locks an existing row and returns it.
_LOCK_DAYS = sa.text(
    "INSERT INTO daily_earnings (profile_id, currency, day) "
    "SELECT m, :currency, :day FROM unnest(CAST(:members AS uuid[])) AS m ORDER BY m "
    "ON CONFLICT (profile_id, currency, day) DO UPDATE "
    "SET earned_minor = daily_earnings.earned_minor "
    "RETURNING profile_id, earned_minor, withheld_minor"
)
_ADD_TO_DAYS = sa.text(
    "UPDATE daily_earnings d SET earned_minor = d.earned_minor + a.paid, "
    "withheld_minor = d.withheld_minor + a.withheld "
    "FROM unnest(CAST(:members AS uuid[]), CAST(:paid AS bigint[]), "
    "CAST(:withheld AS bigint[])) AS a(profile_id, paid, withheld) "
    "WHERE d.profile_id = a.profile_id AND d.currency = :currency AND d.day = :day"
)


class PostgresDailyEarnings:
    """Implements ``core.ports.moderation.DailyEarnings`` on ``daily_earnings``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(
        self, day: date, currency: str, members: Sequence[UUID]
    ) -> Mapping[UUID, CapDay]:
        if not members:
            return {}
        rows = await self._connection.execute(
            _LOCK_DAYS, {"currency": currency, "day": day, "members": sorted(set(members))}
        )
        return {
            row.profile_id: CapDay(day, currency, row.earned_minor, row.withheld_minor)
            for row in rows
        }

    async def add(
        self,
        day: date,
        currency: str,
        *,
        paid: Mapping[UUID, int],
        withheld: Mapping[UUID, int],
    ) -> None:
        members = sorted(set(paid) | set(withheld))
        if not members:
            return
        await self._connection.execute(
            _ADD_TO_DAYS,
            {
                "members": members,
                "paid": [paid.get(member, 0) for member in members],
                "withheld": [withheld.get(member, 0) for member in members],
                "currency": currency,
                "day": day,
            },
        )

    async def withheld_days(self, profile_id: UUID, limit: int) -> Sequence[CapDay]:
        statement = (
            sa.select(daily_earnings)
            .where(daily_earnings.c.profile_id == profile_id, daily_earnings.c.withheld_minor > 0)
            .order_by(daily_earnings.c.day.desc(), daily_earnings.c.currency)
            .limit(limit)
        )
        return [
            CapDay(row.day, row.currency, row.earned_minor, row.withheld_minor)
            for row in await self._connection.execute(statement)
        ]


class PostgresActivityScan:
    """Implements ``core.ports.moderation.ActivityScan``: counts by creation time, which the
    BRIN indexes on ``voice_clips.created_at`` and ``validations.created_at`` serve."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def heavy_uploaders(self, window: ActivityWindow) -> Sequence[Burst]:
        return await self._heavy(voice_clips.c.contributor_id, voice_clips.c.created_at, window)

    async def heavy_voters(self, window: ActivityWindow) -> Sequence[Burst]:
        return await self._heavy(validations.c.validator_id, validations.c.created_at, window)

    async def _heavy(
        self, member: sa.Column[Any], created_at: sa.Column[Any], window: ActivityWindow
    ) -> Sequence[Burst]:
        count = sa.func.count()
        statement = (
            sa.select(member, count)
            .where(created_at >= window.since)
            .group_by(member)
            .having(count > window.more_than)
            .order_by(member)
            .limit(_ACTIVITY_ROWS)
        )
        return [Burst(who, int(n)) for who, n in await self._connection.execute(statement)]
