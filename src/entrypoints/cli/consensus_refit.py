"""``chorus consensus refit``: re-fit the consensus model now (the worker also runs it every
``CHORUS_CONSENSUS_REFIT_MINUTES``); see docs/consensus.md.

Exit codes: 0 success, 1 failure while running (database unreachable, schema not current),
2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

import click

from core.errors import DomainError
from core.use_cases.consensus_model import RefitSummary
from entrypoints.cli.config import database_command_settings
from entrypoints.cli.database import database_for
from entrypoints.settings import Settings


class _NotMigrated(Exception):
    pass


@click.command("refit")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def refit_command(as_json: bool) -> None:
    """Re-fit every validator's error rates and the crowd model by EM over the settled
    history, decide probation and publish members' standings. Safe beside running workers:
    what they learn meanwhile is kept."""
    settings = database_command_settings()
    with database_for(settings) as ready:
        try:
            summary = asyncio.run(_refit(ready))
        except (DomainError, _NotMigrated) as error:
            click.echo(f"Refit failed: {error}", err=True)
            sys.exit(1)
    if as_json:
        click.echo(json.dumps(asdict(summary)))
        return
    click.echo(
        f"Refitted {summary.validators} validator(s) over {summary.answers} answer(s) in "
        f"{summary.iterations} EM iteration(s): crowd sensitivity {summary.sensitivity:.3f}, "
        f"specificity {summary.specificity:.3f}, valid share {summary.valid_share:.3f}; "
        f"{summary.on_probation} on probation."
    )


async def _refit(settings: Settings) -> RefitSummary:
    from adapters.postgres import migrate
    from adapters.postgres.errors import storage_errors
    from entrypoints.container import Container

    container = Container(settings=settings)
    try:
        engine = container.engine()
        async with storage_errors():
            at_head = await migrate.is_at_head(engine)
        if not at_head:
            current = migrate.describe(await migrate.current_revisions(engine))
            raise _NotMigrated(
                f"the database schema is at {current}; run `chorus migrate upgrade` first"
            )
        return await container.refit_consensus_model()()
    finally:
        await container.engine().dispose()
