"""Weekly leaderboards per language.

Rules: one board per language and ISO week (Monday to Sunday, UTC, so that everyone on a
board is counted over the same hours) for accepted clips and one for heard validations. A
member appears under their display name only if they opted in (``showOnLeaderboards``),
otherwise as anonymous — never with their id. Boards are kept by the worker from the same
facts as member statistics, never computed by a scan per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID

from core.domain.streaks import local_day, week_start
from core.errors import InvalidInput

DEFAULT_BOARD_SIZE = 20
MAX_BOARD_SIZE = 100


class Board(StrEnum):
    CLIPS = "clips"
    VALIDATIONS = "validations"


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """A place on a board. ``display_name`` is ``None`` for members who did not opt in."""

    rank: int
    profile_id: UUID
    display_name: str | None
    count: int


def board_week(at: datetime) -> date:
    """The Monday (UTC) of the board week ``at`` counts toward."""
    return week_start(local_day(at.astimezone(UTC), None))


def check_board_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_BOARD_SIZE
    if not 1 <= limit <= MAX_BOARD_SIZE:
        raise InvalidInput(f"limit must be 1..{MAX_BOARD_SIZE}.", code="invalid_limit")
    return limit
