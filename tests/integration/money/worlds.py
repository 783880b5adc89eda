"""The same ledger contract, run on the in-memory fakes and on PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.clips import AudioInfo, Clip, ClipTally, Visibility
from core.domain.identity import Profile
from core.ports.unit_of_work import UnitOfWork
from tests.fakes import FakeUnitOfWork, InMemoryStore
from tests.integration.money.helpers import NOW, insert_clip, insert_profile, set_visibility


class World(Protocol):
    def uow(self) -> UnitOfWork: ...

    async def member(self) -> uuid.UUID: ...

    async def clip(self, contributor_id: uuid.UUID, language: str = "yo") -> uuid.UUID: ...

    async def set_visibility(self, clip_id: uuid.UUID, visibility: str) -> None: ...


class FakeWorld:
    def __init__(self) -> None:
        self.store = InMemoryStore()

    def uow(self) -> UnitOfWork:
        return FakeUnitOfWork(self.store)

    async def member(self) -> uuid.UUID:
        profile = Profile.new(uuid.uuid4(), NOW)
        self.store.profiles[profile.id] = profile
        return profile.id

    async def clip(self, contributor_id: uuid.UUID, language: str = "yo") -> uuid.UUID:
        clip = Clip(
            id=uuid.uuid4(),
            contributor_id=contributor_id,
            client_id=uuid.uuid4(),
            language=language,
            prompt="Ẹ káàárọ̀",
            audio_key="k",
            audio=AudioInfo("wav", "audio/wav", 2000, 100),
            tally=ClipTally(),
            visibility=Visibility.VISIBLE,
            queue_rank=0,
            created_at=NOW,
        )
        self.store.clips.clips[clip.id] = clip
        return clip.id

    async def set_visibility(self, clip_id: uuid.UUID, visibility: str) -> None:
        clips = self.store.clips.clips
        clips[clip_id] = replace(clips[clip_id], visibility=Visibility(visibility))


class PostgresWorld:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def uow(self) -> UnitOfWork:
        return PostgresUnitOfWork(self.engine)

    async def member(self) -> uuid.UUID:
        return await insert_profile(self.engine)

    async def clip(self, contributor_id: uuid.UUID, language: str = "yo") -> uuid.UUID:
        return await insert_clip(self.engine, contributor_id, language=language)

    async def set_visibility(self, clip_id: uuid.UUID, visibility: str) -> None:
        await set_visibility(self.engine, clip_id, visibility)
