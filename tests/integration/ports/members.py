"""Members made through the ports, for the port contracts."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from core.domain.identity import Profile

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def member(uow_factory, name: str | None = None) -> uuid.UUID:
    profile = Profile.new(uuid.uuid4(), T0)
    async with uow_factory() as uow:
        await uow.profiles.add_if_absent(profile)
        if name:
            await uow.profiles.save(replace(profile, display_name=name))
        await uow.commit()
    return profile.id
