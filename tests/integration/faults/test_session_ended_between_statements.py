"""The server ends a session between two statements of a unit of work.

PostgreSQL sends a FATAL error (``57P01``, admin shutdown) to a connection idle inside a
transaction, then closes it. asyncpg reads an error that no operation asked for, so its
protocol waits for a ReadyForQuery that never comes; the next statement on that connection
then fails with ``InternalClientError: cannot switch to state 11|12; another operation (2) is
in progress`` — (2) being that "consume until ReadyForQuery" state, not another statement.
Under a real shutdown the close usually follows within the same loop turn, but a task woken
by the previous statement's result runs first. That is how a vote's reward-rates lookup met
it. It is the outage seen through the driver's state machine: the unit of work must answer
``StorageUnavailable`` and the connection must not be used again.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import InternalError

from adapters.postgres.engine import create_engine
from adapters.postgres.shared_connection import one_connection_per_request
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.errors import StorageUnavailable
from tests.integration.faults.cluster import Cluster
from tests.integration.faults.proxy import holding_proxy

BACKEND_PID = sa.text("SELECT pg_backend_pid()")


async def test_a_session_ended_between_two_statements_is_storage_unavailable(
    cluster: Cluster, fault_url: str
) -> None:
    async with holding_proxy(cluster.port, hold_close=1.0) as proxy:
        engine = create_engine(fault_url.replace(str(cluster.port), str(proxy.port)))
        ended: list[int] = []

        async def second_statement_after_the_session_ended() -> None:
            async with PostgresUnitOfWork(engine) as uow:
                pid = (await uow.connection.execute(BACKEND_PID)).scalar_one()
                ended.append(pid)
                await cluster.terminate_pid(pid)
                await asyncio.sleep(0.3)  # the FATAL error has arrived, the close not yet
                await uow.connection.execute(BACKEND_PID)

        try:
            # As in a request: its units of work share one connection (the caller's lookup,
            # then the use case); the next one must not inherit the broken connection.
            async with one_connection_per_request(engine):
                with pytest.raises(StorageUnavailable) as raised:
                    await second_statement_after_the_session_ended()
                assert isinstance(raised.value.__cause__, InternalError)  # what asyncpg raised
                async with PostgresUnitOfWork(engine) as uow:
                    assert (await uow.connection.execute(BACKEND_PID)).scalar_one() not in ended
        finally:
            await engine.dispose()
