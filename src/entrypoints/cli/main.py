"""``chorus``: run, migrate and operate Chorus.

Exit codes: 0 success, 1 failure while running, 2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import timedelta
from uuid import UUID

import click

from entrypoints.cli.config import (
    database_command_settings,
    development_environment,
    load_or_exit,
)
from entrypoints.cli.consensus import consensus
from entrypoints.cli.consensus_refit import refit_command
from entrypoints.cli.database import database_for
from entrypoints.cli.doctor import doctor
from entrypoints.cli.moderation import moderation
from entrypoints.cli.payouts import payouts
from entrypoints.cli.rewards import rewards
from entrypoints.settings import Settings
from entrypoints.worker.cli import jobs, worker

DEV_ONLY = "This command is for development; use chorus serve in production."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chorus")
def cli() -> None:
    """Chorus: voice clips, validation consensus, earnings and payouts."""


consensus.add_command(refit_command)
cli.add_command(consensus)
cli.add_command(doctor)
cli.add_command(rewards)
cli.add_command(worker)
cli.add_command(jobs)
cli.add_command(payouts)
cli.add_command(moderation)


@cli.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@click.option("--no-migrate", is_flag=True, help="Do not apply migrations first.")
def dev(host: str | None, port: int | None, no_migrate: bool) -> None:
    """Run Chorus locally: embedded PostgreSQL (unless DATABASE_URL is set), migrations,
    API with docs at /docs, dev auth (see `chorus token`) and the LiveKit dev keys."""
    from adapters.postgres import migrate
    from entrypoints.http.app import create_app
    from entrypoints.http.server import ChorusServerConfig, serve

    settings = load_or_exit(development_environment(DEV_ONLY))
    with database_for(settings) as ready:
        assert ready.database_url is not None
        if not no_migrate:
            asyncio.run(migrate.upgrade(ready.database_url.reveal()))
        bind_host, bind_port = host or ready.host, port or ready.port
        click.echo(f"Chorus on http://{bind_host}:{bind_port} — docs at /docs", err=True)
        serve(
            ChorusServerConfig(
                create_app(ready),
                limits=ready.http,
                host=bind_host,
                port=bind_port,
                proxy_headers=False,
                timeout_graceful_shutdown=10,
            )
        )


@cli.command()
@click.option("--host", default=None, help="Interface to listen on [default: CHORUS_HOST].")
@click.option("--port", type=int, default=None, help="Port [default: CHORUS_PORT].")
@click.option("--workers", type=int, default=None, help="Processes [default: CHORUS_WORKERS].")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run Chorus in production (DATABASE_URL required; run `chorus migrate upgrade` first)."""
    from entrypoints.http.server import ChorusServerConfig, serve

    settings = load_or_exit()
    if settings.database_url is None:
        raise click.UsageError("DATABASE_URL is required for chorus serve.")
    processes = workers or settings.workers
    if processes > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="chorus-metrics-")
    serve(
        ChorusServerConfig(
            "entrypoints.http.app:create_app",
            limits=settings.http,
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=processes,
            proxy_headers=True,
            timeout_graceful_shutdown=20,
        )
    )


@cli.group()
def migrate() -> None:
    """Apply, revert or show database migrations (Alembic)."""


@migrate.command("upgrade")
@click.argument("revision", default="heads")
def migrate_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION [default: heads, i.e. everything]."""
    from adapters.postgres import migrate as migrations

    with database_for(database_command_settings()) as ready:
        assert ready.database_url is not None
        asyncio.run(migrations.upgrade(ready.database_url.reveal(), revision))
    click.echo(f"Database upgraded to {revision}.")


@migrate.command("downgrade")
@click.argument("revision")
def migrate_downgrade(revision: str) -> None:
    """Revert the schema to REVISION (e.g. -1 or base)."""
    from adapters.postgres import migrate as migrations

    with database_for(database_command_settings()) as ready:
        assert ready.database_url is not None
        asyncio.run(migrations.downgrade(ready.database_url.reveal(), revision))
    click.echo(f"Database downgraded to {revision}.")


@migrate.command("current")
def migrate_current() -> None:
    """Show the schema's revision and the code's head."""
    from adapters.postgres import migrate as migrations
    from adapters.postgres.engine import create_engine

    async def show(url: str) -> frozenset[str]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            return await migrations.current_revisions(engine)
        finally:
            await engine.dispose()

    with database_for(database_command_settings()) as ready:
        assert ready.database_url is not None
        current = asyncio.run(show(ready.database_url.reveal()))
    heads = migrations.head_revisions()
    click.echo(f"current: {migrations.describe(current)}\nheads:   {migrations.describe(heads)}")
    if current != heads:
        sys.exit(1)


@cli.command()
@click.option("--sub", "subject", type=click.UUID, help="Profile id (a new one if omitted).")
@click.option(
    "--role",
    type=click.Choice(["member", "moderator", "admin"]),
    default="member",
    show_default=True,
    help="Role the profile gets in the dev database.",
)
@click.option("--service", is_flag=True, help="Mint a service_role token instead.")
@click.option("--ttl-hours", type=click.IntRange(1, 720), default=24, show_default=True)
def token(subject: UUID | None, role: str, service: bool, ttl_hours: int) -> None:
    """Mint a development JWT (refused unless dev auth is configured)."""
    from adapters.auth.dev_tokens import mint_token
    from adapters.system import RandomIdGenerator, SystemClock

    settings = load_or_exit(development_environment(DEV_ONLY))
    if not settings.dev_auth_enabled or settings.supabase_jwt_secret is None:
        raise click.UsageError(
            "Dev auth is not configured (CHORUS_ENV=development, no SUPABASE_JWT_SECRET)."
        )
    profile_id = subject or RandomIdGenerator().new_id()
    if not service:
        with database_for(settings) as ready:
            asyncio.run(_assign_role(ready, profile_id, role))
    click.echo(
        mint_token(
            secret=settings.supabase_jwt_secret.reveal(),
            subject=None if service else profile_id,
            now=SystemClock().now(),
            ttl=timedelta(hours=ttl_hours),
            issuer=settings.expected_issuer,
            audience=settings.jwt_audience,
            service=service,
        )
    )


async def _assign_role(settings: Settings, profile_id: UUID, role: str) -> None:
    from adapters.postgres import migrate as migrations
    from core.domain.identity import Principal, Role
    from entrypoints.container import Container

    assert settings.database_url is not None
    await migrations.upgrade(settings.database_url.reveal())
    container = Container(settings=settings)
    try:
        service = Principal(profile=None, is_service=True)
        await container.set_member_role()(service, profile_id, Role(role))
    finally:
        await container.engine().dispose()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
