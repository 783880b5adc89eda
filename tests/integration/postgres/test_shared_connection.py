"""One pooled connection per request: units of work take turns on it, each with its own
transaction; one opened while another is open gets its own; it goes back to the pool when the
response starts."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.shared_connection import (
    autocommit_connection,
    one_connection_per_request,
)
from adapters.postgres.unit_of_work import PostgresAutocommitUnitOfWork, PostgresUnitOfWork
from tests.tokens import member_headers

BACKEND_PID = sa.text("SELECT pg_backend_pid()")
PROFILE_INSERT = sa.text(
    "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
    "VALUES (:id, 'member', 'active', '{}', now(), now())"
)


def count_checkouts(engine: AsyncEngine) -> list[int]:
    checkouts: list[int] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: checkouts.append(1))
    return checkouts


async def test_a_request_checks_out_one_connection_for_all_its_units_of_work(
    make_app: Callable[..., Litestar],
) -> None:
    app = make_app()
    engine = app.state.container.engine()
    checkouts = count_checkouts(engine)
    headers = member_headers()
    async with AsyncTestClient(app) as client:
        # identify the caller (creating the profile: two units of work), then the balance
        assert (await client.get("/monetization/balance", headers=headers)).status_code == 200
        assert len(checkouts) == 1
        assert (await client.get("/monetization/balance", headers=headers)).status_code == 200
        assert len(checkouts) == 2
        assert (await client.get("/health")).status_code == 200
        assert len(checkouts) == 2  # nothing checked out for a request that needs no database
    assert engine.pool.checkedout() == 0


async def test_units_of_work_take_turns_on_the_shared_connection(engine: AsyncEngine) -> None:
    async with one_connection_per_request(engine):
        async with PostgresUnitOfWork(engine) as first:
            first_pid = (await first.connection.execute(BACKEND_PID)).scalar_one()
        async with PostgresUnitOfWork(engine) as second:
            second_pid = (await second.connection.execute(BACKEND_PID)).scalar_one()
        assert first_pid == second_pid
    assert engine.pool.checkedout() == 0


async def test_a_unit_of_work_opened_inside_another_gets_its_own_connection(
    engine: AsyncEngine,
) -> None:
    async with one_connection_per_request(engine):
        async with PostgresUnitOfWork(engine) as outer:
            async with PostgresUnitOfWork(engine) as inner:
                inner_pid = (await inner.connection.execute(BACKEND_PID)).scalar_one()
            outer_pid = (await outer.connection.execute(BACKEND_PID)).scalar_one()
        assert inner_pid != outer_pid
    assert engine.pool.checkedout() == 0


async def test_each_unit_of_work_keeps_its_own_transaction(engine: AsyncEngine) -> None:
    profile = uuid.uuid4()
    insert = PROFILE_INSERT
    async with one_connection_per_request(engine):

        async def fail_before_committing() -> None:
            async with PostgresUnitOfWork(engine) as failing:
                await failing.connection.execute(insert, {"id": profile})
                raise RuntimeError("the use case fails before committing")

        with pytest.raises(RuntimeError):
            await fail_before_committing()
        async with PostgresUnitOfWork(engine) as reading:
            found = await reading.profiles.get(profile)
        assert found is None  # rolled back, not carried into the next unit of work
        async with PostgresUnitOfWork(engine) as writing:
            await writing.connection.execute(insert, {"id": profile})
            await writing.commit()
    async with PostgresUnitOfWork(engine) as reading:
        assert await reading.profiles.get(profile) is not None


async def test_after_release_units_of_work_use_connections_of_their_own(
    engine: AsyncEngine,
) -> None:
    async with one_connection_per_request(engine) as shared:
        async with PostgresUnitOfWork(engine) as before:
            await before.connection.execute(BACKEND_PID)
            await shared.release()  # the response starts while a unit of work is open
            assert engine.pool.checkedout() == 1  # still in use until it ends
        assert engine.pool.checkedout() == 0
        async with PostgresUnitOfWork(engine) as after:
            await after.connection.execute(BACKEND_PID)
            assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0


async def in_transaction(connection: AsyncConnection) -> bool:
    raw = await connection.get_raw_connection()
    return bool(raw.driver_connection.is_in_transaction())


async def test_a_lone_read_runs_without_a_transaction_and_the_next_unit_of_work_has_one(
    engine: AsyncEngine,
) -> None:
    for scope in (one_connection_per_request(engine), contextlib.nullcontext()):
        async with scope:
            async with autocommit_connection(engine) as reading:
                await reading.execute(BACKEND_PID)
                assert not await in_transaction(reading)
            async with PostgresUnitOfWork(engine) as uow:
                await uow.connection.execute(BACKEND_PID)
                assert await in_transaction(uow.connection)
    assert engine.pool.checkedout() == 0


async def test_after_a_failed_commit_the_next_unit_of_work_starts_clean(
    engine: AsyncEngine,
) -> None:
    member = uuid.uuid4()
    empty_hold = sa.text(
        "INSERT INTO transactions (id, reference, kind, member_id, occurred_at) "
        "VALUES (:id, :reference, 'payout_held', :member, now())"
    )
    async with one_connection_per_request(engine):
        async with PostgresUnitOfWork(engine) as setup:
            await setup.connection.execute(PROFILE_INSERT, {"id": member})
            await setup.commit()

        async def commit_refused_by_the_database() -> None:
            async with PostgresUnitOfWork(engine) as uow:
                parameters = {"id": uuid.uuid4(), "reference": "no-postings", "member": member}
                await uow.connection.execute(empty_hold, parameters)
                await uow.commit()  # the deferred check refuses a transaction without postings

        with pytest.raises(IntegrityError):
            await commit_refused_by_the_database()
        async with PostgresUnitOfWork(engine) as after:
            assert await after.profiles.get(member) is not None
            await after.commit()
        async with autocommit_connection(engine) as reading:
            assert (await reading.execute(BACKEND_PID)).scalar_one() > 0
    assert engine.pool.checkedout() == 0


async def test_tasks_started_inside_the_scope_check_out_their_own_connections(
    engine: AsyncEngine,
) -> None:
    async def backend_of_a_unit_of_work() -> int:
        async with PostgresUnitOfWork(engine) as uow:
            pid = (await uow.connection.execute(BACKEND_PID)).scalar_one()
            await asyncio.sleep(0.05)  # overlap with the other tasks
            return int(pid)

    async with one_connection_per_request(engine):
        async with PostgresUnitOfWork(engine) as own:
            own_pid = (await own.connection.execute(BACKEND_PID)).scalar_one()
        pids = await asyncio.gather(*(backend_of_a_unit_of_work() for _ in range(3)))
        assert len(set(pids)) == 3
        assert own_pid not in pids
    assert engine.pool.checkedout() == 0


async def test_an_autocommit_unit_of_work_runs_each_statement_on_its_own(
    engine: AsyncEngine,
) -> None:
    for scope in (one_connection_per_request(engine), contextlib.nullcontext()):
        member = uuid.uuid4()
        async with scope:
            async with PostgresAutocommitUnitOfWork(engine) as uow:
                await uow.connection.execute(PROFILE_INSERT, {"id": member})
                assert not await in_transaction(uow.connection)
                with pytest.raises(RuntimeError):
                    uow.record(object())  # type: ignore[arg-type]
                with pytest.raises(RuntimeError):
                    uow.savepoint()
                # no commit: the INSERT committed on its own
            async with PostgresUnitOfWork(engine) as after:
                assert await after.profiles.get(member) is not None
                assert await in_transaction(after.connection)
    assert engine.pool.checkedout() == 0


async def test_an_autocommit_unit_of_work_gives_the_shared_connection_back_after_an_error(
    engine: AsyncEngine,
) -> None:
    async with one_connection_per_request(engine):
        with pytest.raises(sa.exc.ProgrammingError):
            async with PostgresAutocommitUnitOfWork(engine) as uow:
                await uow.connection.execute(sa.text("SELECT * FROM no_such_table"))
        async with PostgresUnitOfWork(engine) as after:
            await after.connection.execute(BACKEND_PID)
            assert await in_transaction(after.connection)
            assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0
