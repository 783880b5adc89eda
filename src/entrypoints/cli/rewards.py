"""``chorus rewards``: operate rewards (added to the ``chorus`` group in ``cli/main.py``).

``chorus rewards release`` moves earnings whose holding period is over from pending to
available. It is idempotent and safe to run from several processes at once (each batch skips
earnings another process holds), so it can run from cron or a scheduler at any frequency.

Exit codes: 0 success, 1 failure while running (database unreachable, schema not current),
2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import json
import sys

import click

from core.domain.money import Money
from core.errors import DomainError
from core.use_cases.rewards import MAX_RELEASE_BATCH, ReleaseSummary
from entrypoints.cli.config import database_command_settings
from entrypoints.cli.database import database_for
from entrypoints.settings import Settings


@click.group()
def rewards() -> None:
    """Operate rewards: release matured earnings."""


@rewards.command("release")
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_RELEASE_BATCH),
    default=200,
    show_default=True,
    help="Earnings released per database transaction.",
)
@click.option(
    "--max-batches",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many batches [default: until nothing is due].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def release(batch_size: int, max_batches: int | None, as_json: bool) -> None:
    """Move earnings past their holding period (CHORUS_REWARD_HOLDING_HOURS, default 72)
    from pending to available. Earnings of clips hidden or removed by moderation are held
    back. Idempotent; several processes may run it at once."""
    settings = database_command_settings()
    with database_for(settings) as ready:
        try:
            summary = asyncio.run(_release(ready, batch_size, max_batches))
        except (DomainError, _NotMigrated) as error:
            click.echo(f"Release failed: {error}", err=True)
            sys.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "released": summary.released,
                    "batches": summary.batches,
                    "totalsMinor": dict(summary.totals),
                }
            )
        )
        return
    totals = ", ".join(str(Money(minor, cur)) for cur, minor in sorted(summary.totals.items()))
    click.echo(
        f"Released {summary.released} earning(s) in {summary.batches} batch(es)"
        + (f": {totals}." if totals else ".")
    )


class _NotMigrated(Exception):
    pass


async def _release(settings: Settings, batch_size: int, max_batches: int | None) -> ReleaseSummary:
    from dataclasses import replace

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
        use_case = replace(container.release_earnings(), batch_size=batch_size)
        return await use_case(max_batches=max_batches)
    finally:
        await container.engine().dispose()
