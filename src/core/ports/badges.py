"""Storage of the badge catalogue, members' awards, member statistics and leaderboards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from core.domain.badges import Award, Badge
from core.domain.leaderboards import Board, LeaderboardEntry
from core.domain.member_stats import MemberStats, Metric


class BadgeCatalogue(Protocol):
    """The badges (the seed's ``badges``), inside the current unit of work."""

    async def add(self, badge: Badge) -> bool:
        """Insert ``badge``; ``False`` when its code is taken (race-safe)."""
        ...

    async def get(self, badge_id: UUID) -> Badge | None: ...

    async def by_code(self, code: str) -> Badge | None: ...

    async def list_all(self, *, include_retired: bool) -> Sequence[Badge]:
        """Every badge (retired ones only when asked), in catalogue order (position, code)."""
        ...

    async def active_for(self, metrics: Collection[Metric]) -> Sequence[Badge]:
        """The active badges whose criterion is about one of ``metrics``."""
        ...

    async def save(self, badge: Badge) -> None:
        """Write an existing badge's fields."""
        ...


@dataclass(frozen=True, slots=True)
class Holding:
    """A badge a member holds: when first and last earned, and how many times (weekly
    badges are earned again each week)."""

    badge_id: UUID
    first_awarded_at: datetime
    last_awarded_at: datetime
    times: int


class AwardRepository(Protocol):
    """Members' badges (the seed's ``userBadges``): one row per member, badge and period,
    guaranteed by the database."""

    async def add_all(self, awards: Sequence[Award]) -> Sequence[Award]:
        """Insert the awards a member does not hold yet; returns those this call inserted.
        Of concurrent calls for the same member, badge and period exactly one inserts."""
        ...

    async def find(self, profile_id: UUID, badge_id: UUID, period: str) -> Award | None: ...

    async def held_by(self, profile_id: UUID) -> Sequence[Holding]:
        """The badges the member holds, with first/last award and count (one row per
        badge, from the awards' unique key)."""
        ...

    async def standing_candidates(self, badge: Badge, limit: int) -> Sequence[UUID]:
        """Up to ``limit`` members (not banned) who do not hold ``badge`` and whose
        published standing meets its accuracy criterion. A set-based query: it must not read
        members one by one."""
        ...


class MemberStatsRepository(Protocol):
    """Member statistics, and which events were already counted for whom."""

    async def claim_event(self, event_id: UUID, profile_id: UUID, at: datetime) -> bool:
        """Remember that ``event_id`` is being counted for ``profile_id``; ``False`` if it
        was counted before. A concurrent claim of the same pair waits for the first
        transaction and then sees it, so each fact is counted once."""
        ...

    async def get(self, profile_id: UUID) -> MemberStats:
        """The member's statistics (all zero for a member with none)."""
        ...

    async def get_for_update(self, profile_id: UUID) -> MemberStats:
        """The member's statistics, locked until the unit of work ends (so that facts about
        one member are applied one after the other)."""
        ...

    async def save(self, profile_id: UUID, stats: MemberStats) -> None:
        """Store the member's statistics (after ``get_for_update``)."""
        ...

    async def prune_events(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` counted-event marks older than ``before``; how many."""
        ...


class LeaderboardRepository(Protocol):
    """Weekly counts per language, maintained by the worker; read a page at a time."""

    async def add(
        self, language: str, monday: date, profile_id: UUID, *, clips: int, validations: int
    ) -> None:
        """Add to the member's counts of that language and week (creating the row)."""
        ...

    async def top(
        self, language: str, monday: date, board: Board, limit: int
    ) -> Sequence[LeaderboardEntry]:
        """The best ``limit`` members of that language and week on ``board`` (ties: who got
        there first by id), with the display names of members who opted in."""
        ...
