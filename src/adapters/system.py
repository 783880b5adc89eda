"""Clock and id generator backed by the operating system."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIdGenerator:
    """Random (version 4) UUIDs."""

    def new_id(self) -> uuid.UUID:
        return uuid.uuid4()


class SystemRandom:
    """Draws from the operating system's entropy (not reproducible, not for secrets)."""

    def __init__(self) -> None:
        self._random = random.SystemRandom()

    def random(self) -> float:
        return self._random.random()
