"""Wire structs for ``/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from core.domain.identity import Profile, ProfileChanges


class ProfileOut(msgspec.Struct, rename="camel"):
    id: UUID
    role: str
    status: str
    display_name: str | None
    languages: list[str]
    payout_currency: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, profile: Profile) -> ProfileOut:
        return cls(
            id=profile.id,
            role=profile.role.value,
            status=profile.status.value,
            display_name=profile.display_name,
            languages=list(profile.languages),
            payout_currency=profile.payout_currency,
            created_at=profile.created_at,
            updated_at=profile.updated_at,
        )


class ProfilePatch(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    languages: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=35)]], msgspec.Meta(max_length=50)]
        | None
    ) = None
    payout_currency: Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")] | None = None

    def to_changes(self) -> ProfileChanges:
        return ProfileChanges(
            display_name=self.display_name,
            languages=tuple(self.languages) if self.languages is not None else None,
            payout_currency=self.payout_currency,
        )
