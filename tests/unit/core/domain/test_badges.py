"""Badge criteria, who qualifies, progress and the idempotence of awarding."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.badges import (
    Badge,
    BadgeChanges,
    BadgeDraft,
    BadgeError,
    BadgeStanding,
    Criterion,
    MetricSnapshot,
    badges_due,
    change_badge,
    check_code,
    new_badge,
    visible_to_others,
)
from core.domain.goals import WeekActivity, WeeklyGoal, goal_fraction, goal_met
from core.domain.member_stats import LanguageCounts, MemberStats
from core.domain.streaks import DayRun, Streak
from core.errors import InvalidInput

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
TODAY = date(2026, 3, 4)
MONDAY = date(2026, 3, 2)


def parse(**fields: object) -> Criterion:
    fields.setdefault("threshold", 5)
    return Criterion.parse(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"metric": "clips_recorded"}, "unknown_metric"),
        ({"metric": "clips_accepted", "threshold": 0}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": -3}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": 2.5}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": True}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": float("nan")}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": 10**12}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": None}, "threshold_required"),
        ({"metric": "streak_days", "language": "yo"}, "language_not_allowed"),
        ({"metric": "clips_accepted", "language": "english"}, "invalid_language"),
        ({"metric": "lifetime_earnings", "threshold": 100_000}, "currency_required"),
        ({"metric": "lifetime_earnings", "currency": "EUR"}, "unsupported_currency"),
        ({"metric": "validations", "currency": "NGN"}, "currency_not_allowed"),
        ({"metric": "accuracy", "threshold": 0.95}, "min_sample_required"),
        ({"metric": "accuracy", "threshold": 0.95, "min_sample": 0}, "min_sample_required"),
        ({"metric": "accuracy", "threshold": 95, "min_sample": 200}, "invalid_threshold"),
        ({"metric": "accuracy", "threshold": 0, "min_sample": 200}, "invalid_threshold"),
        ({"metric": "validations", "min_sample": 10}, "sample_not_allowed"),
        ({"metric": "weekly_goal", "threshold": 2}, "invalid_threshold"),
        ({"metric": "manual", "threshold": 3}, "invalid_threshold"),
    ],
)
def test_bad_criteria_are_refused_with_a_specific_code(fields, code):
    with pytest.raises(InvalidInput) as refused:
        parse(**fields)
    assert refused.value.code == code


def test_good_criteria_are_normalised():
    assert parse(metric="clips_accepted", threshold=20, language="YO").language == "yo"
    earnings = parse(metric="lifetime_earnings", threshold=1_000_000, currency="ngn")
    assert earnings.currency == "NGN"
    assert earnings.threshold == 1_000_000
    accuracy = parse(metric="accuracy", threshold=0.95, min_sample=200)
    assert accuracy.threshold == Decimal("0.95")
    assert accuracy.is_private
    assert parse(metric="weekly_goal", threshold=None).repeats
    assert not parse(metric="manual", threshold=None).is_automatic


@pytest.mark.parametrize("code", ["a", "Streak-7", "streak 7", "-streak", "x" * 65])
def test_badge_codes_are_slugs(code):
    with pytest.raises(BadgeError):
        check_code(code)


def badge(criterion: Criterion, code: str = "b", position: int = 0) -> Badge:
    draft = BadgeDraft(code=f"{code}-{uuid.uuid4().hex[:6]}", name="A badge", criterion=criterion)
    return new_badge(uuid.uuid4(), BadgeDraft(draft.code, draft.name, criterion, "", position), NOW)


def snapshot(
    stats: MemberStats | None = None, standing: BadgeStanding | None = None
) -> MetricSnapshot:
    return MetricSnapshot(stats or MemberStats(), standing or BadgeStanding(), TODAY, MONDAY)


def test_accuracy_needs_the_published_value_and_its_sample():
    criterion = parse(metric="accuracy", threshold=0.95, min_sample=200)
    assert not snapshot(standing=BadgeStanding(0.97, 150)).qualifies(criterion)
    assert not snapshot(standing=BadgeStanding(0.94, 500)).qualifies(criterion)
    assert not snapshot(standing=BadgeStanding(None, 500)).qualifies(criterion)
    assert snapshot(standing=BadgeStanding(0.95, 200)).qualifies(criterion)
    progress = snapshot(standing=BadgeStanding(0.95, 100)).progress(criterion)
    assert progress.fraction == 0.5
    assert progress.sample == 100


def test_streak_badges_are_earned_by_the_longest_streak_and_show_the_current_one():
    ended = Streak((DayRun(date(2026, 2, 1), date(2026, 2, 7)),), longest=7)
    criterion = parse(metric="streak_days", threshold=7)
    view = snapshot(MemberStats(streak=ended))
    assert view.qualifies(criterion)
    assert view.progress(criterion).current == 0  # the streak ended: a whole day was missed


def test_weekly_goal_badges_repeat_each_week():
    criterion = parse(metric="weekly_goal", threshold=None)
    goal = WeeklyGoal(clips=3, validations=10)
    stats = MemberStats(week=WeekActivity(MONDAY, clips=3, validations=9), goal=goal)
    assert not snapshot(stats).qualifies(criterion)
    assert snapshot(stats).progress(criterion).fraction == 0.9
    met = MemberStats(week=WeekActivity(MONDAY, clips=4, validations=10), goal=goal)
    assert snapshot(met).qualifies(criterion)
    assert snapshot(met).period(criterion) == "2026-W10"
    last_week = MemberStats(week=WeekActivity(date(2026, 2, 23), 50, 50), goal=goal)
    assert not snapshot(last_week).qualifies(criterion)


def test_retired_and_manual_badges_are_never_due():
    stats = MemberStats(languages=MappingProxyType({"yo": LanguageCounts(5, 5, 0)}))
    active = badge(parse(metric="clips_accepted", threshold=5))
    retired = change_badge(
        badge(parse(metric="clips_accepted", threshold=1)), BadgeChanges(retired=True), NOW
    )
    manual = badge(parse(metric="manual", threshold=None))
    assert [due.badge for due in badges_due([active, retired, manual], snapshot(stats))] == [active]


def test_private_metrics_are_hidden_from_other_members():
    assert not visible_to_others(badge(parse(metric="payouts_paid", threshold=1)))
    assert not visible_to_others(
        badge(parse(metric="lifetime_earnings", threshold=1, currency="NGN"))
    )
    assert visible_to_others(badge(parse(metric="clips_accepted", threshold=1)))


# -- properties -----------------------------------------------------------------------------

criteria = st.one_of(
    st.builds(
        lambda metric, threshold, language: Criterion.parse(
            metric=metric, threshold=threshold, language=language
        ),
        st.sampled_from(["clips_submitted", "clips_accepted", "validations"]),
        st.integers(1, 1000),
        st.sampled_from([None, "yo", "ha"]),
    ),
    st.builds(
        lambda metric, threshold: Criterion.parse(metric=metric, threshold=threshold),
        st.sampled_from(
            [
                "validations_agreed",
                "streak_days",
                "streams_hosted",
                "payouts_paid",
                "languages_contributed",
            ]
        ),
        st.integers(1, 1000),
    ),
    st.builds(
        lambda threshold: Criterion.parse(
            metric="lifetime_earnings", threshold=threshold, currency="NGN"
        ),
        st.integers(1, 10**12),
    ),
    st.builds(
        lambda threshold, sample: Criterion.parse(
            metric="accuracy", threshold=threshold, min_sample=sample
        ),
        st.floats(0.01, 1.0),
        st.integers(1, 1000),
    ),
    st.just(Criterion.parse(metric="weekly_goal", threshold=None)),
)
counts = st.integers(-5, 2000)
stats_strategy = st.builds(
    lambda langs, earned, streams, payouts, run, goal, week: MemberStats(
        languages=MappingProxyType(langs),
        earnings=MappingProxyType({"NGN": earned}),
        streams_hosted=streams,
        payouts_paid=payouts,
        streak=Streak((DayRun(date(2026, 1, 1), date(2026, 1, 1 + run)),), longest=run + 1),
        week=WeekActivity(MONDAY, *week),
        goal=goal,
    ),
    st.dictionaries(
        st.sampled_from(["yo", "ha", "ig"]), st.builds(LanguageCounts, counts, counts, counts)
    ),
    st.integers(-(10**6), 10**13),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 29),
    st.one_of(
        st.none(),
        st.builds(WeeklyGoal, st.one_of(st.none(), st.integers(1, 100)), st.integers(1, 100)),
    ),
    st.tuples(st.integers(0, 200), st.integers(0, 200)),
)
standings = st.builds(
    BadgeStanding,
    st.one_of(st.none(), st.floats(0.0, 1.0)),
    st.integers(0, 5000),
    st.integers(0, 5000),
)


@given(criteria, stats_strategy, standings)
def test_progress_is_always_a_fraction_between_zero_and_one(criterion, stats, standing):
    progress = snapshot(stats, standing).progress(criterion)
    assert 0.0 <= progress.fraction <= 1.0


@given(st.lists(criteria, max_size=12), stats_strategy, standings)
def test_awarding_is_idempotent(criteria_list, stats, standing):
    catalogue = [badge(criterion, position=i) for i, criterion in enumerate(criteria_list)]
    view = snapshot(stats, standing)
    held: set[tuple[uuid.UUID, str]] = set()
    due = badges_due(catalogue, view, held)
    assert len({(item.badge.id, item.period) for item in due}) == len(due)
    held |= {(item.badge.id, item.period) for item in due}
    assert badges_due(catalogue, view, held) == []
    assert all(view.qualifies(item.badge.criterion) for item in due)


@given(stats_strategy)
def test_a_goal_is_met_exactly_when_every_target_it_names_is_reached(stats):
    goal, week = stats.goal, stats.week
    if goal is None:
        assert not goal_met(goal, week)
        return
    reached = (goal.clips is None or week.clips >= goal.clips) and (
        goal.validations is None or week.validations >= goal.validations
    )
    assert goal_met(goal, week) == reached
    assert (goal_fraction(goal, week) == 1.0) == reached
