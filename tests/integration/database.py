"""A throwaway PostgreSQL database for one test session: on ``TEST_DATABASE_URL``'s server
when set, else on an embedded ``pgserver`` in a temporary directory."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


async def admin_connection(url: str) -> asyncpg.Connection:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    return await asyncpg.connect(parsed.render_as_string(hide_password=False))


@contextlib.asynccontextmanager
async def throwaway_database(scratch: Path) -> AsyncIterator[str]:
    """Yield the URL of a fresh, empty database; drop it afterwards."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    handle = None
    if not server_url:
        from adapters.postgres.embedded import start_embedded_postgres

        server_url, handle = start_embedded_postgres(scratch / "pg")
    name = f"chorus_test_{secrets.token_hex(4)}"
    try:
        await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
        url = make_url(server_url.replace("postgres://", "postgresql://", 1)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if handle is not None:
            handle.cleanup()


async def _admin_execute(server_url: str, statement: str) -> None:
    admin = await admin_connection(server_url)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()
