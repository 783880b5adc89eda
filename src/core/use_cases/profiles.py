"""Use cases about the caller's own profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.identity import (
    Principal,
    Profile,
    ProfileChanges,
    Role,
    apply_changes,
    ensure_may_read,
    ensure_may_write,
    ensure_role,
    normalise_display_name,
)
from core.errors import NotFound, PermissionDenied
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.profiles import ProfileLookup
from core.ports.screening import TextScreener
from core.ports.token_verifier import VerifiedToken
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.screening import ensure_screened


@dataclass(frozen=True, slots=True)
class IdentifyCaller:
    """Turn a verified token into a ``Principal``.

    Rules: the service identity has no profile; a member's profile is created on first
    sight (exactly once, however many first requests race) with role ``member`` and status
    ``active``, and a ``profile.created`` event is recorded; banned members are refused.
    A member already seen is read through ``lookup`` alone, without a unit of work.
    """

    uow_factory: Callable[[], UnitOfWork]
    lookup: ProfileLookup
    clock: Clock
    ids: IdGenerator

    async def __call__(self, token: VerifiedToken) -> Principal:
        if token.is_service:
            return Principal(profile=None, is_service=True)
        assert token.subject is not None
        profile = await self._load_or_create(token.subject)
        ensure_may_read(profile)
        return Principal(profile=profile)

    async def _load_or_create(self, profile_id: UUID) -> Profile:
        known = await self.lookup.get(profile_id)
        if known is not None:
            return known
        async with self.uow_factory() as uow:
            now = self.clock.now()
            fresh = Profile.new(profile_id, now)
            if await uow.profiles.add_if_absent(fresh):
                uow.record(
                    DomainEvent(
                        id=self.ids.new_id(),
                        name="profile.created",
                        occurred_at=now,
                        payload={"profileId": str(profile_id)},
                    )
                )
                await uow.commit()
                return fresh
        # Another first request created it in the meantime.
        stored = await self.lookup.get(profile_id)
        if stored is None:  # pragma: no cover - deleted between the two reads
            raise NotFound("Profile vanished.", code="profile_not_found")
        return stored


@dataclass(frozen=True, slots=True)
class UpdateOwnProfile:
    """A member changes their display name, languages or payout currency.

    Rules: only active members may write; names are 1–80 characters after collapsing
    whitespace and pass screening against every language's block list, since everyone sees
    them (422 ``content_blocked``); languages are language tags (deduplicated, at most 20);
    the payout currency is one the platform pays out in.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    screener: TextScreener

    async def __call__(self, principal: Principal, changes: ProfileChanges) -> Profile:
        caller = principal.require_member()
        ensure_may_write(caller)
        if changes.display_name is not None:
            name = normalise_display_name(changes.display_name)
            await ensure_screened(self.screener, name, language=None, what="name")
        async with self.uow_factory() as uow:
            profile = await uow.profiles.get(caller.id)
            if profile is None:
                raise NotFound("Profile not found.", code="profile_not_found")
            ensure_may_write(profile)
            updated = apply_changes(profile, changes, self.clock.now())
            if updated is not profile:
                await uow.profiles.save(updated)
                await uow.commit()
            return updated


@dataclass(frozen=True, slots=True)
class SetMemberRole:
    """An admin (or the service identity) gives a member a role, creating the profile if the
    member has not been seen yet.

    Rules: only admins and the service identity may assign roles; an admin cannot remove
    their own admin role (so the platform never locks itself out by accident).
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, profile_id: UUID, role: Role) -> Profile:
        ensure_role(principal, Role.ADMIN)
        if principal.profile_id == profile_id and role is not Role.ADMIN:
            raise PermissionDenied("Admins cannot demote themselves.", code="self_demotion")
        now = self.clock.now()
        async with self.uow_factory() as uow:
            await uow.profiles.add_if_absent(Profile.new(profile_id, now))
            profile = await uow.profiles.get(profile_id)
            assert profile is not None
            if profile.role is not role:
                profile = replace(profile, role=role, updated_at=now)
                await uow.profiles.save(profile)
                uow.record(
                    DomainEvent(
                        id=self.ids.new_id(),
                        name="profile.role_changed",
                        occurred_at=now,
                        payload={"profileId": str(profile_id), "role": role.value},
                    )
                )
            await uow.commit()
            return profile
