"""Wire structs for ``/badges``, ``/admin/badges``, ``/me/stats``, ``/me/goals`` and
``/leaderboards``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from core.domain.badges import Award, Badge, BadgeChanges, BadgeDraft, Criterion, Progress
from core.domain.goals import WeeklyGoal
from core.use_cases.badges import BadgeProgress, EarnedBadge, ManualAward, MemberBadges
from core.use_cases.leaderboards import Leaderboard
from core.use_cases.member_stats import GoalProgress, MyStats

Text = Annotated[str, msgspec.Meta(max_length=1000)]


def number(value: Decimal) -> float:
    """Whole thresholds and values as integers, fractions (accuracy) as floats. Output fields
    are typed ``float`` so the document says ``number`` (``oneOf`` integer/number would match
    a whole value twice)."""
    return int(value) if value == value.to_integral_value() else float(value)


class CriterionIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``metric`` reaches ``threshold``: counts and money (minor units) are whole numbers,
    accuracy a fraction with ``minSample`` gold answers; ``language`` for clip and
    validation counts, ``currency`` for lifetime earnings. Checked by the domain (422 with a
    specific code)."""

    metric: Annotated[str, msgspec.Meta(max_length=64)]
    threshold: int | float | None = None
    language: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    currency: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    min_sample: int | None = None

    def to_criterion(self) -> Criterion:
        return Criterion.parse(
            metric=self.metric,
            threshold=self.threshold,
            language=self.language,
            currency=self.currency,
            min_sample=self.min_sample,
        )


class CriterionOut(msgspec.Struct, rename="camel"):
    metric: str
    threshold: float
    language: str | None
    currency: str | None
    min_sample: int | None

    @classmethod
    def of(cls, criterion: Criterion) -> CriterionOut:
        return cls(
            metric=criterion.metric.value,
            threshold=number(criterion.threshold),
            language=criterion.language,
            currency=criterion.currency,
            min_sample=criterion.min_sample,
        )


class BadgeIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=64)]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    criterion: CriterionIn
    description: Text = ""
    position: Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)] = 0

    def to_draft(self) -> BadgeDraft:
        return BadgeDraft(
            code=self.code,
            name=self.name,
            criterion=self.criterion.to_criterion(),
            description=self.description,
            position=self.position,
        )


