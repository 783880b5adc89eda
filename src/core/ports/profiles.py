"""Storage of member profiles."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol
from uuid import UUID

from core.domain.identity import Profile


class ProfileRepository(Protocol):
    """Profiles, inside the current unit of work."""

    async def get(self, profile_id: UUID) -> Profile | None:
        """The profile with this id, or ``None``."""
        ...

    async def get_many(self, profile_ids: Collection[UUID]) -> Mapping[UUID, Profile]:
        """The profiles that exist among ``profile_ids``, by id (one round trip)."""
        ...

    async def add_if_absent(self, profile: Profile) -> bool:
        """Insert ``profile`` unless one with its id exists; ``True`` if this call inserted it.

        Must be race-safe: of many concurrent calls for one id exactly one returns ``True``.
        """
        ...

    async def save(self, profile: Profile) -> None:
        """Write an existing profile's fields."""
        ...


class ProfileLookup(Protocol):
    """One profile read on its own, outside any unit of work: a single statement needs no
    transaction around it, so this is the cheap way to answer "who is calling" on every
    request. Sees only committed profiles."""

    async def get(self, profile_id: UUID) -> Profile | None:
        """The committed profile with this id, or ``None``."""
        ...
