"""Day streaks in the member's time zone, across daylight-saving changes and missed days."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.domain.streaks import (
    MAX_KEPT_RUNS,
    DayRun,
    Streak,
    check_time_zone,
    local_day,
    parse_week,
    week_label,
    week_start,
)
from core.errors import InvalidInput

EPOCH = date(2026, 1, 1)
days_strategy = st.lists(st.integers(0, 120).map(lambda n: EPOCH + timedelta(days=n)), max_size=60)


def naive_runs(days: set[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def streak_of(days: list[date]) -> Streak:
    streak = Streak()
    for day in days:
        streak = streak.with_day(day)
    return streak


@given(days_strategy, st.randoms())
def test_any_order_gives_the_runs_of_the_set_of_days(days, random):
    expected = naive_runs(set(days))
    assume(len(expected) <= MAX_KEPT_RUNS)
    shuffled = list(days)
    random.shuffle(shuffled)
    streak = streak_of(shuffled)
    assert [(run.first, run.last) for run in streak.runs] == expected
    assert streak.longest == (max((b - a).days + 1 for a, b in expected) if expected else 0)


def test_only_the_latest_runs_are_kept_but_the_longest_is_remembered():
    days = [EPOCH + timedelta(days=n) for n in range(5)]  # a 5-day run first
    days += [EPOCH + timedelta(days=10 + 2 * n) for n in range(MAX_KEPT_RUNS + 3)]  # then singles
    streak = streak_of(days)
    assert len(streak.runs) == MAX_KEPT_RUNS
    assert streak.runs[-1].first == days[-1]
    assert streak.longest == 5


@given(days_strategy)
def test_the_longest_streak_never_decreases(days):
    streak, longest = Streak(), 0
    for day in days:
        streak = streak.with_day(day)
        assert streak.longest >= longest
        longest = streak.longest


@given(days_strategy, st.integers(0, 130).map(lambda n: EPOCH + timedelta(days=n)))
def test_the_current_streak_is_the_run_reaching_yesterday_or_today(days, today):
    streak = streak_of(days)
    alive = [run for run in naive_runs(set(days)) if run[1] >= today - timedelta(days=1)]
    expected = 0
    if alive and alive[-1] == naive_runs(set(days))[-1]:
        expected = (alive[-1][1] - alive[-1][0]).days + 1
    assert streak.current(today) == expected


def test_a_missed_day_ends_the_streak_and_a_gap_of_one_day_splits_runs():
    streak = streak_of([date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)])
    assert streak.current(date(2026, 3, 3)) == 3
    assert streak.current(date(2026, 3, 4)) == 3  # today may still come
    assert streak.current(date(2026, 3, 5)) == 0  # the 4th passed without a contribution
    resumed = streak.with_day(date(2026, 3, 5))
    assert [run.days for run in resumed.runs] == [3, 1]
    assert resumed.current(date(2026, 3, 5)) == 1
    assert resumed.longest == 3
    # The missing day arrives late (a retried job): the runs join.
    joined = resumed.with_day(date(2026, 3, 4))
    assert joined.runs == (DayRun(date(2026, 3, 1), date(2026, 3, 5)),)
    assert joined.longest == 5


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("instant", "zone", "day"),
    [
        # Lagos is UTC+1 all year: 23:30 UTC is already tomorrow.
        ("2026-06-01T23:30:00+00:00", "Africa/Lagos", date(2026, 6, 2)),
        ("2026-06-01T22:59:59+00:00", "Africa/Lagos", date(2026, 6, 1)),
        # Nairobi is UTC+3: 21:00 UTC is the next day there.
        ("2026-06-01T21:00:00+00:00", "Africa/Nairobi", date(2026, 6, 2)),
        ("2026-06-01T20:59:00+00:00", "Africa/Nairobi", date(2026, 6, 1)),
        # New York: UTC−5 in winter, UTC−4 in summer.
        ("2026-01-15T04:30:00+00:00", "America/New_York", date(2026, 1, 14)),
        ("2026-07-15T04:30:00+00:00", "America/New_York", date(2026, 7, 15)),
    ],
)
def test_days_are_counted_in_the_members_time_zone(instant, zone, day):
    assert local_day(at(instant), zone) == day


def test_no_time_zone_means_utc():
    assert local_day(at("2026-06-01T23:30:00+00:00"), None) == date(2026, 6, 1)


@pytest.mark.parametrize("zone", ["Africa/Lagos", "Africa/Nairobi", "America/New_York"])
def test_a_late_evening_every_day_across_daylight_saving_changes_is_one_unbroken_streak(zone):
    """22:30 local time every day for six weeks around both 2026 DST changes in New York
    (8 March, 1 November): days of 23 and 25 hours are still one day each."""
    for start in (date(2026, 2, 20), date(2026, 10, 15)):
        evenings = [
            datetime.combine(start + timedelta(days=n), time(22, 30), ZoneInfo(zone)).astimezone(
                UTC
            )
            for n in range(42)
        ]
        gaps = {later - earlier for earlier, later in itertools.pairwise(evenings)}
        if zone == "America/New_York":
            assert gaps == {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)} - {
                timedelta(hours=25 if start.month == 2 else 23)
            }
        else:
            assert gaps == {timedelta(hours=24)}
        streak = Streak()
        for n, instant in enumerate(evenings):
            assert local_day(instant, zone) == start + timedelta(days=n)
            streak = streak.with_day(local_day(instant, zone))
        assert streak.runs == (DayRun(start, start + timedelta(days=41)),)
        assert streak.current(start + timedelta(days=41)) == 42
        # A contribution just after midnight local time two days later: one missed day.
        late = datetime.combine(start + timedelta(days=43), time(0, 5), ZoneInfo(zone))
        broken = streak.with_day(local_day(late.astimezone(UTC), zone))
        assert broken.current(start + timedelta(days=43)) == 1
        assert broken.longest == 42


def test_the_dst_night_itself_belongs_to_its_calendar_day():
    # 2026-03-08 02:00 does not exist in New York; 01:59 EST and 03:00 EDT are one day.
    before = at("2026-03-08T06:59:00+00:00")  # 01:59 EST
    after = at("2026-03-08T07:00:00+00:00")  # 03:00 EDT
    assert local_day(before, "America/New_York") == local_day(after, "America/New_York")
    # 2026-11-01 01:30 happens twice; both are 1 November.
    first = at("2026-11-01T05:30:00+00:00")
    second = at("2026-11-01T06:30:00+00:00")
    assert local_day(first, "America/New_York") == date(2026, 11, 1)
    assert local_day(second, "America/New_York") == date(2026, 11, 1)


@pytest.mark.parametrize("name", ["Africa/Lagos", "Africa/Nairobi", "America/New_York", "UTC"])
def test_iana_names_are_accepted(name):
    assert check_time_zone(name) == name


@pytest.mark.parametrize(
    "name", ["", "UTC+1", "WAT", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime"]
)
def test_anything_else_is_refused(name):
    with pytest.raises(InvalidInput) as refused:
        check_time_zone(name)
    assert refused.value.code == "invalid_time_zone"


def test_weeks_start_on_monday_and_have_iso_labels():
    assert week_start(date(2026, 12, 6)) == date(2026, 11, 30)  # a Sunday
    assert week_start(date(2026, 11, 30)) == date(2026, 11, 30)
    assert week_label(date(2026, 11, 30)) == "2026-W49"
    assert week_label(date(2026, 12, 28)) == "2026-W53"
    assert parse_week("2026-W49") == date(2026, 11, 30)
    with pytest.raises(InvalidInput):
        parse_week("last week")
