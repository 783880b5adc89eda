"""Reading the stored data for broken invariants (``chorus doctor``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.invariants import CheckWindow, Finding, Invariant


class InvariantChecks(Protocol):
    """Finds the stored rows that break each invariant (core/domain/invariants.py). Every
    check of one call reads the same consistent snapshot; nothing is written or locked, so it
    is safe on a live production database."""

    async def find(
        self, invariants: Sequence[Invariant], window: CheckWindow, *, examples: int
    ) -> Sequence[Finding]:
        """One finding per invariant, in order, with at most ``examples`` offending rows."""
        ...
