"""The transaction boundary of a use case."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from core.domain.events import DomainEvent
from core.ports.clips import (
    ClipQueue,
    ClipRepository,
    SkipRepository,
    ValidatorStatsRepository,
    VoteRepository,
)
from core.ports.ledger import LedgerRepository, RewardRateRepository
from core.ports.live_streams import LiveStreamRepository
from core.ports.notifications import NotificationRepository, PushTokenRepository
from core.ports.profiles import ProfileRepository


class UnitOfWork(Protocol):
    """One atomic piece of work: repositories share its transaction, recorded events are
    written to the outbox in that same transaction, and nothing is kept unless ``commit`` is
    called. Leaving the ``async with`` block without committing rolls back."""

    profiles: ProfileRepository
    live_streams: LiveStreamRepository
    clips: ClipRepository
    votes: VoteRepository
    skips: SkipRepository
    validator_stats: ValidatorStatsRepository
    clip_queue: ClipQueue
    ledger: LedgerRepository
    reward_rates: RewardRateRepository
    push_tokens: PushTokenRepository
    notifications: NotificationRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def record(self, event: DomainEvent) -> None:
        """Queue ``event`` to be written to the outbox on commit."""
        ...

    async def commit(self) -> None:
        """Write the recorded events and make every change durable."""
        ...

    async def rollback(self) -> None:
        """Discard every change and every recorded event."""
        ...
