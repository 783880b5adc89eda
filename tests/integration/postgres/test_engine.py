"""The pool hands out live connections without asking the server on every checkout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from adapters.postgres.engine import create_engine
from tests.integration.database import admin_connection

BACKEND_PID = sa.text("SELECT pg_backend_pid()")


async def _terminate(database_url: str, pids: list[int]) -> None:
    admin = await admin_connection(database_url)
    try:
        ended = await admin.fetch("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p", pids)
        assert all(row[0] for row in ended)
    finally:
        await admin.close()


async def test_connections_the_server_ended_while_pooled_are_replaced(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=3, max_overflow=0)
    try:
        held = [await engine.connect() for _ in range(3)]
        pids = [(await connection.execute(BACKEND_PID)).scalar_one() for connection in held]
        for connection in held:
            await connection.close()  # back to the pool, idle
        await _terminate(database_url, pids)
        await asyncio.sleep(0.3)  # the end of each stream reaches the idle connections

        fresh = [await engine.connect() for _ in range(3)]
        new_pids = [(await connection.execute(BACKEND_PID)).scalar_one() for connection in fresh]
        for connection in fresh:
            await connection.close()
        assert not set(new_pids) & set(pids)
    finally:
        await engine.dispose()


async def test_requests_succeed_after_the_database_ended_the_apps_connections(
    make_app: Callable[..., Litestar], database_url: str
) -> None:
    async with AsyncTestClient(make_app()) as client:
        assert (await client.get("/ready")).status_code == 200
        admin = await admin_connection(database_url)
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'chorus'"
            )
        finally:
            await admin.close()
        assert ended >= 1
        await asyncio.sleep(0.3)

        assert (await client.get("/ready")).status_code == 200
