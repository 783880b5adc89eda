"""What schema a database has, read with two plain queries — no Alembic import, no log
lines — for ``/ready`` (probes call it every few seconds) and quick command checks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

VERSION_TABLE = "alembic_version"


async def has_table(engine: AsyncEngine, name: str) -> bool:
    """Whether table ``name`` is visible on the connection's search path."""
    async with engine.connect() as connection:
        found = await connection.scalar(sa.text("SELECT to_regclass(:name)"), {"name": name})
    return found is not None


async def current_revisions(engine: AsyncEngine) -> frozenset[str]:
    """The revisions Alembic recorded (empty for a database never migrated)."""
    async with engine.connect() as connection:
        exists = await connection.scalar(
            sa.text("SELECT to_regclass(:name)"), {"name": VERSION_TABLE}
        )
        if exists is None:
            return frozenset()
        rows = await connection.scalars(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return frozenset(rows)
