"""Member statistics in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.goals import WeekActivity, WeeklyGoal
from core.domain.member_stats import LanguageCounts, MemberStats
from core.domain.streaks import DayRun, Streak

_CLAIM_EVENT = sa.text(
    "INSERT INTO member_stat_events (event_id, profile_id, counted_at) "
    "VALUES (:event_id, :profile_id, :at) ON CONFLICT DO NOTHING RETURNING event_id"
)
_ENSURE_ROW = sa.text(
    "INSERT INTO member_stats (profile_id) VALUES (:profile_id) ON CONFLICT DO NOTHING"
)
# The member's row with their per-language and per-currency counters as JSON arrays: one
# round trip. (Counters exist only beside a row: the row is created before any counter.)
_STATS_SQL = (
    "SELECT ms.*, "
    "(SELECT coalesce(json_agg(json_build_array(l.language, l.clips_submitted, "
    "l.clips_accepted, l.validations) ORDER BY l.language), '[]') "
    "FROM member_language_stats l WHERE l.profile_id = ms.profile_id) AS language_counts, "
    "(SELECT coalesce(json_agg(json_build_array(e.currency, e.lifetime_minor) "
    "ORDER BY e.currency), '[]') "
    "FROM member_earnings e WHERE e.profile_id = ms.profile_id) AS earnings "
    "FROM member_stats ms WHERE ms.profile_id = :profile_id"
)
_STATS = sa.text(_STATS_SQL)
_STATS_FOR_UPDATE = sa.text(_STATS_SQL + " FOR UPDATE OF ms")
_SAVE_ROW = sa.text(
    "UPDATE member_stats SET streams_hosted = :streams_hosted, payouts_paid = :payouts_paid, "
    "streak_runs = CAST(:streak_runs AS date[]), longest_streak = :longest_streak, "
    "week_start = :week_start, week_clips = :week_clips, week_validations = :week_validations, "
    "goal_clips = :goal_clips, goal_validations = :goal_validations, updated_at = now() "
    "WHERE profile_id = :profile_id"
)
_SAVE_LANGUAGES = sa.text(
    "INSERT INTO member_language_stats (profile_id, language, clips_submitted, clips_accepted, "
    "validations) SELECT :profile_id, * FROM unnest(CAST(:languages AS text[]), "
    "CAST(:submitted AS integer[]), CAST(:accepted AS integer[]), "
    "CAST(:validations AS integer[])) "
    "ON CONFLICT (profile_id, language) DO UPDATE SET "
    "clips_submitted = excluded.clips_submitted, clips_accepted = excluded.clips_accepted, "
    "validations = excluded.validations"
)
_SAVE_EARNINGS = sa.text(
    "INSERT INTO member_earnings (profile_id, currency, lifetime_minor) "
    "SELECT :profile_id, * FROM unnest(CAST(:currencies AS text[]), CAST(:amounts AS bigint[])) "
    "ON CONFLICT (profile_id, currency) DO UPDATE SET lifetime_minor = excluded.lifetime_minor"
)
_PRUNE_EVENTS = sa.text(
    "DELETE FROM member_stat_events WHERE (event_id, profile_id) IN ("
    "SELECT event_id, profile_id FROM member_stat_events WHERE counted_at < :before "
    "LIMIT :limit)"
)


def _streak(flat: Sequence[date], longest: int) -> Streak:
    runs = tuple(DayRun(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2))
    return Streak(runs, longest)


def _goal(row: Any) -> WeeklyGoal | None:
    if row.goal_clips is None and row.goal_validations is None:
        return None
    return WeeklyGoal(clips=row.goal_clips, validations=row.goal_validations)


def _to_stats(row: Any) -> MemberStats:
    languages = MappingProxyType(
        {
            language: LanguageCounts(submitted, accepted, validations)
            for language, submitted, accepted, validations in row.language_counts
        }
    )
    earnings = MappingProxyType({currency: int(amount) for currency, amount in row.earnings})
    return MemberStats(
        languages=languages,
        earnings=earnings,
        streams_hosted=row.streams_hosted,
        payouts_paid=row.payouts_paid,
        streak=_streak(row.streak_runs, row.longest_streak),
        week=WeekActivity(row.week_start, row.week_clips, row.week_validations),
        goal=_goal(row),
    )


class PostgresMemberStatsRepository:
    """Implements ``core.ports.badges.MemberStatsRepository`` on the unit of work's
    connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim_event(self, event_id: UUID, profile_id: UUID, at: datetime) -> bool:
        result = await self._connection.execute(
            _CLAIM_EVENT, {"event_id": event_id, "profile_id": profile_id, "at": at}
        )
        return result.scalar_one_or_none() is not None

    async def get(self, profile_id: UUID) -> MemberStats:
        row = (await self._connection.execute(_STATS, {"profile_id": profile_id})).one_or_none()
        return _to_stats(row) if row is not None else MemberStats()

    async def get_for_update(self, profile_id: UUID) -> MemberStats:
        await self._connection.execute(_ENSURE_ROW, {"profile_id": profile_id})
        row = (await self._connection.execute(_STATS_FOR_UPDATE, {"profile_id": profile_id})).one()
        return _to_stats(row)

    async def save(self, profile_id: UUID, stats: MemberStats) -> None:
        goal = stats.goal
        await self._connection.execute(
            _SAVE_ROW,
            {
                "profile_id": profile_id,
                "streams_hosted": stats.streams_hosted,
                "payouts_paid": stats.payouts_paid,
                "streak_runs": [day for run in stats.streak.runs for day in (run.first, run.last)],
                "longest_streak": stats.streak.longest,
                "week_start": stats.week.week_start,
                "week_clips": stats.week.clips,
                "week_validations": stats.week.validations,
                "goal_clips": goal.clips if goal else None,
                "goal_validations": goal.validations if goal else None,
            },
        )
        if stats.languages:
            languages = sorted(stats.languages)
            counts = [stats.languages[language] for language in languages]
            await self._connection.execute(
                _SAVE_LANGUAGES,
                {
                    "profile_id": profile_id,
                    "languages": languages,
                    "submitted": [c.clips_submitted for c in counts],
                    "accepted": [c.clips_accepted for c in counts],
                    "validations": [c.validations for c in counts],
                },
            )
        if stats.earnings:
            currencies = sorted(stats.earnings)
            await self._connection.execute(
                _SAVE_EARNINGS,
                {
                    "profile_id": profile_id,
                    "currencies": currencies,
                    "amounts": [stats.earnings[currency] for currency in currencies],
                },
            )

    async def prune_events(self, before: datetime, limit: int) -> int:
        result = await self._connection.execute(_PRUNE_EVENTS, {"before": before, "limit": limit})
        return result.rowcount
