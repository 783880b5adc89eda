"""Per-member limits on writes: a sliding window, not fixed windows.

Fixed one-minute windows let a member send the limit at the end of one minute and again at
the start of the next: twice the limit within seconds. A sliding window admits a write only
when fewer than ``limit`` writes were admitted during the ``window_seconds`` before it, so no
interval of that length ever holds more than ``limit`` admitted writes.

This module states the rule; the shared implementations (one SQL statement in PostgreSQL,
one Lua script in Redis) keep exactly this state — the times of the last ``limit`` admitted
writes — and are checked against it by the same contract test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SlidingWindowLimit:
    """At most ``limit`` admitted writes in any interval of ``window_seconds``."""

    limit: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds <= 0:
            raise ValueError("a limit needs at least one write per positive window")

    def admit(
        self, recent: tuple[float, ...], now: float
    ) -> tuple[tuple[float, ...], float | None]:
        """``recent`` holds the times of the last admitted writes, oldest first. Admitted:
        the new ``recent`` (at most ``limit`` long) and ``None``. Refused: ``recent``
        unchanged and the seconds until the oldest of the last ``limit`` writes leaves the
        window."""
        if len(recent) >= self.limit:
            # One expression decides and gives the wait, so a refusal never says "wait 0 s"
            # through rounding.
            wait = recent[-self.limit] + self.window_seconds - now
            if wait > 0:
                return recent, min(wait, self.window_seconds)
        return (*recent, now)[-self.limit :], None


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` is whole seconds: round up, and never say 0."""
    return max(1, math.ceil(wait))
