"""The Postgres unit of work: one connection, one transaction, outbox written on commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.postgres.badges import PostgresAwardRepository, PostgresBadgeCatalogue
from adapters.postgres.clips import (
    PostgresClipQueue,
    PostgresClipRepository,
    PostgresClipServings,
    PostgresSkipRepository,
    PostgresValidatorStatsRepository,
    PostgresVoteRepository,
)
from adapters.postgres.errors import is_unavailable, storage_errors, unavailable
from adapters.postgres.leaderboards import PostgresLeaderboardRepository
from adapters.postgres.ledger import PostgresLedgerRepository, PostgresRewardRateRepository
from adapters.postgres.live_streams import PostgresLiveStreamRepository
from adapters.postgres.member_stats import PostgresMemberStatsRepository
from adapters.postgres.moderation import (
    PostgresActivityScan,
    PostgresDailyEarnings,
    PostgresDecisionLog,
    PostgresFlagRepository,
    PostgresFraudSignals,
    PostgresModerationCases,
    PostgresModerationTargets,
)
from adapters.postgres.notifications import PostgresNotificationRepository
from adapters.postgres.outbox import write_events
from adapters.postgres.payouts import (
    PostgresPayoutDestinationRepository,
    PostgresPayoutRepository,
)
from adapters.postgres.profiles import PostgresProfileRepository
from adapters.postgres.push_tokens import PostgresPushTokenRepository
from adapters.postgres.shared_connection import SharedConnection, shared_connection_for
from adapters.postgres.sync import PostgresReservationRepository, PostgresSyncOpLog
from core.domain.events import DomainEvent


class PostgresUnitOfWork:
    """Implements ``core.ports.unit_of_work.UnitOfWork``. Not reusable: make one per use.

    Inside ``one_connection_per_request`` it borrows the request's connection instead of
    checking one out of the pool (adapters/postgres/shared_connection.py). A statement that
    fails because the database is unavailable (adapters/postgres/errors.py) leaves the block
    as ``StorageUnavailable``, whichever repository ran it."""

    profiles: PostgresProfileRepository
    live_streams: PostgresLiveStreamRepository
    clips: PostgresClipRepository
    votes: PostgresVoteRepository
    servings: PostgresClipServings
    skips: PostgresSkipRepository
    validator_stats: PostgresValidatorStatsRepository
    clip_queue: PostgresClipQueue
    ledger: PostgresLedgerRepository
    reward_rates: PostgresRewardRateRepository
    push_tokens: PostgresPushTokenRepository
    notifications: PostgresNotificationRepository
    payouts: PostgresPayoutRepository
    payout_destinations: PostgresPayoutDestinationRepository
    badges: PostgresBadgeCatalogue
    awards: PostgresAwardRepository
    member_stats: PostgresMemberStatsRepository
    leaderboards: PostgresLeaderboardRepository
    sync_ops: PostgresSyncOpLog
    reservations: PostgresReservationRepository
    moderation_targets: PostgresModerationTargets
    flags: PostgresFlagRepository
    moderation_cases: PostgresModerationCases
    decisions: PostgresDecisionLog
    fraud_signals: PostgresFraudSignals
    daily_earnings: PostgresDailyEarnings
    activity: PostgresActivityScan

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._shared: SharedConnection | None = None
        self._events: list[DomainEvent] = []

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("The unit of work is not open.")
        return self._connection

    async def __aenter__(self) -> Self:
        self._shared = shared_connection_for(self._engine)
        try:
            async with storage_errors():
                if self._shared is not None:
                    self._connection = await self._shared.borrow()
                else:
                    self._connection = await self._engine.connect()
                self._transaction = await self._connection.begin()
        except BaseException:
            await self._let_go()
            raise
        self._open_repositories(self._connection)
        return self

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.profiles = PostgresProfileRepository(connection)
        self.live_streams = PostgresLiveStreamRepository(connection)
        self.clips = PostgresClipRepository(connection)
        self.votes = PostgresVoteRepository(connection)
        self.servings = PostgresClipServings(connection)
        self.skips = PostgresSkipRepository(connection)
        self.validator_stats = PostgresValidatorStatsRepository(connection)
        self.clip_queue = PostgresClipQueue(connection)
        self.ledger = PostgresLedgerRepository(connection)
        self.reward_rates = PostgresRewardRateRepository(connection)
        self.push_tokens = PostgresPushTokenRepository(connection)
        self.notifications = PostgresNotificationRepository(connection)
        self.payouts = PostgresPayoutRepository(connection)
        self.payout_destinations = PostgresPayoutDestinationRepository(connection)
        self.badges = PostgresBadgeCatalogue(connection)
        self.awards = PostgresAwardRepository(connection)
        self.member_stats = PostgresMemberStatsRepository(connection)
        self.leaderboards = PostgresLeaderboardRepository(connection)
        self.sync_ops = PostgresSyncOpLog(connection)
        self.reservations = PostgresReservationRepository(connection)
        self.moderation_targets = PostgresModerationTargets(connection)
        self.flags = PostgresFlagRepository(connection)
        self.moderation_cases = PostgresModerationCases(connection)
        self.decisions = PostgresDecisionLog(connection)
        self.fraud_signals = PostgresFraudSignals(connection)
        self.daily_earnings = PostgresDailyEarnings(connection)
        self.activity = PostgresActivityScan(connection)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Also after a failed COMMIT: the transaction is no longer active but still holds
            # the connection, which must be clean for the request's next unit of work.
            if self._connection is not None and self._connection.get_transaction() is not None:
                await self._connection.rollback()
        except Exception as error:
            # A lost connection cannot roll back, nor does it need to: the server ended the
            # transaction with the session. What the block did or raised stands.
            if not is_unavailable(error):
                raise
        finally:
            await self._let_go()
            self._transaction = None
            self._events.clear()
        if exc is not None and is_unavailable(exc):
            raise unavailable() from exc

    async def _let_go(self) -> None:
        connection, shared = self._connection, self._shared
        self._connection = self._shared = None
        if shared is not None:
            await shared.give_back()
        elif connection is not None:
            await connection.close()

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        assert self._transaction is not None
        async with storage_errors():
            await write_events(self.connection, self._events)
            await self._transaction.commit()
        self._events.clear()

    async def rollback(self) -> None:
        assert self._transaction is not None
        async with storage_errors():
            await self._transaction.rollback()
        self._events.clear()

    def savepoint(self) -> PostgresSavepoint:
        return PostgresSavepoint(self)


class PostgresSavepoint(PostgresUnitOfWork):
    """A unit of work nested in an open one, as a SAVEPOINT on its connection: ``commit``
    releases the savepoint and hands the recorded events to the parent (written to the
    outbox when the parent commits); leaving without it rolls back to the savepoint."""

    def __init__(self, parent: PostgresUnitOfWork) -> None:
        super().__init__(parent._engine)
        self._parent = parent
        self._nested: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        connection = self._connection = self._parent.connection
        async with storage_errors():
            self._nested = await connection.begin_nested()
        self._open_repositories(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        nested, self._nested, self._connection = self._nested, None, None
        self._events.clear()
        if nested is not None and nested.is_active:
            async with storage_errors():
                await nested.rollback()
        if exc is not None and is_unavailable(exc):
            raise unavailable() from exc

    async def commit(self) -> None:
        assert self._nested is not None
        async with storage_errors():
            await self._nested.commit()
        self._nested = None
        self._parent._events.extend(self._events)
        self._events.clear()

    async def rollback(self) -> None:
        assert self._nested is not None
        async with storage_errors():
            await self._nested.rollback()
        self._nested = None
        self._events.clear()
