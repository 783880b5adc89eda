"""Integration fixtures: a real PostgreSQL (embedded by default, ``TEST_DATABASE_URL`` to use
another server), migrated once per session, emptied between tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import migrate
from adapters.postgres.engine import create_engine
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Environment, Secret, Settings, load_settings
from tests.integration.database import throwaway_database

KEPT_TABLES = {"alembic_version"}


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    # Not under pytest's tmp_path: pytest prunes old base directories, which would pull
    # the data directory from under a server that another test session is still using.
    scratch = Path(tempfile.mkdtemp(prefix="chorus-test-pg-"))
    try:
        async with throwaway_database(scratch) as url:
            await migrate.upgrade(url)
            yield url
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
async def session_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=20, max_overflow=40)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(session_engine: AsyncEngine) -> AsyncEngine:
    """The session's engine, with every table emptied first: each database test starts
    clean, and tests that need no database never start one."""
    await empty_tables(session_engine)
    return session_engine


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        names = (
            await connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).scalars()
        tables = [f'"{n}"' for n in names if n not in KEPT_TABLES]
        if tables:
            await connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))


def suite_settings(database_url: str) -> Settings:
    base = load_settings({}, environment=Environment.TEST)
    # Test votes follow their queue read at once; the listening rule has tests of its own.
    return replace(
        base,
        database_url=Secret(database_url),
        db_pool_size=20,
        db_max_overflow=40,
        min_listen_fraction=0.0,
    )


@pytest.fixture
def settings(database_url: str, engine: AsyncEngine) -> Settings:
    return suite_settings(database_url)


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., Litestar]:
    def build(custom: Settings | None = None, **overrides: object) -> Litestar:
        chosen = custom or settings
        if overrides:
            chosen = replace(chosen, **overrides)  # type: ignore[arg-type]
        return create_app(chosen, Container(settings=chosen))

    return build


@pytest.fixture
async def client(make_app: Callable[..., Litestar]) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=make_app()) as test_client:
        yield test_client
