"""Checking the stored data's invariants (``chorus doctor``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.domain.invariants import INVARIANTS, CheckWindow, HealthReport, Invariant
from core.errors import InvalidInput
from core.ports.clock import Clock
from core.ports.invariants import InvariantChecks


@dataclass(frozen=True, slots=True)
class CheckInvariants:
    """Check every invariant (or those named) on the stored data.

    Rules: read-only, one consistent snapshot for all checks; a lease counts as abandoned
    once it ended more than ``abandoned_after`` ago (a push send: once it started more than
    the worker lease plus that ago); each finding keeps at most ``examples`` offending rows.
    The data is healthy when every checked invariant holds. Unknown invariant codes are
    refused (``unknown_invariant``).
    """

    checks: InvariantChecks
    clock: Clock
    push_lease: timedelta
    abandoned_after: timedelta = timedelta(minutes=10)
    timer: Callable[[], float] = time.perf_counter

    async def __call__(self, only: Sequence[str] = (), *, examples: int = 10) -> HealthReport:
        chosen = _chosen(only)
        now = self.clock.now()
        started = self.timer()
        window = CheckWindow(now, self.abandoned_after, self.push_lease)
        findings = await self.checks.find(chosen, window, examples=examples)
        return HealthReport(tuple(findings), now, self.timer() - started)


def _chosen(only: Sequence[str]) -> tuple[Invariant, ...]:
    if not only:
        return INVARIANTS
    known = {invariant.code: invariant for invariant in INVARIANTS}
    unknown = sorted(set(only) - known.keys())
    if unknown:
        raise InvalidInput(f"Unknown invariant(s): {', '.join(unknown)}.", code="unknown_invariant")
    return tuple(invariant for invariant in INVARIANTS if invariant.code in set(only))
