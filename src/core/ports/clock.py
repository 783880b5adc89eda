"""Time, as a port, so tests control it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current instant."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...
