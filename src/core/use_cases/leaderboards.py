"""Use case of the weekly leaderboards per language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from core.domain.identity import Principal, normalise_language
from core.domain.leaderboards import Board, LeaderboardEntry, board_week, check_board_size
from core.domain.streaks import parse_week
from core.ports.clock import Clock
from core.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Leaderboard:
    language: str
    week_start: date
    board: Board
    entries: Sequence[LeaderboardEntry]


@dataclass(frozen=True, slots=True)
class GetLeaderboard:
    """A language's board for one week (this week unless ``week`` names another, e.g.
    ``2026-W49``): the members with the most accepted clips or heard validations, best
    first, 1–100 of them. Members who did not opt in are listed without a name (and no one
    is listed with an id; the caller learns which entry is theirs). Any signed-in member may
    read it; it is served from the table the worker keeps."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(
        self,
        principal: Principal,
        language: str,
        *,
        board: Board = Board.CLIPS,
        week: str | None = None,
        limit: int | None = None,
    ) -> Leaderboard:
        if not principal.is_service:
            principal.require_member()
        wanted = normalise_language(language)
        size = check_board_size(limit)
        monday = parse_week(week) if week is not None else board_week(self.clock.now())
        async with self.uow_factory() as uow:
            entries = await uow.leaderboards.top(wanted, monday, board, size)
        return Leaderboard(wanted, monday, board, entries)
