"""An embedded PostgreSQL (the ``pgserver`` package) for development and tests.

``running_embedded_postgres`` only reads the server's ``postmaster.pid`` (standard library,
no ``pgserver`` import), so commands attach to a server that ``chorus dev`` already runs in
well under a second; ``start_embedded_postgres`` starts one (or takes a handle on it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

# postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shared
# memory, status (PostgreSQL's miscadmin.h, LOCK_FILE_LINE_*).
_PID, _PORT, _SOCKET_DIR, _LISTEN, _STATUS = 0, 3, 4, 5, 7


def running_embedded_postgres(data_dir: Path, database: str) -> str | None:
    """The URL of ``database`` on the PostgreSQL server running in ``data_dir`` — ready, its
    process alive and its socket present — or ``None`` when none runs there. Starts nothing."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[_PID]), int(lines[_PORT])
    except (OSError, ValueError, IndexError):
        return None
    if len(lines) <= _STATUS or lines[_STATUS].strip() != "ready" or not _alive(pid):
        return None
    user = quote("postgres")
    socket_dir = lines[_SOCKET_DIR].strip()
    if socket_dir:
        if not (Path(socket_dir) / f".s.PGSQL.{port}").exists():
            return None
        return f"postgresql://{user}:@/{database}?host={socket_dir}&port={port}"
    host = lines[_LISTEN].strip()
    if not host:
        return None
    return f"postgresql://{user}:@{host}:{port}/{database}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # someone else's process (pgserver runs it as its own user)
        return True
    except OSError:
        return False
    return True


def start_embedded_postgres(data_dir: Path) -> tuple[str, Any]:
    """Start (or attach to) a PostgreSQL server whose data lives in ``data_dir``; it survives
    restarts. Returns its URL (Unix socket) and a handle: keep it alive while in use, call
    ``cleanup()`` to let the server stop when no process holds a handle any more."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    get_server = pgserver.get_server  # type: ignore[attr-defined]
    server = get_server(data_dir.resolve(), cleanup_mode="stop")
    return server.get_uri(), server


def ensure_database(server: Any, name: str) -> str:
    """Create database ``name`` on the embedded server if needed; return its URL."""
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a plain database name")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')
    return str(server.get_uri(name))
