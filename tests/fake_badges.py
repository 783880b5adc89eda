"""In-memory fakes of the badge, award, member-statistics and leaderboard ports. They keep
the adapters' promises (unique codes, one award per member, badge and period, each event
counted once) within one event loop."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from core.domain.accuracy import ValidatorRecord
from core.domain.badges import Award, Badge
from core.domain.identity import Profile, ProfileStatus
from core.domain.leaderboards import Board, LeaderboardEntry
from core.domain.member_stats import MemberStats, Metric
from core.ports.badges import Holding


@dataclass
class BadgeState:
    badges: dict[uuid.UUID, Badge] = field(default_factory=dict)
    awards: dict[tuple[uuid.UUID, uuid.UUID, str], Award] = field(default_factory=dict)
    stats: dict[uuid.UUID, MemberStats] = field(default_factory=dict)
    counted: dict[tuple[uuid.UUID, uuid.UUID], datetime] = field(default_factory=dict)
    boards: dict[tuple[str, date, uuid.UUID], tuple[int, int]] = field(default_factory=dict)

    def copy(self) -> BadgeState:
        return BadgeState(
            dict(self.badges),
            dict(self.awards),
            dict(self.stats),
            dict(self.counted),
            dict(self.boards),
        )


Profiles = Callable[[], Mapping[uuid.UUID, Profile]]
Records = Callable[[], Mapping[uuid.UUID, ValidatorRecord]]


def _catalogue_order(badges: Collection[Badge]) -> list[Badge]:
    return sorted(badges, key=lambda badge: (badge.position, badge.code))


class FakeBadgeCatalogue:
    def __init__(self, state: BadgeState) -> None:
        self._state = state

    async def add(self, badge: Badge) -> bool:
        if any(known.code == badge.code for known in self._state.badges.values()):
            return False
        self._state.badges[badge.id] = badge
        return True

    async def get(self, badge_id: uuid.UUID) -> Badge | None:
        return self._state.badges.get(badge_id)

    async def by_code(self, code: str) -> Badge | None:
        return next((b for b in self._state.badges.values() if b.code == code), None)

    async def list_all(self, *, include_retired: bool) -> Sequence[Badge]:
        return _catalogue_order(
            [b for b in self._state.badges.values() if include_retired or b.is_active]
        )

    async def active_for(self, metrics: Collection[Metric]) -> Sequence[Badge]:
        active = [b for b in self._state.badges.values() if b.is_active]
        return _catalogue_order([b for b in active if b.criterion.metric in metrics])

    async def save(self, badge: Badge) -> None:
        self._state.badges[badge.id] = badge


class FakeAwardRepository:
    def __init__(self, state: BadgeState, records: Records, profiles: Profiles) -> None:
        self._state = state
        self._records = records
        self._profiles = profiles

    async def add_all(self, awards: Sequence[Award]) -> Sequence[Award]:
        added = []
        for award in awards:
            key = (award.profile_id, award.badge_id, award.period)
            if key not in self._state.awards:
                self._state.awards[key] = award
                added.append(award)
        return added

    async def find(self, profile_id: uuid.UUID, badge_id: uuid.UUID, period: str) -> Award | None:
        return self._state.awards.get((profile_id, badge_id, period))

    async def held_by(self, profile_id: uuid.UUID) -> Sequence[Holding]:
        mine: dict[uuid.UUID, list[Award]] = {}
        for (owner, badge_id, _), award in self._state.awards.items():
            if owner == profile_id:
                mine.setdefault(badge_id, []).append(award)
        return [
            Holding(
                badge_id=badge_id,
                first_awarded_at=min(a.awarded_at for a in awards),
                last_awarded_at=max(a.awarded_at for a in awards),
                times=len(awards),
            )
            for badge_id, awards in mine.items()
        ]

    async def standing_candidates(self, badge: Badge, limit: int) -> Sequence[uuid.UUID]:
        criterion, profiles = badge.criterion, self._profiles()
        found = [
            member
            for member, record in sorted(self._records().items())
            if record.published_accuracy is not None
            and Decimal(str(record.published_accuracy)) >= criterion.threshold
            and (record.published_gold_answers or 0) >= (criterion.min_sample or 0)
            and member in profiles
            and profiles[member].status is not ProfileStatus.BANNED
            and (member, badge.id, "") not in self._state.awards
        ]
        return found[:limit]


class FakeMemberStatsRepository:
    def __init__(self, state: BadgeState) -> None:
        self._state = state

    async def claim_event(self, event_id: uuid.UUID, profile_id: uuid.UUID, at: datetime) -> bool:
        if (event_id, profile_id) in self._state.counted:
            return False
        self._state.counted[(event_id, profile_id)] = at
        return True

    async def get(self, profile_id: uuid.UUID) -> MemberStats:
        return self._state.stats.get(profile_id, MemberStats())

    async def get_for_update(self, profile_id: uuid.UUID) -> MemberStats:
        return await self.get(profile_id)

    async def save(self, profile_id: uuid.UUID, stats: MemberStats) -> None:
        self._state.stats[profile_id] = replace(stats)

    async def prune_events(self, before: datetime, limit: int) -> int:
        old = [key for key, at in self._state.counted.items() if at < before][:limit]
        for key in old:
            del self._state.counted[key]
        return len(old)


class FakeLeaderboardRepository:
    def __init__(self, state: BadgeState, profiles: Profiles) -> None:
        self._state = state
        self._profiles = profiles

    async def add(
        self, language: str, monday: date, profile_id: uuid.UUID, *, clips: int, validations: int
    ) -> None:
        key = (language, monday, profile_id)
        before = self._state.boards.get(key, (0, 0))
        self._state.boards[key] = (before[0] + clips, before[1] + validations)

    async def top(
        self, language: str, monday: date, board: Board, limit: int
    ) -> Sequence[LeaderboardEntry]:
        column = 0 if board is Board.CLIPS else 1
        rows = sorted(
            (
                (-counts[column], member)
                for (lang, week, member), counts in self._state.boards.items()
                if lang == language and week == monday and counts[column] > 0
            ),
        )[:limit]
        profiles = self._profiles()
        entries = []
        for negative, member in rows:
            rank = 1 + sum(1 for other, _ in rows if other < negative)
            profile = profiles.get(member)
            name = profile.display_name if profile and profile.show_on_leaderboards else None
            entries.append(LeaderboardEntry(rank, member, name, -negative))
        return entries
