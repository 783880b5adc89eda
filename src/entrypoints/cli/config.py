"""Settings for commands: validated, with one line per problem and exit code 2."""

from __future__ import annotations

import os
import sys

import click

from entrypoints.settings import Environment, Settings, SettingsError, load_settings


def load_or_exit(environment: Environment | None = None) -> Settings:
    try:
        return load_settings(environment=environment)
    except SettingsError as error:
        click.echo("Configuration is not valid:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)


def development_environment(refusal: str) -> Environment:
    """``CHORUS_ENV`` (default ``development``), refusing production with ``refusal``."""
    chosen = os.environ.get("CHORUS_ENV", "development")
    try:
        environment = Environment(chosen)
    except ValueError:
        raise click.UsageError(f"CHORUS_ENV={chosen!r} is not an environment.") from None
    if environment is Environment.PRODUCTION:
        raise click.UsageError(refusal)
    return environment


def database_command_settings() -> Settings:
    """Production settings when ``DATABASE_URL`` is set; otherwise development settings, and
    the command runs on the embedded database."""
    if "DATABASE_URL" in os.environ:
        return load_or_exit()
    return load_or_exit(development_environment("DATABASE_URL is required in production."))
