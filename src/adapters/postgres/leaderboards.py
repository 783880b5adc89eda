"""Weekly leaderboards per language in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.badge_tables import leaderboard_entries
from adapters.postgres.tables import profiles
from core.domain.leaderboards import Board, LeaderboardEntry

_ADD_TO_BOARD = sa.text(
    "INSERT INTO leaderboard_entries AS le (language, week_start, profile_id, clips, validations) "
    "VALUES (:language, :week_start, :profile_id, :clips, :validations) "
    "ON CONFLICT (language, week_start, profile_id) DO UPDATE SET "
    "clips = le.clips + excluded.clips, validations = le.validations + excluded.validations"
)


def _board_query(board: Board) -> sa.Select[tuple[UUID, int, int, str | None]]:
    """The best of a board, walking the partial index ``leaderboard_<board>`` in order;
    display names only of members who opted in."""
    count = leaderboard_entries.c[board.value]
    return (
        sa.select(
            leaderboard_entries.c.profile_id,
            count.label("total"),
            sa.func.rank().over(order_by=count.desc()).label("rank"),
            sa.case((profiles.c.show_on_leaderboards, profiles.c.display_name)).label(
                "display_name"
            ),
        )
        .join_from(leaderboard_entries, profiles, profiles.c.id == leaderboard_entries.c.profile_id)
        .where(
            leaderboard_entries.c.language == sa.bindparam("language"),
            leaderboard_entries.c.week_start == sa.bindparam("week_start"),
            count > 0,
            profiles.c.status != "banned",
        )
        .order_by(count.desc(), leaderboard_entries.c.profile_id)
        .limit(sa.bindparam("limit"))
    )


_BOARDS = {board: _board_query(board) for board in Board}


class PostgresLeaderboardRepository:
    """Implements ``core.ports.badges.LeaderboardRepository``: one upsert per fact."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(
        self, language: str, monday: date, profile_id: UUID, *, clips: int, validations: int
    ) -> None:
        await self._connection.execute(
            _ADD_TO_BOARD,
            {
                "language": language,
                "week_start": monday,
                "profile_id": profile_id,
                "clips": clips,
                "validations": validations,
            },
        )

    async def top(
        self, language: str, monday: date, board: Board, limit: int
    ) -> Sequence[LeaderboardEntry]:
        rows = await self._connection.execute(
            _BOARDS[board], {"language": language, "week_start": monday, "limit": limit}
        )
        return [
            LeaderboardEntry(
                rank=row.rank,
                profile_id=row.profile_id,
                display_name=row.display_name,
                count=row.total,
            )
            for row in rows
        ]
