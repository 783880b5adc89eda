"""Badges: the catalogue's criteria, who qualifies, progress toward a badge, and awards.

Rules:

- A criterion is one metric (``Metric``) and a threshold, optionally for one language
  (clips and validations only), in one currency (lifetime earnings, required there), and
  with a minimum sample (accuracy, required there: the number of gold answers behind it).
  Counts and money thresholds are whole numbers ≥ 1 (money in minor units); an accuracy
  threshold is a fraction in (0, 1]. ``weekly_goal`` has threshold 1 and is earned again
  every week the member meets their goal; ``manual`` badges are only ever awarded by hand.
- A member qualifies when the metric's value reaches the threshold (and the sample its
  minimum). Metric values never decrease except through a moderation reversal, so a badge,
  once earned, stays earned.
- Accuracy is the member's standing *as the last refit of the consensus model published
  it* (balanced accuracy and gold answers behind it): a live value would let a member tell
  which of their answers were gold clips.
- Progress toward a badge not yet earned is the current value, the threshold and a fraction
  in [0, 1]. Streak badges show the current streak (what has to be kept up), accuracy
  badges the least advanced of accuracy and sample.
- An award is one badge for one member (and, for ``weekly_goal``, one week): awarding again
  changes nothing.
- Some metrics are private (earnings, payouts, accuracy, agreement, goals): their badges
  and progress are shown to the member, admins and services only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from core.domain.goals import goal_fraction, goal_met
from core.domain.identity import normalise_language
from core.domain.member_stats import MemberStats, Metric
from core.domain.money import normalise_currency
from core.domain.streaks import week_label
from core.errors import InvalidInput

MAX_COUNT_THRESHOLD = 10**9
MAX_MINOR_THRESHOLD = 10**15
MAX_SAMPLE = 10**6
MAX_NAME_LENGTH = 80
MAX_DESCRIPTION_LENGTH = 300
MAX_REASON_LENGTH = 500
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")

LANGUAGE_METRICS = frozenset({Metric.CLIPS_SUBMITTED, Metric.CLIPS_ACCEPTED, Metric.VALIDATIONS})
PRIVATE_METRICS = frozenset(
    {
        Metric.LIFETIME_EARNINGS,
        Metric.PAYOUTS_PAID,
        Metric.ACCURACY,
        Metric.VALIDATIONS_AGREED,
        Metric.WEEKLY_GOAL,
    }
)
REPEATING_METRICS = frozenset({Metric.WEEKLY_GOAL})
STANDING_METRICS = frozenset({Metric.ACCURACY, Metric.VALIDATIONS_AGREED})
"""Metrics read from the consensus model's record of the validator."""

ONCE = ""
"""The period of a badge that is earned once."""


class BadgeError(InvalidInput):
    """A badge or criterion breaks a rule (HTTP 422)."""

    code = "invalid_badge"


@dataclass(frozen=True, slots=True)
class Criterion:
    """When a badge is earned: ``metric`` reaches ``threshold``. Build it with
    ``Criterion.parse`` from outside input; the constructor checks the same rules."""

    metric: Metric
    threshold: Decimal = Decimal(1)
    language: str | None = None
    currency: str | None = None
    min_sample: int | None = None

    def __post_init__(self) -> None:
        _check_criterion(self)

    @classmethod
    def parse(
        cls,
        *,
        metric: str,
        threshold: int | float | Decimal | None,
        language: str | None = None,
        currency: str | None = None,
        min_sample: int | None = None,
    ) -> Criterion:
        """Validate a criterion given by an admin; ``BadgeError`` with a specific code."""
        try:
            known = Metric(metric)
        except ValueError:
            raise BadgeError(
                f"Unknown metric {metric!r}; one of: {', '.join(m.value for m in Metric)}.",
                code="unknown_metric",
            ) from None
        if threshold is None:
            if known not in {Metric.MANUAL, Metric.WEEKLY_GOAL}:
                raise BadgeError("This metric needs a threshold.", code="threshold_required")
            threshold = 1
        if isinstance(threshold, bool) or not isinstance(threshold, int | float | Decimal):
            raise BadgeError("The threshold must be a number.", code="invalid_threshold")
        try:
            value = Decimal(str(threshold))
        except ArithmeticError:  # pragma: no cover - str() of a number always parses
            raise BadgeError("The threshold must be a number.", code="invalid_threshold") from None
        if not value.is_finite():
            raise BadgeError("The threshold must be a finite number.", code="invalid_threshold")
        return cls(
            metric=known,
            threshold=value,
            language=normalise_language(language) if language is not None else None,
            currency=normalise_currency(currency) if currency is not None else None,
            min_sample=min_sample,
        )

    @property
    def is_private(self) -> bool:
        return self.metric in PRIVATE_METRICS

    @property
    def repeats(self) -> bool:
        return self.metric in REPEATING_METRICS

    @property
    def is_automatic(self) -> bool:
        return self.metric is not Metric.MANUAL


