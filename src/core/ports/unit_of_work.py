"""The transaction boundary of a use case."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from core.domain.events import DomainEvent
from core.ports.badges import (
    AwardRepository,
    BadgeCatalogue,
    LeaderboardRepository,
    MemberStatsRepository,
)
from core.ports.clips import (
    ClipQueue,
    ClipRepository,
    ClipServings,
    SkipRepository,
    ValidatorStatsRepository,
    VoteRepository,
)
from core.ports.ledger import LedgerRepository, RewardRateRepository
from core.ports.live_streams import LiveStreamRepository
from core.ports.moderation import (
    ActivityScan,
    DailyEarnings,
    DecisionLog,
    FlagRepository,
    FraudSignalRepository,
    ModerationCases,
    ModerationTargets,
)
from core.ports.notifications import NotificationRepository, PushTokenRepository
from core.ports.payouts import PayoutDestinationRepository, PayoutRepository
from core.ports.profiles import ProfileRepository
from core.ports.sync import ReservationRepository, SyncOpLog


class UnitOfWork(Protocol):
    """One atomic piece of work: repositories share its transaction, recorded events are
    written to the outbox in that same transaction, and nothing is kept unless ``commit`` is
    called. Leaving the ``async with`` block without committing rolls back."""

    profiles: ProfileRepository
    live_streams: LiveStreamRepository
    clips: ClipRepository
    votes: VoteRepository
    servings: ClipServings
    skips: SkipRepository
    validator_stats: ValidatorStatsRepository
    clip_queue: ClipQueue
    ledger: LedgerRepository
    reward_rates: RewardRateRepository
    push_tokens: PushTokenRepository
    notifications: NotificationRepository
    payouts: PayoutRepository
    payout_destinations: PayoutDestinationRepository
    badges: BadgeCatalogue
    awards: AwardRepository
    member_stats: MemberStatsRepository
    leaderboards: LeaderboardRepository
    sync_ops: SyncOpLog
    reservations: ReservationRepository
    moderation_targets: ModerationTargets
    flags: FlagRepository
    moderation_cases: ModerationCases
    decisions: DecisionLog
    fraud_signals: FraudSignalRepository
    daily_earnings: DailyEarnings
    activity: ActivityScan

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

    def savepoint(self) -> UnitOfWork:
        """A unit of work nested in this open one (a savepoint): its ``commit`` keeps its
        changes and events inside this unit of work (still to be committed), leaving it
        without committing undoes only what it did. Offline sync applies each pushed
        operation's use case in one, next to the record of the operation."""
        ...