class BadgePatch(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Fields to change; ``retired: true`` retires the badge, ``false`` brings it back."""

    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Text | None = None
    criterion: CriterionIn | None = None
    position: Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)] | None = None
    retired: bool | None = None

    def to_changes(self) -> BadgeChanges:
        return BadgeChanges(
            name=self.name,
            description=self.description,
            criterion=self.criterion.to_criterion() if self.criterion else None,
            position=self.position,
            retired=self.retired,
        )


class BadgeOut(msgspec.Struct, rename="camel"):
    id: UUID
    code: str
    name: str
    description: str
    criterion: CriterionOut
    repeats: bool
    position: int
    retired_at: datetime | None

    @classmethod
    def of(cls, badge: Badge) -> BadgeOut:
        return cls(
            id=badge.id,
            code=badge.code,
            name=badge.name,
            description=badge.description,
            criterion=CriterionOut.of(badge.criterion),
            repeats=badge.criterion.repeats,
            position=badge.position,
            retired_at=badge.retired_at,
        )


class BadgeList(msgspec.Struct, rename="camel"):
    items: list[BadgeOut]

    @classmethod
    def of(cls, badges: Sequence[Badge]) -> BadgeList:
        return cls(items=[BadgeOut.of(badge) for badge in badges])


class AwardIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Who gets which badge (``badgeId`` or ``badgeCode``) and why (1–500 characters)."""

    profile_id: UUID
    reason: Annotated[str, msgspec.Meta(max_length=2000)]
    badge_id: UUID | None = None
    badge_code: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class AwardOut(msgspec.Struct, rename="camel"):
    id: UUID
    profile_id: UUID
    badge: BadgeOut
    period: str | None
    awarded_at: datetime
    source: str
    reason: str | None
    awarded_by: UUID | None
    created: bool

    @classmethod
    def of(cls, result: ManualAward) -> AwardOut:
        award: Award = result.award
        return cls(
            id=award.id,
            profile_id=award.profile_id,
            badge=BadgeOut.of(result.badge),
            period=award.period or None,
            awarded_at=award.awarded_at,
            source=award.source.value,
            reason=award.reason,
            awarded_by=award.awarded_by,
            created=result.created,
        )


class EarnedOut(msgspec.Struct, rename="camel"):
    badge: BadgeOut
    awarded_at: datetime
    last_awarded_at: datetime
    times_earned: int

    @classmethod
    def of(cls, earned: EarnedBadge) -> EarnedOut:
        return cls(
            badge=BadgeOut.of(earned.badge),
            awarded_at=earned.first_awarded_at,
            last_awarded_at=earned.last_awarded_at,
            times_earned=earned.times,
        )


class ProgressOut(msgspec.Struct, rename="camel"):
    """``current`` toward ``threshold``; ``fraction`` in [0, 1]; ``sample``: gold answers
    behind an accuracy (accuracy badges only)."""

    badge: BadgeOut
    current: float
    threshold: float
    fraction: float
    sample: int | None = None

    @classmethod
    def of(cls, item: BadgeProgress) -> ProgressOut:
        progress: Progress = item.progress
        return cls(
            badge=BadgeOut.of(item.badge),
            current=number(progress.current),
            threshold=number(progress.threshold),
            fraction=round(progress.fraction, 4),
            sample=progress.sample,
        )


class MemberBadgesOut(msgspec.Struct, rename="camel"):
    profile_id: UUID
    earned: list[EarnedOut]
    progress: list[ProgressOut]

    @classmethod
    def of(cls, view: MemberBadges) -> MemberBadgesOut:
        return cls(
            profile_id=view.profile_id,
            earned=[EarnedOut.of(item) for item in view.earned],
            progress=[ProgressOut.of(item) for item in view.progress],
        )


class GoalIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A weekly goal: clips, validations or both (1–10,000 each); both null clears it."""

    clips: int | None = None
    validations: int | None = None

    def to_goal(self) -> WeeklyGoal | None:
        if self.clips is None and self.validations is None:
            return None
        return WeeklyGoal(clips=self.clips, validations=self.validations)


class GoalOut(msgspec.Struct, rename="camel"):
    """This week's goal (``null`` targets: not part of it) and progress toward it."""

    clips: int | None
    validations: int | None
    week: str
    week_start: date
    clips_done: int
    validations_done: int
    fraction: float
    met: bool

    @classmethod
    def of(cls, progress: GoalProgress) -> GoalOut:
        goal = progress.goal
        return cls(
            clips=goal.clips if goal else None,
            validations=goal.validations if goal else None,
            week=progress.week,
            week_start=progress.week_start,
            clips_done=progress.clips,
            validations_done=progress.validations,
            fraction=round(progress.fraction, 4),
            met=progress.met,
        )


class LanguageStatsOut(msgspec.Struct, rename="camel"):
    language: str
    clips_submitted: int
    clips_accepted: int
    validations: int


class AmountOut(msgspec.Struct, rename="camel"):
    currency: str
    amount_minor: int


class AccuracyOut(msgspec.Struct, rename="camel"):
    """Balanced accuracy and the gold answers behind it, as the last refit of the consensus
    model published them (``null`` before the first refit that saw your answers)."""

    value: float | None
    sample: int
    as_of: datetime | None


class StreakOut(msgspec.Struct, rename="camel"):
    current: int
    longest: int
    last_active_day: date | None
    time_zone: str


class MyStatsOut(msgspec.Struct, rename="camel"):
    clips_submitted: int
    clips_accepted: int
    validations: int
    validations_agreed: int
    accuracy: AccuracyOut
    streak: StreakOut
    streams_hosted: int
    payouts_paid: int
    lifetime_earnings: list[AmountOut]
    languages: list[LanguageStatsOut]
    languages_contributed: int
    weekly_goal: GoalOut

    @classmethod
    def of(cls, stats: MyStats) -> MyStatsOut:
        return cls(
            clips_submitted=stats.clips_submitted,
            clips_accepted=stats.clips_accepted,
            validations=stats.validations,
            validations_agreed=stats.validations_agreed,
            accuracy=AccuracyOut(stats.accuracy, stats.accuracy_sample, stats.accuracy_as_of),
            streak=StreakOut(
                stats.current_streak, stats.longest_streak, stats.last_active_day, stats.time_zone
            ),
            streams_hosted=stats.streams_hosted,
            payouts_paid=stats.payouts_paid,
            lifetime_earnings=[
                AmountOut(currency, amount) for currency, amount in stats.lifetime_earnings.items()
            ],
            languages=[
                LanguageStatsOut(
                    item.language, item.clips_submitted, item.clips_accepted, item.validations
                )
                for item in stats.languages
            ],
            languages_contributed=stats.languages_contributed,
            weekly_goal=GoalOut.of(stats.goal),
        )


class LeaderboardEntryOut(msgspec.Struct, rename="camel"):
    """A place on the board: ``displayName`` is null for members who did not opt in;
    ``you`` marks the caller's own entry."""

    rank: int
    display_name: str | None
    count: int
    you: bool


class LeaderboardOut(msgspec.Struct, rename="camel"):
    language: str
    board: str
    week: str
    week_start: date
    entries: list[LeaderboardEntryOut]

    @classmethod
    def of(cls, board: Leaderboard, week: str, caller: UUID | None) -> LeaderboardOut:
        return cls(
            language=board.language,
            board=board.board.value,
            week=week,
            week_start=board.week_start,
            entries=[
                LeaderboardEntryOut(
                    rank=entry.rank,
                    display_name=entry.display_name,
                    count=entry.count,
                    you=entry.profile_id == caller,
                )
                for entry in board.entries
            ],
        )
