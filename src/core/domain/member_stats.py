"""Member statistics, kept up to date from committed facts (domain events), one fact at a
time — never recomputed by scanning a member's history.

Which facts move which counters (``change_of``), and for whom:

- ``clip.submitted`` (``profileId``): clips submitted in the clip's language; a contribution.
- ``clip.decided`` with status ``accepted`` (``contributorId``): clips accepted.
- ``validation.submitted`` (``profileId``), unless ``unsolicited`` or ``too_fast``:
  validations in the clip's language; a contribution.
- ``reward.earned`` (``profileId``): lifetime earnings in its currency.
- ``reward.reversed`` (``profileId``): lifetime earnings less the amount, and one accepted
  clip less when it reverses a ``clip_accepted`` earning (moderation removed the clip).
- ``stream.started`` (``hostId``): streams hosted.
- ``payout.paid`` (``profileId``): payouts paid.

A *contribution* (a recording, or a vote that was heard) makes its day active for the streak
and counts toward the weekly goal. Every counter only ever grows, except through a
moderation reversal (``reward.reversed``), the one fact that takes something back. Each fact
is counted once per member however often its event is handled (the store remembers the
events it counted).

Validation accuracy and agreed validations are not counted here: they are what the
consensus model holds for the validator (``validator_stats``), read from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID

from core.domain.clips import VoteOutcome
from core.domain.events import DomainEvent
from core.domain.goals import WeekActivity, WeeklyGoal
from core.domain.jobs import named_member
from core.domain.rewards import RewardKind
from core.domain.streaks import Streak, local_day, week_start


class Metric(StrEnum):
    """What a badge criterion can be about."""

    CLIPS_SUBMITTED = "clips_submitted"
    CLIPS_ACCEPTED = "clips_accepted"
    VALIDATIONS = "validations"
    VALIDATIONS_AGREED = "validations_agreed"
    ACCURACY = "accuracy"
    STREAK_DAYS = "streak_days"
    STREAMS_HOSTED = "streams_hosted"
    LIFETIME_EARNINGS = "lifetime_earnings"
    PAYOUTS_PAID = "payouts_paid"
    LANGUAGES_CONTRIBUTED = "languages_contributed"
    WEEKLY_GOAL = "weekly_goal"
    MANUAL = "manual"  # never automatic: awarded by an admin or a service


STATS_EVENTS = frozenset(
    {
        "clip.submitted",
        "clip.decided",
        "validation.submitted",
        "reward.earned",
        "reward.reversed",
        "stream.started",
        "payout.paid",
    }
)
"""Domain events that can move a member statistic."""

UNHEARD_OUTCOMES = frozenset({VoteOutcome.UNSOLICITED.value, VoteOutcome.TOO_FAST.value})
"""Votes that do not count as validations: never served to the voter, or sent too fast to
have been heard (counting them would pay blind voting in badges)."""


@dataclass(frozen=True, slots=True)
class LanguageCounts:
    clips_submitted: int = 0
    clips_accepted: int = 0
    validations: int = 0

    def plus(self, other: LanguageCounts) -> LanguageCounts:
        return LanguageCounts(
            self.clips_submitted + other.clips_submitted,
            self.clips_accepted + other.clips_accepted,
            self.validations + other.validations,
        )

    @property
    def contributed(self) -> bool:
        """An accepted clip or a heard validation in this language."""
        return self.clips_accepted > 0 or self.validations > 0


@dataclass(frozen=True, slots=True)
class MemberStats:
    """Everything counted for one member. Totals are sums over languages."""

    languages: Mapping[str, LanguageCounts] = field(default_factory=lambda: MappingProxyType({}))
    earnings: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    streams_hosted: int = 0
    payouts_paid: int = 0
    streak: Streak = field(default_factory=Streak)
    week: WeekActivity = field(default_factory=WeekActivity)
    goal: WeeklyGoal | None = None

    @property
    def clips_submitted(self) -> int:
        return sum(counts.clips_submitted for counts in self.languages.values())

    @property
    def clips_accepted(self) -> int:
        return sum(counts.clips_accepted for counts in self.languages.values())

    @property
    def validations(self) -> int:
        return sum(counts.validations for counts in self.languages.values())

    @property
    def languages_contributed(self) -> int:
        return sum(1 for counts in self.languages.values() if counts.contributed)

    def in_language(self, language: str) -> LanguageCounts:
        return self.languages.get(language, LanguageCounts())


@dataclass(frozen=True, slots=True)
class StatsChange:
    """What one fact does to one member's statistics. ``contribution_at``: the fact is a
    contribution made then (streak day, weekly goal)."""

    profile_id: UUID
    language: str | None = None
    counts: LanguageCounts = field(default_factory=LanguageCounts)
    streams_hosted: int = 0
    payouts_paid: int = 0
    currency: str | None = None
    earned_minor: int = 0
    contribution_at: datetime | None = None
    reverses_accepted_clip: UUID | None = None

    @property
    def metrics(self) -> frozenset[Metric]:
        """The metrics this change can move (the badges to evaluate afterwards)."""
        moved: set[Metric] = set()
        if self.counts.clips_submitted:
            moved.add(Metric.CLIPS_SUBMITTED)
        if self.counts.clips_accepted:
            moved |= {Metric.CLIPS_ACCEPTED, Metric.LANGUAGES_CONTRIBUTED}
        if self.counts.validations:
            moved |= {Metric.VALIDATIONS, Metric.LANGUAGES_CONTRIBUTED}
        if self.streams_hosted:
            moved.add(Metric.STREAMS_HOSTED)
        if self.payouts_paid:
            moved.add(Metric.PAYOUTS_PAID)
        if self.earned_minor:
            moved.add(Metric.LIFETIME_EARNINGS)
        if self.contribution_at is not None:
            moved |= {Metric.STREAK_DAYS, Metric.WEEKLY_GOAL}
        return frozenset(moved)

    def in_language(self, language: str) -> StatsChange:
        """The change with the language of a reversed clip filled in."""
        return replace(self, language=language)


def _language(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("language")
    return value if isinstance(value, str) and value else None


def _amount(payload: Mapping[str, Any]) -> tuple[str, int] | None:
    amount, currency = payload.get("amountMinor"), payload.get("currency")
    if type(amount) is not int or not isinstance(currency, str) or not currency:
        return None
    return currency.upper(), amount


def change_of(event: DomainEvent) -> StatsChange | None:
    """What ``event`` does to a member's statistics, ``None`` if nothing. A payload naming
    no member is a ``PermanentFailure``. A reversed ``clip_accepted`` earning names the clip
    in ``reverses_accepted_clip``: its language is looked up before the change is applied."""
    payload = event.payload
    name = event.name
    if name == "clip.submitted":
        return StatsChange(
            named_member(payload, "profileId", "contributorId"),
            language=_language(payload),
            counts=LanguageCounts(clips_submitted=1),
            contribution_at=event.occurred_at,
        )
    if name == "clip.decided":
        if payload.get("status") != "accepted":
            return None
        return StatsChange(
            named_member(payload, "contributorId"),
            language=_language(payload),
            counts=LanguageCounts(clips_accepted=1),
        )
    if name == "validation.submitted":
        if payload.get("outcome") in UNHEARD_OUTCOMES:
            return None
        return StatsChange(
            named_member(payload, "profileId", "validatorId"),
            language=_language(payload),
            counts=LanguageCounts(validations=1),
            contribution_at=event.occurred_at,
        )
    if name in {"reward.earned", "reward.reversed"}:
        member = named_member(payload, "profileId")
        amount = _amount(payload)
        if amount is None:
            return None
        currency, minor = amount
        if name == "reward.earned":
            return StatsChange(member, currency=currency, earned_minor=minor)
        clip = payload.get("clipId")
        reverses_clip = payload.get("rewardKind") == RewardKind.CLIP_ACCEPTED.value
        return StatsChange(
            member,
            counts=LanguageCounts(clips_accepted=-1 if reverses_clip else 0),
            currency=currency,
            earned_minor=-minor,
            reverses_accepted_clip=UUID(clip) if reverses_clip and isinstance(clip, str) else None,
        )
    if name == "stream.started":
        return StatsChange(named_member(payload, "hostId", "profileId"), streams_hosted=1)
    if name == "payout.paid":
        return StatsChange(named_member(payload, "profileId"), payouts_paid=1)
    return None


def agreeing_voters(event: DomainEvent) -> frozenset[UUID]:
    """The validators of a ``clip.decided`` event whose heard, timely vote matched the
    decision: their agreed validations (kept by the consensus model) just grew."""
    if event.name != "clip.decided":
        return frozenset()
    status = event.payload.get("status")
    verdict = {"accepted": "valid", "rejected": "invalid"}.get(str(status))
    votes = event.payload.get("votes")
    if verdict is None or not isinstance(votes, list):
        return frozenset()
    teaching = {outcome.value for outcome in VoteOutcome if outcome.teaches_on_settlement}
    agreeing: set[UUID] = set()
    for vote in votes:
        if not isinstance(vote, Mapping):
            continue
        if vote.get("verdict") != verdict or vote.get("outcome") not in teaching:
            continue
        try:
            agreeing.add(UUID(str(vote.get("validatorId"))))
        except ValueError:
            continue
    return frozenset(agreeing)


def apply_change(stats: MemberStats, change: StatsChange, time_zone: str | None) -> MemberStats:
    """``stats`` after ``change``. Contributions land on their day and week in the member's
    ``time_zone``. A change without a language (a reversal whose clip is gone) moves no
    per-language counter."""
    updated = stats
    if change.language is not None and change.counts != LanguageCounts():
        languages = dict(stats.languages)
        languages[change.language] = stats.in_language(change.language).plus(change.counts)
        updated = replace(updated, languages=MappingProxyType(languages))
    if change.currency is not None and change.earned_minor:
        earnings = dict(stats.earnings)
        earnings[change.currency] = earnings.get(change.currency, 0) + change.earned_minor
        updated = replace(updated, earnings=MappingProxyType(earnings))
    if change.streams_hosted or change.payouts_paid:
        updated = replace(
            updated,
            streams_hosted=updated.streams_hosted + change.streams_hosted,
            payouts_paid=updated.payouts_paid + change.payouts_paid,
        )
    if change.contribution_at is not None:
        day = local_day(change.contribution_at, time_zone)
        updated = replace(
            updated,
            streak=updated.streak.with_day(day),
            week=updated.week.plus(
                week_start(day), change.counts.clips_submitted, change.counts.validations
            ),
        )
    return updated
