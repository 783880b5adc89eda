"""Wire structs for ``/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from core.domain.identity import MAX_DISPLAY_NAME_LENGTH, MAX_LANGUAGES, Profile, ProfileChanges
from entrypoints.http.schemas.wire import NO_NUL, CurrencyCode, LanguageTag


class ProfileOut(msgspec.Struct, rename="camel"):
    id: UUID
    role: str
    status: str
    display_name: str | None
    languages: list[str]
    payout_currency: str | None
    created_at: datetime
    updated_at: datetime
    time_zone: str | None
    show_on_leaderboards: bool

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
            time_zone=profile.time_zone,
            show_on_leaderboards=profile.show_on_leaderboards,
        )


class ProfilePatch(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    display_name: (
        Annotated[
            str, msgspec.Meta(min_length=1, max_length=MAX_DISPLAY_NAME_LENGTH, pattern=NO_NUL)
        ]
        | None
    ) = None
    languages: Annotated[list[LanguageTag], msgspec.Meta(max_length=MAX_LANGUAGES)] | None = None
    payout_currency: CurrencyCode | None = None
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    show_on_leaderboards: bool | None = None

    def to_changes(self) -> ProfileChanges:
        return ProfileChanges(
            display_name=self.display_name,
            languages=tuple(self.languages) if self.languages is not None else None,
            payout_currency=self.payout_currency,
            time_zone=self.time_zone,
            show_on_leaderboards=self.show_on_leaderboards,
        )
