"""Running Alembic programmatically (the ``chorus migrate`` command and ``/ready``)."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import schema_version

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would treat '%' in passwords as syntax.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@cache
def head_revisions() -> frozenset[str]:
    """The code's heads. Independent feature areas may branch from a common revision, so
    there can be several; ``upgrade`` applies them all. Read once per process (the
    migration scripts do not change while it runs)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def _in_thread(func: object, *args: object) -> None:
    # Alembic's env.py runs its own event loop, so it must not share ours.
    await asyncio.to_thread(func, *args)  # type: ignore[arg-type]


async def upgrade(database_url: str, revision: str = "heads") -> None:
    await _in_thread(command.upgrade, alembic_config(database_url), revision)


async def downgrade(database_url: str, revision: str) -> None:
    await _in_thread(command.downgrade, alembic_config(database_url), revision)


async def current_revisions(engine: AsyncEngine) -> frozenset[str]:
    """The database's revisions, read quietly (Alembic's ``MigrationContext`` would log two
    INFO lines per call: ``/ready`` runs this on every probe)."""
    return await schema_version.current_revisions(engine)


async def is_at_head(engine: AsyncEngine) -> bool:
    return await current_revisions(engine) == head_revisions()


def describe(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "nothing"
