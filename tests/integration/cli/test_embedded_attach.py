"""Commands attach to the embedded PostgreSQL that `chorus dev` runs, say so on stderr, keep
stdout for their output, and refuse a role change that cannot reach that database.

One embedded server (pgserver) stands in for `chorus dev`'s: attaching to it is the
behaviour under test. Commands run as real processes, so stdout and stderr are apart."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.postgres import migrate
from adapters.postgres.embedded import (
    ensure_database,
    running_embedded_postgres,
    start_embedded_postgres,
)
from adapters.postgres.engine import create_engine
from entrypoints.cli.database import EMBEDDED_DATABASE

CHORUS = [sys.executable, "-m", "entrypoints.cli.main"]


@dataclass(frozen=True)
class DevServer:
    data_dir: Path
    url: str

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    def postmaster_pid(self) -> str:
        return (self.pgdata / "postmaster.pid").read_text().splitlines()[0]

    def handles(self) -> str:
        return (self.pgdata / ".handle_pids.json").read_text()


@pytest.fixture(scope="module")
def dev_server() -> Iterator[DevServer]:
    data_dir = Path(tempfile.mkdtemp(prefix="chorus-attach-"))
    _, server = start_embedded_postgres(data_dir / "postgres")
    try:
        url = ensure_database(server, EMBEDDED_DATABASE)
        asyncio.run(migrate.upgrade(url))
        yield DevServer(data_dir, url)
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def chorus(*args: str, data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CHORUS_", "DATABASE_URL", "SUPABASE_"))
    }
    env |= {"CHORUS_ENV": "development", "CHORUS_DATA_DIR": str(data_dir), **extra}
    return subprocess.run(
        [*CHORUS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def role_of(url: str, profile: uuid.UUID) -> str | None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(
                sa.text("SELECT role FROM profiles WHERE id = :id"), {"id": profile}
            )
    finally:
        await engine.dispose()


def test_a_running_server_is_found_from_its_postmaster_pid(dev_server: DevServer) -> None:
    found = running_embedded_postgres(dev_server.pgdata, EMBEDDED_DATABASE)
    assert found is not None
    assert found.startswith("postgresql://postgres:@/chorus?host=")
    assert running_embedded_postgres(dev_server.data_dir / "elsewhere", "chorus") is None


async def test_token_attaches_to_the_running_server_and_sets_the_role_there(
    dev_server: DevServer,
) -> None:
    postmaster, handles = dev_server.postmaster_pid(), dev_server.handles()
    profile = uuid.uuid4()
    done = await asyncio.to_thread(
        chorus, "token", "--sub", str(profile), "--role", "admin", data_dir=dev_server.data_dir
    )
    assert done.returncode == 0, done.stderr
    [token] = done.stdout.splitlines()  # the token alone on stdout
    assert token.count(".") == 2
    assert f"embedded PostgreSQL running in {dev_server.pgdata.resolve()}" in done.stderr
    assert "Starting" not in done.stderr
    assert await role_of(dev_server.url, profile) == "admin"
    # Attached: the same server, and no handle of the command's left behind.
    assert dev_server.postmaster_pid() == postmaster
    assert dev_server.handles() == handles


async def test_a_role_change_that_cannot_reach_the_servers_database_is_refused(
    dev_server: DevServer, tmp_path: Path
) -> None:
    other = tmp_path / "other-data"
    profile = uuid.uuid4()
    done = await asyncio.to_thread(
        chorus, "token", "--sub", str(profile), "--role", "admin", data_dir=other
    )
    assert done.returncode == 2
    assert done.stdout == ""  # no token
    assert "No embedded PostgreSQL is running in" in done.stderr
    assert "The role was not set" in done.stderr
    assert not (other / "postgres").exists()  # no second database was started
    assert await role_of(dev_server.url, profile) is None


async def test_a_plain_token_without_a_database_is_minted_with_a_note(tmp_path: Path) -> None:
    done = await asyncio.to_thread(chorus, "token", data_dir=tmp_path / "none")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2
    assert "created as a member on its first request" in done.stderr
    assert not (tmp_path / "none" / "postgres").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("consensus", "refit", "--json"),
        ("doctor", "--json"),
        ("jobs", "list", "--status", "all", "--json"),
    ],
)
async def test_json_commands_print_nothing_but_json_on_stdout(
    dev_server: DevServer, args: tuple[str, ...]
) -> None:
    done = await asyncio.to_thread(
        chorus, *args, data_dir=dev_server.data_dir, CHORUS_LOG_LEVEL="DEBUG"
    )
    assert done.returncode in (0, 1), done.stderr  # doctor exits 1 when an invariant fails
    if args[0] == "jobs":
        [json.loads(line) for line in done.stdout.splitlines()]
    else:
        json.loads(done.stdout)
    assert "Database: chorus on the embedded PostgreSQL running in" in done.stderr


async def test_migrate_logs_alembic_on_stderr_only(dev_server: DevServer) -> None:
    done = await asyncio.to_thread(chorus, "migrate", "upgrade", data_dir=dev_server.data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Database upgraded to heads.\n"
    assert "alembic" in done.stderr  # its INFO lines, on stderr
