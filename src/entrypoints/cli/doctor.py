"""``chorus doctor``: check the stored data's invariants (core/domain/invariants.py).

Read-only — one repeatable-read, read-only transaction; nothing is written or locked — so
operators run it on production: after an incident, a restore, a migration, from a cron job.

Exit codes: 0 every invariant holds, 1 an invariant is broken (the offending rows are
printed) or the check could not run (database unreachable, schema not current), 2 bad usage
or configuration.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import click

from core.domain.invariants import INVARIANTS, Finding, HealthReport
from core.errors import DomainError
from entrypoints.cli.config import database_command_settings
from entrypoints.cli.database import database_for
from entrypoints.settings import Settings

CODES = [invariant.code for invariant in INVARIANTS]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(CODES),
    help="Check only this invariant (repeatable) [default: all].",
)
@click.option(
    "--examples",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="Offending rows shown per broken invariant.",
)
@click.option(
    "--abandoned-after",
    type=click.IntRange(1, 7 * 24 * 3600),
    default=600,
    show_default=True,
    help="Seconds past its end before an unrecovered lease counts as abandoned.",
)
def doctor(as_json: bool, only: Sequence[str], examples: int, abandoned_after: int) -> None:
    """Check the invariants of the ledger, rewards, votes, tallies, outbox and push
    deliveries on the stored data. Read-only; safe on production. Exit 0 when every
    invariant holds, 1 with the offending rows otherwise."""
    settings = database_command_settings()
    with database_for(settings) as ready:
        try:
            report = asyncio.run(_check(ready, only, examples, timedelta(seconds=abandoned_after)))
        except DomainError as error:
            click.echo(f"The check could not run: {error.message} ({error.code})", err=True)
            sys.exit(1)
    click.echo(json.dumps(_as_json(report), indent=2) if as_json else _as_text(report))
    sys.exit(0 if report.healthy else 1)


async def _check(
    settings: Settings, only: Sequence[str], examples: int, abandoned_after: timedelta
) -> HealthReport:
    from adapters.postgres import migrate
    from adapters.postgres.errors import storage_errors
    from core.errors import FeatureUnavailable
    from entrypoints.container import Container

    container = Container(settings=settings)
    try:
        engine = container.engine()
        async with storage_errors():
            current = await migrate.current_revisions(engine)
        if current != migrate.head_revisions():
            raise FeatureUnavailable(
                f"the database schema is at {migrate.describe(current)}; "
                "run `chorus migrate upgrade` first",
                code="migrations_pending",
            )
        check = replace(container.check_invariants(), abandoned_after=abandoned_after)
        return await check(only, examples=examples)
    finally:
        await container.engine().dispose()


def _finding_json(finding: Finding) -> dict[str, object]:
    invariant = finding.invariant
    return {
        "code": invariant.code,
        "area": invariant.area,
        "rule": invariant.rule,
        "holds": finding.holds,
        "violations": finding.violations,
        "examples": [dict(example) for example in finding.examples],
    }


def _as_json(report: HealthReport) -> dict[str, object]:
    return {
        "healthy": report.healthy,
        "checkedAt": report.checked_at.isoformat(),
        "durationSeconds": round(report.duration_seconds, 3),
        "invariants": [_finding_json(finding) for finding in report.findings],
    }


def _as_text(report: HealthReport) -> str:
    width = max(len(finding.invariant.code) for finding in report.findings)
    lines = []
    for finding in report.findings:
        verdict = "ok" if finding.holds else f"BROKEN: {finding.violations} row(s)"
        lines.append(f"{finding.invariant.code:<{width}}  {finding.invariant.area:<8} {verdict}")
        if not finding.holds:
            lines.append(f"    {finding.invariant.rule}")
            lines.extend(
                "    " + "  ".join(f"{key}={value}" for key, value in example.items())
                for example in finding.examples
            )
            if finding.violations > len(finding.examples):
                lines.append(f"    … and {finding.violations - len(finding.examples)} more")
    broken = len(report.violated)
    lines.append(
        f"{len(report.findings)} invariant(s) checked in {report.duration_seconds:.2f} s: "
        + ("all hold." if not broken else f"{broken} broken.")
    )
    return "\n".join(lines)
