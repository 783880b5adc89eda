"""Use cases of member statistics: counting committed facts (the worker's handler), a
member's own statistics and weekly goal, and forgetting old counted-event marks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.domain.badges import MetricSnapshot
from core.domain.events import DomainEvent
from core.domain.goals import WeeklyGoal, goal_fraction, goal_met
from core.domain.identity import Principal, Profile, ProfileStatus, ensure_may_write
from core.domain.leaderboards import board_week
from core.domain.member_stats import (
    MemberStats,
    Metric,
    StatsChange,
    agreeing_voters,
    apply_change,
    change_of,
)
from core.domain.streaks import week_label
from core.errors import NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.badges import award_qualifying, snapshot_of

PRUNE_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class RecordMemberActivity:
    """Event handler for ``clip.submitted``, ``clip.decided``, ``validation.submitted``,
    ``reward.earned``, ``reward.reversed``, ``stream.started`` and ``payout.paid``: update
    the member's statistics and award the badges the change qualifies them for.

    Rules: each event is counted once per member — the first handling marks it in the same
    transaction as the counters, a second handling (the outbox delivers at least once) finds
    the mark and changes nothing; facts about one member are applied one after the other
    (their statistics row is locked). Contributions count on the member's local day (streak)
    and week (goal); accepted clips and heard validations also count on the language's
    weekly leaderboard. A reversal of a ``clip_accepted`` earning takes the clip back from
    the accepted count of its language. On ``clip.decided``, validators whose vote agreed
    with the decision are checked for agreement badges (their count is the consensus
    model's). Awards are made in the same transaction (``badge.awarded`` recorded); events
    for profiles that do not exist change nothing; a payload naming no member is a
    ``PermanentFailure``."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, event: DomainEvent) -> None:
        change = change_of(event)
        voters = agreeing_voters(event)
        if change is None and not voters:
            return
        async with self.uow_factory() as uow:
            now = self.clock.now()
            if change is not None:
                await self._count(uow, event, change, now)
            if voters:
                agreeing = await uow.profiles.get_many(voters)
                for voter in sorted(agreeing):  # one order: concurrent decisions cannot deadlock
                    await award_qualifying(
                        uow,
                        profile=agreeing[voter],
                        stats=MemberStats(),  # agreement is read from the consensus model
                        metrics=[Metric.VALIDATIONS_AGREED],
                        now=now,
                        ids=self.ids,
                    )
            await uow.commit()

    async def _count(
        self, uow: UnitOfWork, event: DomainEvent, change: StatsChange, now: datetime
    ) -> None:
        profile = await uow.profiles.get(change.profile_id)
        if profile is None:
            return
        if not await uow.member_stats.claim_event(event.id, profile.id, now):
            return
        if change.reverses_accepted_clip is not None:
            clip = await uow.clips.get(change.reverses_accepted_clip)
            if clip is not None:
                change = change.in_language(clip.language)
        before = await uow.member_stats.get_for_update(profile.id)
        after = apply_change(before, change, profile.time_zone)
        await uow.member_stats.save(profile.id, after)
        await _count_on_leaderboard(uow, event, change)
        await award_qualifying(
            uow,
            profile=profile,
            stats=after,
            metrics=change.metrics,
            now=now,
            ids=self.ids,
            week_of=change.contribution_at,
        )


async def _count_on_leaderboard(uow: UnitOfWork, event: DomainEvent, change: StatsChange) -> None:
    clips, validations = change.counts.clips_accepted, change.counts.validations
    if change.language is None or (clips <= 0 and validations <= 0):
        return
    await uow.leaderboards.add(
        change.language,
        board_week(event.occurred_at),
        change.profile_id,
        clips=max(0, clips),
        validations=max(0, validations),
    )


@dataclass(frozen=True, slots=True)
class LanguageStats:
    language: str
    clips_submitted: int
    clips_accepted: int
    validations: int


@dataclass(frozen=True, slots=True)
class GoalProgress:
    """This week's goal and how far the member got (``None`` goal: none set)."""

    goal: WeeklyGoal | None
    week: str
    week_start: date
    clips: int
    validations: int
    fraction: float
    met: bool


@dataclass(frozen=True, slots=True)
class MyStats:
    """A member's own statistics as maintained, read against today in their time zone."""

    clips_submitted: int
    clips_accepted: int
    validations: int
    validations_agreed: int
    accuracy: float | None
    accuracy_sample: int
    accuracy_as_of: datetime | None
    current_streak: int
    longest_streak: int
    last_active_day: date | None
    time_zone: str
    streams_hosted: int
    payouts_paid: int
    lifetime_earnings: dict[str, int]
    languages: list[LanguageStats]
    languages_contributed: int
    goal: GoalProgress


def goal_progress(snapshot: MetricSnapshot) -> GoalProgress:
    """This week's goal progress in the member's time zone."""
    goal, monday = snapshot.stats.goal, snapshot.monday
    week = snapshot.stats.week.as_of(monday)
    return GoalProgress(
        goal=goal,
        week=week_label(monday),
        week_start=monday,
        clips=week.clips,
        validations=week.validations,
        fraction=goal_fraction(goal, week) if goal is not None else 0.0,
        met=goal_met(goal, week),
    )


def _caller(principal: Principal) -> Profile:
    member = principal.require_member()
    if member.status is ProfileStatus.BANNED:  # pragma: no cover - refused when identified
        raise NotFound("No such member.", code="profile_not_found")
    return member


@dataclass(frozen=True, slots=True)
class GetMyStats:
    """The caller's statistics: clips submitted and accepted (and per language),
    validations and agreed validations, accuracy with its sample (as the last refit of the
    consensus model published them), current and longest streak in their time zone, streams
    hosted, payouts, lifetime earnings per currency (earned minus reversed), languages
    contributed, and this week's goal progress. Reads maintained counters only."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal) -> MyStats:
        member = _caller(principal)
        async with self.uow_factory() as uow:
            stats = await uow.member_stats.get(member.id)
            snapshot = await snapshot_of(uow, member, stats, self.clock.now())
        standing = snapshot.standing
        return MyStats(
            clips_submitted=max(0, stats.clips_submitted),
            clips_accepted=max(0, stats.clips_accepted),
            validations=stats.validations,
            validations_agreed=standing.agreed,
            accuracy=standing.accuracy,
            accuracy_sample=standing.sample,
            accuracy_as_of=standing.as_of,
            current_streak=stats.streak.current(snapshot.today),
            longest_streak=stats.streak.longest,
            last_active_day=stats.streak.last_active_day,
            time_zone=member.time_zone or "UTC",
            streams_hosted=stats.streams_hosted,
            payouts_paid=stats.payouts_paid,
            lifetime_earnings=dict(sorted(stats.earnings.items())),
            languages=[
                LanguageStats(
                    language,
                    max(0, counts.clips_submitted),
                    max(0, counts.clips_accepted),
                    counts.validations,
                )
                for language, counts in sorted(stats.languages.items())
            ],
            languages_contributed=stats.languages_contributed,
            goal=goal_progress(snapshot),
        )


@dataclass(frozen=True, slots=True)
class SetWeeklyGoal:
    """The caller sets (or with ``None`` clears) their weekly goal: a number of clips, of
    validations, or both (1–10,000 each). It applies to the current week at once — what the
    member already did this week counts. Suspended members may not change it. If the goal
    is already met this week, the week's award is made now."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, goal: WeeklyGoal | None) -> GoalProgress:
        member = _caller(principal)
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            now = self.clock.now()
            stats = replace(await uow.member_stats.get_for_update(member.id), goal=goal)
            await uow.member_stats.save(member.id, stats)
            await award_qualifying(
                uow,
                profile=member,
                stats=stats,
                metrics=[Metric.WEEKLY_GOAL],
                now=now,
                ids=self.ids,
            )
            snapshot = await snapshot_of(uow, member, stats, now, with_standing=False)
            await uow.commit()
        return goal_progress(snapshot)


@dataclass(frozen=True, slots=True)
class PruneCountedEvents:
    """Periodic task: forget which events were counted once they are older than the
    retention. A mark only has to outlive the job it guards — a job is retried within its
    lease and its handlers that succeeded are skipped for good — so the retention of
    finished jobs is plenty."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    retention: timedelta
    batch_size: int = PRUNE_BATCH

    async def __call__(self) -> int:
        cutoff = self.clock.now() - self.retention
        removed = 0
        while True:
            async with self.uow_factory() as uow:
                batch = await uow.member_stats.prune_events(cutoff, self.batch_size)
                await uow.commit()
            removed += batch
            if batch < self.batch_size:
                return removed
