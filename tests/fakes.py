"""In-memory fakes of the core ports: behavioural, not mocks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from core.domain.events import DomainEvent
from core.domain.identity import Profile


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class SequentialIds:
    """Predictable UUIDs: 00000000-0000-0000-0000-000000000001, …"""

    def __init__(self) -> None:
        self.count = 0

    def new_id(self) -> uuid.UUID:
        self.count += 1
        return uuid.UUID(int=self.count)


@dataclass
class InMemoryStore:
    """What the fake database holds; shared by every fake unit of work made from it."""

    profiles: dict[uuid.UUID, Profile] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)


class FakeProfileRepository:
    def __init__(self, staged: dict[uuid.UUID, Profile]) -> None:
        self._staged = staged

    async def get(self, profile_id: uuid.UUID) -> Profile | None:
        return self._staged.get(profile_id)

    async def add_if_absent(self, profile: Profile) -> bool:
        if profile.id in self._staged:
            return False
        self._staged[profile.id] = profile
        return True

    async def save(self, profile: Profile) -> None:
        self._staged[profile.id] = profile


class FakeUnitOfWork:
    """Changes are staged on a copy and published to the store only on commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.committed = False
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        self._staged = dict(self.store.profiles)
        self.profiles = FakeProfileRepository(self._staged)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.clear()

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        self.store.profiles = dict(self._staged)
        self.store.outbox.extend(self._events)
        self._events.clear()
        self.committed = True

    async def rollback(self) -> None:
        self._staged = dict(self.store.profiles)
        self._events.clear()
