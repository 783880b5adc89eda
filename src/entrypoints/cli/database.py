"""Finding the database for a command: ``DATABASE_URL``, or the embedded one in development."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import click

from entrypoints.settings import Secret, Settings

EMBEDDED_DATABASE = "chorus"


@contextmanager
def database_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a database URL. Outside production, without ``DATABASE_URL``, an
    embedded PostgreSQL under ``<data dir>/postgres`` is started for the duration."""
    if settings.database_url is not None:
        yield settings
        return
    if not settings.is_development:
        raise click.UsageError("DATABASE_URL is required in production.")
    from adapters.postgres.embedded import ensure_database, start_embedded_postgres

    click.echo(f"Starting embedded PostgreSQL in {settings.data_dir / 'postgres'} …", err=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.data_dir.resolve() / "run"))
    _, server = start_embedded_postgres(settings.data_dir / "postgres")
    try:
        url = ensure_database(server, EMBEDDED_DATABASE)
        yield replace(settings, database_url=Secret(url))
    finally:
        server.cleanup()
        sys.stderr.flush()
