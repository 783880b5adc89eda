"""An embedded PostgreSQL (the ``pgserver`` package) for development and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pgserver


def start_embedded_postgres(data_dir: Path) -> tuple[str, Any]:
    """Start (or attach to) a PostgreSQL server whose data lives in ``data_dir``; it survives
    restarts. Returns its URL (Unix socket) and a handle: keep it alive while in use, call
    ``cleanup()`` to let the server stop when no process holds a handle any more."""
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
