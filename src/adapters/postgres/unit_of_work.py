"""The Postgres unit of work: one connection, one transaction, outbox written on commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.postgres.clips import (
    PostgresClipQueue,
    PostgresClipRepository,
    PostgresSkipRepository,
    PostgresValidatorStatsRepository,
    PostgresVoteRepository,
)
from adapters.postgres.errors import storage_errors
from adapters.postgres.ledger import PostgresLedgerRepository, PostgresRewardRateRepository
from adapters.postgres.live_streams import PostgresLiveStreamRepository
from adapters.postgres.notifications import PostgresNotificationRepository
from adapters.postgres.outbox import write_events
from adapters.postgres.profiles import PostgresProfileRepository
from adapters.postgres.push_tokens import PostgresPushTokenRepository
from adapters.postgres.shared_connection import SharedConnection, shared_connection_for
from core.domain.events import DomainEvent


class PostgresUnitOfWork:
    """Implements ``core.ports.unit_of_work.UnitOfWork``. Not reusable: make one per use.

    Inside ``one_connection_per_request`` it borrows the request's connection instead of
    checking one out of the pool (adapters/postgres/shared_connection.py)."""

    profiles: PostgresProfileRepository
    live_streams: PostgresLiveStreamRepository
    clips: PostgresClipRepository
    votes: PostgresVoteRepository
    skips: PostgresSkipRepository
    validator_stats: PostgresValidatorStatsRepository
    clip_queue: PostgresClipQueue
    ledger: PostgresLedgerRepository
    reward_rates: PostgresRewardRateRepository
    push_tokens: PostgresPushTokenRepository
    notifications: PostgresNotificationRepository

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
        self.profiles = PostgresProfileRepository(self._connection)
        self.live_streams = PostgresLiveStreamRepository(self._connection)
        self.clips = PostgresClipRepository(self._connection)
        self.votes = PostgresVoteRepository(self._connection)
        self.skips = PostgresSkipRepository(self._connection)
        self.validator_stats = PostgresValidatorStatsRepository(self._connection)
        self.clip_queue = PostgresClipQueue(self._connection)
        self.ledger = PostgresLedgerRepository(self._connection)
        self.reward_rates = PostgresRewardRateRepository(self._connection)
        self.push_tokens = PostgresPushTokenRepository(self._connection)
        self.notifications = PostgresNotificationRepository(self._connection)
        return self

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
        finally:
            await self._let_go()
            self._transaction = None
            self._events.clear()

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
        await self._transaction.rollback()
        self._events.clear()
