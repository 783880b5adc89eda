"""``chorus``: run, migrate and operate Chorus.

Exit codes: 0 success, 1 failure while running, 2 bad usage or configuration.

Commands load what they need when they run (``chorus token`` imports neither the HTTP app
nor the container), so operator commands answer in well under a second when the database
is up. Output meant for programs (``--json``) is the only thing on stdout: logs and notes,
such as which database a command acts on, go to stderr.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import tempfile
from datetime import timedelta
from typing import TYPE_CHECKING, cast
from uuid import UUID

import click
from click.core import ParameterSource

from entrypoints.cli.config import (
    database_command_settings,
    development_environment,
    load_or_exit,
)
from entrypoints.cli.database import NoRunningDatabase, database_for

if TYPE_CHECKING:
    from entrypoints.settings import Settings

DEV_ONLY = "This command is for development; use chorus serve in production."

# Command groups kept in their own modules, imported only when chosen (or for --help).
LAZY_COMMANDS = {
    "consensus": "entrypoints.cli.consensus:consensus",
    "doctor": "entrypoints.cli.doctor:doctor",
    "rewards": "entrypoints.cli.rewards:rewards",
    "worker": "entrypoints.worker.cli:worker",
    "jobs": "entrypoints.worker.cli:jobs",
    "payouts": "entrypoints.cli.payouts:payouts",
    "moderation": "entrypoints.cli.moderation:moderation",
}


class LazyGroup(click.Group):
    """A group whose commands in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        if cmd_name == "consensus" and isinstance(command, click.Group):
            from entrypoints.cli.consensus_refit import refit_command

            command.add_command(refit_command)
        return command


class _CurrentStderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def logs_to_stderr() -> None:
    """Libraries' log records (Alembic's INFO lines, pgserver's …) go to stderr, warnings
    and worse only, so that stdout holds nothing but the command's output. ``dev``,
    ``serve`` and ``worker`` replace this with the JSON logs of ``configure_logging``."""
    root = logging.getLogger()
    if root.handlers:  # configured already (a test runner capturing logs): leave it
        return
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chorus")
def cli() -> None:
    """Chorus: voice clips, validation consensus, earnings and payouts."""
    logs_to_stderr()


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
    with database_for(settings, hold=True) as ready:
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

    logging.getLogger("alembic").setLevel(logging.INFO)
    with database_for(database_command_settings()) as ready:
        assert ready.database_url is not None
        asyncio.run(migrations.upgrade(ready.database_url.reveal(), revision))
    click.echo(f"Database upgraded to {revision}.")


@migrate.command("downgrade")
@click.argument("revision")
def migrate_downgrade(revision: str) -> None:
    """Revert the schema to REVISION (e.g. -1 or base)."""
    from adapters.postgres import migrate as migrations

    logging.getLogger("alembic").setLevel(logging.INFO)
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
    help="Role the profile gets in the running server's database.",
)
@click.option("--service", is_flag=True, help="Mint a service_role token instead.")
@click.option("--ttl-hours", type=click.IntRange(1, 720), default=24, show_default=True)
@click.pass_context
def token(
    ctx: click.Context, subject: UUID | None, role: str, service: bool, ttl_hours: int
) -> None:
    """Mint a development JWT (refused unless dev auth is configured).

    The profile's role is set in the database the server uses: DATABASE_URL, or the
    embedded PostgreSQL running in CHORUS_DATA_DIR. Nothing is started: when no such
    database runs, --role is refused (exit 2) and a plain token is minted as is (the
    profile is created as a member on its first request)."""
    from adapters.auth.dev_tokens import mint_token
    from adapters.system import RandomIdGenerator, SystemClock

    settings = load_or_exit(development_environment(DEV_ONLY))
    if not settings.dev_auth_enabled or settings.supabase_jwt_secret is None:
        raise click.UsageError(
            "Dev auth is not configured (CHORUS_ENV=development, no SUPABASE_JWT_SECRET)."
        )
    profile_id = subject or RandomIdGenerator().new_id()
    if not service:
        role_asked = ctx.get_parameter_source("role") is not ParameterSource.DEFAULT
        try:
            with database_for(settings, start=False) as ready:
                asyncio.run(_assign_role(ready, profile_id, role))
        except NoRunningDatabase as error:
            if role_asked:
                raise click.UsageError(
                    f"{error.message} The role was not set and no token was minted."
                ) from None
            click.echo(
                f"{error.message} The token is minted anyway: its profile is created as a "
                "member on its first request.",
                err=True,
            )
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
    """``SetMemberRole`` on the Postgres unit of work alone (the container would import
    every adapter). Runs no migrations: the database is the server's, already migrated."""
    from adapters.postgres.engine import create_engine
    from adapters.postgres.errors import storage_errors
    from adapters.postgres.schema_version import has_table
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from adapters.system import RandomIdGenerator, SystemClock
    from core.domain.identity import Principal, Role
    from core.errors import DomainError
    from core.ports.unit_of_work import UnitOfWork
    from core.use_cases.profiles import SetMemberRole

    assert settings.database_url is not None
    engine = create_engine(settings.database_url.reveal(), pool_size=1, max_overflow=0)
    try:
        async with storage_errors():
            migrated = await has_table(engine, "profiles")
        if not migrated:
            click.echo(
                "The database has no Chorus schema yet: run `chorus migrate upgrade` "
                "(`chorus dev` does at start). The role was not set.",
                err=True,
            )
            sys.exit(1)

        def unit_of_work() -> UnitOfWork:
            # As the container wires it (its attributes are the Postgres repositories).
            return cast("UnitOfWork", PostgresUnitOfWork(engine))

        set_role = SetMemberRole(
            uow_factory=unit_of_work,
            clock=SystemClock(),
            ids=RandomIdGenerator(),
        )
        service = Principal(profile=None, is_service=True)
        await set_role(service, profile_id, Role(role))
    except DomainError as error:
        click.echo(f"The role was not set: {error.message} ({error.code})", err=True)
        sys.exit(1)
    finally:
        await engine.dispose()
    click.echo(f"Profile {profile_id} is {role}.", err=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
