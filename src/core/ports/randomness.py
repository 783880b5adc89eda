"""Randomness, as a port, so tests control it."""

from __future__ import annotations

from typing import Protocol


class RandomSource(Protocol):
    """Uniform draws."""

    def random(self) -> float:
        """A number in [0, 1)."""
        ...
