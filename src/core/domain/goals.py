"""A member's weekly goal (clips, validations or both) and their progress this week.

Rules: a goal names at least one target, each a whole number of 1–``MAX_GOAL``; clips count
recordings submitted, validations count votes that were heard (every vote but unsolicited
and rushed ones), both in the member's week (Monday to Sunday in their time zone). The goal
is met when every target it names is reached; meeting it is an award of the ``weekly_goal``
badge for that week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.errors import InvalidInput

MAX_GOAL = 10_000


@dataclass(frozen=True, slots=True)
class WeeklyGoal:
    clips: int | None = None
    validations: int | None = None

    def __post_init__(self) -> None:
        if self.clips is None and self.validations is None:
            raise InvalidInput(
                "A goal needs a number of clips, of validations, or both.", code="empty_goal"
            )
        for target in (self.clips, self.validations):
            if target is not None and not 1 <= target <= MAX_GOAL:
                raise InvalidInput(f"Goal targets are 1–{MAX_GOAL}.", code="invalid_goal")


@dataclass(frozen=True, slots=True)
class WeekActivity:
    """What a member did in the week starting ``week_start`` (``None``: nothing yet)."""

    week_start: date | None = None
    clips: int = 0
    validations: int = 0

    def as_of(self, monday: date) -> WeekActivity:
        """The activity of the week starting ``monday``: empty unless that is this week."""
        return self if self.week_start == monday else WeekActivity(monday)

    def plus(self, monday: date, clips: int, validations: int) -> WeekActivity:
        """After contributions in the week starting ``monday``. A later week starts over; a
        contribution counted late for a week already past changes nothing."""
        if self.week_start is not None and monday < self.week_start:
            return self
        base = self.as_of(monday)
        return WeekActivity(monday, base.clips + clips, base.validations + validations)


def goal_fraction(goal: WeeklyGoal, week: WeekActivity) -> float:
    """How far this week's activity is towards the goal, in [0, 1]: the least advanced of
    its targets."""
    parts = [
        min(1.0, done / target)
        for done, target in ((week.clips, goal.clips), (week.validations, goal.validations))
        if target is not None
    ]
    return max(0.0, min(parts))


def goal_met(goal: WeeklyGoal | None, week: WeekActivity) -> bool:
    return goal is not None and goal_fraction(goal, week) >= 1.0
