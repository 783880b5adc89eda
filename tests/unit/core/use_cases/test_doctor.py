"""``CheckInvariants``: which invariants run, the window they see, what healthy means."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from core.domain.invariants import INVARIANTS, CheckWindow, Finding, Invariant
from core.errors import InvalidInput
from core.use_cases.doctor import CheckInvariants
from tests.fakes import FixedClock


class ScriptedChecks:
    """Finds the given number of violations per invariant code (0 for the others)."""

    def __init__(self, broken: dict[str, int] | None = None) -> None:
        self.broken = broken or {}
        self.calls: list[tuple[tuple[str, ...], CheckWindow, int]] = []

    async def find(
        self, invariants: Sequence[Invariant], window: CheckWindow, *, examples: int
    ) -> Sequence[Finding]:
        self.calls.append((tuple(i.code for i in invariants), window, examples))
        return [
            Finding(i, n, tuple({"row": k} for k in range(min(n, examples))))
            for i in invariants
            for n in [self.broken.get(i.code, 0)]
        ]


def use_case(checks: ScriptedChecks, clock: FixedClock) -> CheckInvariants:
    return CheckInvariants(
        checks=checks,
        clock=clock,
        push_lease=timedelta(minutes=5),
        abandoned_after=timedelta(minutes=10),
    )


async def test_every_invariant_is_checked_in_one_call_with_the_window() -> None:
    checks, clock = ScriptedChecks(), FixedClock()
    report = await use_case(checks, clock)(examples=3)
    [(codes, window, examples)] = checks.calls
    assert codes == tuple(i.code for i in INVARIANTS)
    assert window == CheckWindow(clock.now(), timedelta(minutes=10), timedelta(minutes=5))
    assert examples == 3
    assert report.healthy
    assert report.checked_at == clock.now()


async def test_one_broken_invariant_makes_the_data_unhealthy() -> None:
    checks = ScriptedChecks({"earned_once": 4})
    report = await use_case(checks, FixedClock())(examples=2)
    assert not report.healthy
    [broken] = report.violated
    assert (broken.invariant.code, broken.violations, len(broken.examples)) == (
        "earned_once",
        4,
        2,
    )


async def test_only_the_named_invariants_are_checked_and_unknown_names_are_refused() -> None:
    checks = ScriptedChecks()
    await use_case(checks, FixedClock())(["tallies_match_votes", "ledger_balanced"])
    assert checks.calls[0][0] == ("ledger_balanced", "tallies_match_votes")
    with pytest.raises(InvalidInput) as refused:
        await use_case(checks, FixedClock())(["no_such_thing"])
    assert refused.value.code == "unknown_invariant"
