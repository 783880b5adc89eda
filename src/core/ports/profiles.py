"""Storage of member profiles."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from core.domain.identity import Profile


class ProfileRepository(Protocol):
    """Profiles, inside the current unit of work."""

    async def get(self, profile_id: UUID) -> Profile | None:
        """The profile with this id, or ``None``."""
        ...

    async def add_if_absent(self, profile: Profile) -> bool:
        """Insert ``profile`` unless one with its id exists; ``True`` if this call inserted it.

        Must be race-safe: of many concurrent calls for one id exactly one returns ``True``.
        """
        ...

    async def save(self, profile: Profile) -> None:
        """Write an existing profile's fields."""
        ...