def _check_criterion(criterion: Criterion) -> None:
    metric, threshold = criterion.metric, criterion.threshold
    if criterion.language is not None and metric not in LANGUAGE_METRICS:
        raise BadgeError(
            "Only clip and validation counts can be per language.", code="language_not_allowed"
        )
    if metric is Metric.LIFETIME_EARNINGS:
        if criterion.currency is None:
            raise BadgeError("Earnings badges need a currency.", code="currency_required")
    elif criterion.currency is not None:
        raise BadgeError("Only earnings badges have a currency.", code="currency_not_allowed")
    if metric is Metric.ACCURACY:
        sample = criterion.min_sample
        if sample is None or isinstance(sample, bool) or not 1 <= sample <= MAX_SAMPLE:
            raise BadgeError(
                f"Accuracy badges need a minimum sample of 1–{MAX_SAMPLE} gold answers.",
                code="min_sample_required",
            )
        if not Decimal(0) < threshold <= Decimal(1):
            raise BadgeError(
                "An accuracy threshold is a fraction in (0, 1].", code="invalid_threshold"
            )
        return
    if criterion.min_sample is not None:
        raise BadgeError("Only accuracy badges have a minimum sample.", code="sample_not_allowed")
    if metric in {Metric.WEEKLY_GOAL, Metric.MANUAL}:
        if threshold != 1:
            raise BadgeError("This metric's threshold is always 1.", code="invalid_threshold")
        return
    ceiling = MAX_MINOR_THRESHOLD if metric is Metric.LIFETIME_EARNINGS else MAX_COUNT_THRESHOLD
    if threshold != threshold.to_integral_value() or not 1 <= threshold <= ceiling:
        raise BadgeError(
            f"The threshold must be a whole number of 1–{ceiling}.", code="invalid_threshold"
        )


def check_code(code: str) -> str:
    """Badge codes are 2–64 characters: lower-case letters, digits, ``_`` and ``-``."""
    if not _CODE.fullmatch(code):
        raise BadgeError(
            "A badge code is 2–64 lower-case letters, digits, '_' or '-'.",
            code="invalid_badge_code",
        )
    return code


def _one_line(text: str, maximum: int, error: InvalidInput) -> str:
    """``text`` with its whitespace collapsed, if 1..``maximum`` characters remain."""
    cleaned = " ".join(text.split())
    if not 1 <= len(cleaned) <= maximum:
        raise error
    return cleaned


def check_name(name: str) -> str:
    return _one_line(
        name,
        MAX_NAME_LENGTH,
        BadgeError(f"A badge name is 1–{MAX_NAME_LENGTH} characters.", code="invalid_badge_name"),
    )


def check_description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH:
        raise BadgeError(
            f"A description is at most {MAX_DESCRIPTION_LENGTH} characters.",
            code="invalid_badge_description",
        )
    return cleaned


def check_reason(reason: str) -> str:
    return _one_line(
        reason,
        MAX_REASON_LENGTH,
        InvalidInput(
            f"A reason of 1–{MAX_REASON_LENGTH} characters is required.", code="invalid_reason"
        ),
    )


@dataclass(frozen=True, slots=True)
class Badge:
    id: UUID
    code: str
    name: str
    description: str
    criterion: Criterion
    position: int
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


@dataclass(frozen=True, slots=True)
class BadgeDraft:
    """An admin's new badge (validated by ``new_badge``)."""

    code: str
    name: str
    criterion: Criterion
    description: str = ""
    position: int = 0


@dataclass(frozen=True, slots=True)
class BadgeChanges:
    """A partial change of a badge; ``None`` leaves a field as it is. The code never
    changes (clients and events refer to it)."""

    name: str | None = None
    description: str | None = None
    criterion: Criterion | None = None
    position: int | None = None
    retired: bool | None = None


def new_badge(badge_id: UUID, draft: BadgeDraft, now: datetime) -> Badge:
    return Badge(
        id=badge_id,
        code=check_code(draft.code),
        name=check_name(draft.name),
        description=check_description(draft.description),
        criterion=draft.criterion,
        position=draft.position,
        created_at=now,
        updated_at=now,
    )


def change_badge(badge: Badge, changes: BadgeChanges, now: datetime) -> Badge:
    """The badge after ``changes``. Retiring keeps it (earned badges stay earned) but stops
    new awards and hides it from the catalogue; ``retired: false`` brings it back."""
    retired_at = badge.retired_at
    if changes.retired is True and retired_at is None:
        retired_at = now
    elif changes.retired is False:
        retired_at = None
    return Badge(
        id=badge.id,
        code=badge.code,
        name=check_name(changes.name) if changes.name is not None else badge.name,
        description=check_description(changes.description)
        if changes.description is not None
        else badge.description,
        criterion=changes.criterion or badge.criterion,
        position=changes.position if changes.position is not None else badge.position,
        created_at=badge.created_at,
        updated_at=now,
        retired_at=retired_at,
    )


