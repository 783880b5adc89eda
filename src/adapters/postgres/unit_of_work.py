"""The Postgres unit of work: one connection, one transaction, outbox written on commit."""

from __future__ import annotations

import contextlib
import importlib
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.postgres.errors import is_unavailable, storage_errors, unavailable
from adapters.postgres.outbox import write_events
from adapters.postgres.shared_connection import (
    SharedConnection,
    autocommit_connection,
    shared_connection_for,
)
from core.domain.events import DomainEvent

if TYPE_CHECKING:
    from adapters.postgres.badges import PostgresAwardRepository, PostgresBadgeCatalogue
    from adapters.postgres.clips import (
        PostgresClipQueue,
        PostgresClipRepository,
        PostgresClipServings,
        PostgresSkipRepository,
        PostgresValidatorStatsRepository,
        PostgresVoteRepository,
    )
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
    from adapters.postgres.payouts import (
        PostgresPayoutDestinationRepository,
        PostgresPayoutRepository,
    )
    from adapters.postgres.profiles import PostgresProfileRepository
    from adapters.postgres.push_tokens import PostgresPushTokenRepository
    from adapters.postgres.sync import PostgresReservationRepository, PostgresSyncOpLog


# Each repository's module is imported when a unit of work first uses it, so a command that
# touches one table does not import them all (``chorus token`` sets a role in well under a
# second); the request path pays the import once per process.
_REPOSITORIES: dict[str, tuple[str, str]] = {
    "profiles": ("adapters.postgres.profiles", "PostgresProfileRepository"),
    "live_streams": ("adapters.postgres.live_streams", "PostgresLiveStreamRepository"),
    "clips": ("adapters.postgres.clips", "PostgresClipRepository"),
    "votes": ("adapters.postgres.clips", "PostgresVoteRepository"),
    "servings": ("adapters.postgres.clips", "PostgresClipServings"),
    "skips": ("adapters.postgres.clips", "PostgresSkipRepository"),
    "validator_stats": ("adapters.postgres.clips", "PostgresValidatorStatsRepository"),
    "clip_queue": ("adapters.postgres.clips", "PostgresClipQueue"),
    "ledger": ("adapters.postgres.ledger", "PostgresLedgerRepository"),
    "reward_rates": ("adapters.postgres.ledger", "PostgresRewardRateRepository"),
    "push_tokens": ("adapters.postgres.push_tokens", "PostgresPushTokenRepository"),
    "notifications": ("adapters.postgres.notifications", "PostgresNotificationRepository"),
    "payouts": ("adapters.postgres.payouts", "PostgresPayoutRepository"),
    "payout_destinations": ("adapters.postgres.payouts", "PostgresPayoutDestinationRepository"),
    "badges": ("adapters.postgres.badges", "PostgresBadgeCatalogue"),
    "awards": ("adapters.postgres.badges", "PostgresAwardRepository"),
    "member_stats": ("adapters.postgres.member_stats", "PostgresMemberStatsRepository"),
    "leaderboards": ("adapters.postgres.leaderboards", "PostgresLeaderboardRepository"),
    "sync_ops": ("adapters.postgres.sync", "PostgresSyncOpLog"),
    "reservations": ("adapters.postgres.sync", "PostgresReservationRepository"),
    "moderation_targets": ("adapters.postgres.moderation", "PostgresModerationTargets"),
    "flags": ("adapters.postgres.moderation", "PostgresFlagRepository"),
    "moderation_cases": ("adapters.postgres.moderation", "PostgresModerationCases"),
    "decisions": ("adapters.postgres.moderation", "PostgresDecisionLog"),
    "fraud_signals": ("adapters.postgres.moderation", "PostgresFraudSignals"),
    "daily_earnings": ("adapters.postgres.moderation", "PostgresDailyEarnings"),
    "activity": ("adapters.postgres.moderation", "PostgresActivityScan"),
}
_CLASSES: dict[str, Any] = {}


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
        """Forget the repositories of a previous opening; ``__getattr__`` makes each one on
        the (new) connection when first used."""
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        if name not in _REPOSITORIES:
            raise AttributeError(name)
        factory = _CLASSES.get(name)
        if factory is None:
            module, class_name = _REPOSITORIES[name]
            factory = _CLASSES[name] = getattr(importlib.import_module(module), class_name)
        repository = factory(self.connection)
        self.__dict__[name] = repository
        return repository

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


class PostgresAutocommitUnitOfWork(PostgresUnitOfWork):
    """A unit of work whose statements each commit on their own: no BEGIN and COMMIT round
    trips (two of the queue's six per request).

    Only for use cases that write at most one statement, or several that need no atomicity
    among them — the queue page reads, then records what it served with one INSERT. Recording
    an event is refused (it could not be written with the change it describes), and so are
    ``rollback`` and savepoints; ``commit`` has nothing left to do."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._scope: contextlib.AbstractAsyncContextManager[AsyncConnection] | None = None

    async def __aenter__(self) -> Self:
        scope = autocommit_connection(self._engine)
        async with storage_errors():
            self._connection = await scope.__aenter__()
        self._scope = scope
        self._open_repositories(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope, self._scope, self._connection = self._scope, None, None
        try:
            if scope is not None:
                await scope.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if not is_unavailable(error):
                raise
        if exc is not None and is_unavailable(exc):
            raise unavailable() from exc

    def record(self, event: DomainEvent) -> None:
        raise RuntimeError("An autocommit unit of work cannot write events with its changes.")

    async def commit(self) -> None:
        """Every statement has committed already."""

    async def rollback(self) -> None:
        raise RuntimeError("An autocommit unit of work has nothing to roll back.")

    def savepoint(self) -> PostgresSavepoint:
        raise RuntimeError("An autocommit unit of work has no transaction to nest in.")
