"""Finding the database for a command: ``DATABASE_URL``, or the embedded one in development.

Every command says on stderr which database it acts on. In development a command attaches
to the embedded PostgreSQL that ``chorus dev`` (or another command) already runs in
``<data dir>/postgres``; only when none runs there does it start one for its own duration
(or, with ``start=False``, refuse)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import urlsplit

import click

from entrypoints.settings import Secret, Settings

EMBEDDED_DATABASE = "chorus"


class NoRunningDatabase(click.UsageError):
    """No ``DATABASE_URL`` and no embedded PostgreSQL running in the data directory (exit 2)."""


def embedded_directory(settings: Settings) -> str:
    return str((settings.data_dir / "postgres").resolve())


def describe_url(url: str) -> str:
    """``user@host:port/database`` (or the socket directory) — never the password."""
    parts = urlsplit(url)
    where = parts.hostname or ""
    if not where and "host=" in parts.query:
        where = parts.query.split("host=", 1)[1].split("&", 1)[0]
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{where}{port}{parts.path or '/'}"


@contextmanager
def database_for(
    settings: Settings, *, start: bool = True, hold: bool = False
) -> Iterator[Settings]:
    """Yield settings with a database URL, saying on stderr which database it is. Outside
    production, without ``DATABASE_URL``: the embedded PostgreSQL running under
    ``<data dir>/postgres``; if none runs, one is started for the duration (``start``) or
    ``NoRunningDatabase`` is raised. Long-running commands (``hold``) take a handle on the
    server so that it outlives whoever started it while they use it."""
    if settings.database_url is not None:
        url = settings.database_url.reveal()
        click.echo(f"Database: {describe_url(url)} (DATABASE_URL)", err=True)
        yield settings
        return
    if not settings.is_development:
        raise click.UsageError("DATABASE_URL is required in production.")
    from adapters.postgres.embedded import running_embedded_postgres

    directory = embedded_directory(settings)
    running = running_embedded_postgres(settings.data_dir / "postgres", EMBEDDED_DATABASE)
    if running is not None and not hold:
        click.echo(
            f"Database: {EMBEDDED_DATABASE} on the embedded PostgreSQL running in {directory}",
            err=True,
        )
        yield replace(settings, database_url=Secret(running))
        return
    if not start:
        raise NoRunningDatabase(
            f"No embedded PostgreSQL is running in {directory} (CHORUS_DATA_DIR="
            f"{settings.data_dir}) and DATABASE_URL is not set. Start `chorus dev` with the "
            "same CHORUS_DATA_DIR, or set DATABASE_URL to the server's database."
        )
    if running is not None:
        click.echo(
            f"Database: {EMBEDDED_DATABASE} on the embedded PostgreSQL running in {directory}",
            err=True,
        )
    else:
        click.echo(
            f"Database: {EMBEDDED_DATABASE} on an embedded PostgreSQL started in {directory} "
            "(none was running; it stops when no command uses it any more)",
            err=True,
        )
    with _embedded_handle(settings) as url:
        yield replace(settings, database_url=Secret(url))


@contextmanager
def _embedded_handle(settings: Settings) -> Iterator[str]:
    from adapters.postgres.embedded import ensure_database, start_embedded_postgres

    if "XDG_RUNTIME_DIR" not in os.environ:  # where pgserver keeps its lock file
        runtime = settings.data_dir.resolve() / "run"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)  # platformdirs ignores (and warns about) an open one
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    _, server = start_embedded_postgres(settings.data_dir / "postgres")
    try:
        yield ensure_database(server, EMBEDDED_DATABASE)
    finally:
        server.cleanup()
        sys.stderr.flush()