class AwardSource(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Award:
    """A badge earned by a member (``period``: the week of a weekly badge, else empty).
    Manual awards record who gave them (``None``: the service identity) and why."""

    id: UUID
    profile_id: UUID
    badge_id: UUID
    period: str
    awarded_at: datetime
    source: AwardSource
    reason: str | None = None
    awarded_by: UUID | None = None


# -- who qualifies, and how far along they are ------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeStanding:
    """What the consensus model holds for a validator that badges may use: the accuracy and
    gold-answer sample published at the last refit, and votes that agreed with decisions."""

    accuracy: float | None = None
    sample: int = 0
    agreed: int = 0
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    """A member's metrics at one moment: ``today`` and ``monday`` are their local day and
    the Monday of their week."""

    stats: MemberStats
    standing: BadgeStanding
    today: date
    monday: date

    def value(self, criterion: Criterion) -> Decimal:
        """The metric's value as awards compare it to the threshold (streaks: the longest)."""
        return self._value(criterion, for_progress=False)

    def _value(self, criterion: Criterion, *, for_progress: bool) -> Decimal:
        stats, metric = self.stats, criterion.metric
        if metric in LANGUAGE_METRICS:
            counts = (
                stats.in_language(criterion.language) if criterion.language is not None else None
            )
            chosen = {
                Metric.CLIPS_SUBMITTED: counts.clips_submitted if counts else stats.clips_submitted,
                Metric.CLIPS_ACCEPTED: counts.clips_accepted if counts else stats.clips_accepted,
                Metric.VALIDATIONS: counts.validations if counts else stats.validations,
            }[metric]
            return Decimal(max(0, chosen))
        if metric is Metric.ACCURACY:
            return Decimal(str(self.standing.accuracy or 0.0))
        if metric is Metric.STREAK_DAYS:
            streak = stats.streak
            return Decimal(streak.current(self.today) if for_progress else streak.longest)
        if metric is Metric.LIFETIME_EARNINGS:
            return Decimal(max(0, stats.earnings.get(criterion.currency or "", 0)))
        if metric is Metric.WEEKLY_GOAL:
            return Decimal(1 if goal_met(stats.goal, stats.week.as_of(self.monday)) else 0)
        plain = {
            Metric.VALIDATIONS_AGREED: self.standing.agreed,
            Metric.STREAMS_HOSTED: stats.streams_hosted,
            Metric.PAYOUTS_PAID: stats.payouts_paid,
            Metric.LANGUAGES_CONTRIBUTED: stats.languages_contributed,
        }
        return Decimal(max(0, plain.get(metric, 0)))

    def qualifies(self, criterion: Criterion) -> bool:
        if not criterion.is_automatic:
            return False
        if criterion.metric is Metric.ACCURACY:
            if self.standing.accuracy is None:
                return False
            if self.standing.sample < (criterion.min_sample or 0):
                return False
        return self.value(criterion) >= criterion.threshold

    def period(self, criterion: Criterion) -> str:
        """Which award a qualifying member gets: this week's for a weekly badge, else the
        one and only."""
        return week_label(self.monday) if criterion.repeats else ONCE

    def progress(self, criterion: Criterion) -> Progress:
        """Where the member stands toward the badge: value, threshold, fraction in [0, 1]."""
        current = self._value(criterion, for_progress=True)
        threshold = criterion.threshold
        if criterion.metric is Metric.WEEKLY_GOAL:
            goal = self.stats.goal
            week = self.stats.week.as_of(self.monday)
            fraction = goal_fraction(goal, week) if goal is not None else 0.0
            return Progress(current, threshold, fraction)
        fraction = _ratio(current, threshold)
        if criterion.metric is Metric.ACCURACY:
            sample = Decimal(self.standing.sample)
            fraction = min(fraction, _ratio(sample, Decimal(criterion.min_sample or 1)))
            return Progress(current, threshold, fraction, sample=self.standing.sample)
        return Progress(current, threshold, fraction)


def _ratio(value: Decimal, threshold: Decimal) -> float:
    if threshold <= 0:
        return 1.0
    return float(min(Decimal(1), max(Decimal(0), value / threshold)))


@dataclass(frozen=True, slots=True)
class Progress:
    """``current`` toward ``threshold``; ``fraction`` is in [0, 1]. ``sample``: the gold
    answers behind an accuracy value."""

    current: Decimal
    threshold: Decimal
    fraction: float
    sample: int | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """A badge a member qualifies for, and which award (period) it would be."""

    badge: Badge
    period: str = field(default=ONCE)


def badges_due(
    badges: Iterable[Badge],
    snapshot: MetricSnapshot,
    held: Collection[tuple[UUID, str]] = (),
) -> list[Due]:
    """The active, automatic badges ``snapshot`` qualifies for that are not in ``held``
    ((badge id, period) pairs already awarded), in catalogue order. Awarding them and asking
    again gives nothing: awarding is idempotent."""
    due = []
    for badge in sorted(badges, key=lambda b: (b.position, b.code)):
        if not badge.is_active or not snapshot.qualifies(badge.criterion):
            continue
        period = snapshot.period(badge.criterion)
        if (badge.id, period) not in held:
            due.append(Due(badge, period))
    return due


def visible_to_others(badge: Badge) -> bool:
    """Whether members other than the holder may see this badge (earned or in progress)."""
    return not badge.criterion.is_private
