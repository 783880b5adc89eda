"""A PostgreSQL cluster of our own, to stop, crash and restart under load.

The integration suite's server (embedded or ``TEST_DATABASE_URL``) is shared and must stay
up, so fault runs init a throwaway cluster with the PostgreSQL binaries that ship with the
``pgserver`` package, listening on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
import pgserver

BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"

SETTINGS = {
    # The data only has to survive the processes, not the machine.
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "logging_collector": "off",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """``initdb`` in a temporary directory; ``start``, ``stop(mode)``; ``close`` removes it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chorus-faults-"))
        self._user = _system_user(self.root)
        self.data = self.root / "data"
        self.port = free_port()
        self.server_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run(
            "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        options = {**SETTINGS, "port": str(self.port), "listen_addresses": "'127.0.0.1'"}
        options["unix_socket_directories"] = f"'{self.root}'"
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in options.items())

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends sessions and checkpoints; ``immediate`` kills every process (crash
        recovery at the next start)."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def running(self) -> bool:
        status = subprocess.run(
            [BIN / "pg_ctl", "-D", self.data, "status"],
            capture_output=True,
            check=False,
            user=self._user,
        )
        return status.returncode == 0

    async def create_database(self, name: str) -> str:
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return self.url(name)

    async def empty(self, database: str) -> None:
        """Truncate every table but Alembic's."""
        connection = await asyncpg.connect(self.url(database))
        try:
            await connection.execute(
                "DO $$ BEGIN EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), "
                "', ') || ' CASCADE' FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'); END $$"
            )
        finally:
            await connection.close()

    async def terminate_backends(self, application_name: str = "chorus") -> int:
        """``pg_terminate_backend`` of every session of ``application_name``."""
        admin = await asyncpg.connect(self.server_url)
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                application_name,
            )
        finally:
            await admin.close()
        return int(ended)

    async def terminate_pid(self, pid: int) -> None:
        admin = await asyncpg.connect(self.server_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

    async def wait_accepting(self, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                connection = await asyncpg.connect(self.server_url, timeout=1)
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
            else:
                await connection.close()
                return

    def close(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: object) -> None:
        subprocess.run(
            [BIN / program, *map(str, args)],
            check=True,
            capture_output=True,
            timeout=60,
            user=self._user,
        )


def _system_user(root: Path) -> str | None:
    """PostgreSQL refuses to run as root; as pgserver does, run it as user ``pgserver``."""
    if os.geteuid() != 0:
        return None
    import stat

    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists("pgserver")
    assert entry is not None
    ensure_prefix_permissions(root)
    ensure_prefix_permissions(BIN)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(BIN, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(BIN.parent / "lib", readable)
    os.chown(root, entry.pw_uid, entry.pw_gid)
    return "pgserver"
