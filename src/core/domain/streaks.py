"""Day streaks in the member's own time zone, and the weeks their goals are counted in.

Rules:

- A contribution belongs to the calendar day it happened on *in the member's time zone*
  (IANA name on the profile; UTC until they set one). Days are calendar dates, never 24-hour
  spans, so a 23- or 25-hour day at a daylight-saving change is one day like any other.
- A streak is a run of consecutive active days. A day without any contribution ends it: the
  current streak is the run that ends today or yesterday (today may still come), else 0.
- The longest streak never decreases.
- Contributions may be counted out of order (the worker retries jobs): a late day joins the
  runs before and after it, so the result does not depend on the order facts arrive in.
- Only the most recent ``MAX_KEPT_RUNS`` runs are kept; older ones only ever mattered for
  the longest streak, which is kept on its own.
- Weeks start on Monday (ISO 8601) in the member's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import InvalidInput

MAX_KEPT_RUNS = 32
ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(name: str) -> str:
    """An IANA time zone name (``Africa/Lagos``), unchanged; ``InvalidInput``
    (``invalid_time_zone``) for anything else (offsets, abbreviations, file paths)."""
    candidate = name.strip()
    if candidate not in _known_zones():
        raise InvalidInput(
            f"{name!r} is not an IANA time zone (e.g. Africa/Lagos).", code="invalid_time_zone"
        )
    return candidate


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The time zone called ``name``; UTC for ``None`` or a name this system does not know
    (a zone removed from the database after it was stored)."""
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(at: datetime, time_zone: str | None) -> date:
    """The calendar day ``at`` (an aware instant) falls on in ``time_zone``."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(time_zone)).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    """``2026-W49``: the ISO week starting on ``monday``."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(label: str) -> date:
    """The Monday of an ISO week label (``2026-W49``); ``InvalidInput`` (``invalid_week``)."""
    try:
        return date.fromisoformat(f"{label.strip()}-1")
    except ValueError:
        raise InvalidInput("A week looks like 2026-W49.", code="invalid_week") from None


@dataclass(frozen=True, slots=True)
class DayRun:
    """Consecutive active days, ``first`` to ``last`` inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a run cannot end before it starts")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class Streak:
    """A member's recent runs of active days (oldest first, neither overlapping nor
    touching) and the longest run ever."""

    runs: tuple[DayRun, ...] = ()
    longest: int = 0

    @property
    def last_active_day(self) -> date | None:
        return self.runs[-1].last if self.runs else None

    def with_day(self, day: date) -> Streak:
        """This streak after a contribution on ``day`` (in any order, any number of times)."""
        if any(run.first <= day <= run.last for run in self.runs):
            return self
        first, last = day, day
        kept: list[DayRun] = []
        for run in self.runs:
            if run.last == day - ONE_DAY:
                first = run.first
            elif run.first == day + ONE_DAY:
                last = run.last
            else:
                kept.append(run)
        joined = DayRun(first, last)
        runs = sorted([*kept, joined], key=lambda run: run.first)[-MAX_KEPT_RUNS:]
        return Streak(tuple(runs), max(self.longest, joined.days))

    def current(self, today: date) -> int:
        """Days in the streak still alive on ``today``: the latest run, if it reaches
        yesterday or later; 0 once a whole day passed without a contribution."""
        if not self.runs or self.runs[-1].last < today - ONE_DAY:
            return 0
        return self.runs[-1].days
