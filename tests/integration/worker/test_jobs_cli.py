"""``chorus jobs`` for operators, against the test database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.outbox_queue import PostgresOutboxQueue
from core.domain.jobs import JobOutcome, JobStatus
from entrypoints.cli.main import cli
from tests.integration.worker.support import add_events, scalar


async def test_operators_list_show_and_retry_dead_jobs(
    engine: AsyncEngine, database_url: str
) -> None:
    [dead_id, done_id] = await add_events(engine, [("payout.paid", {}), ("badge.awarded", {})])
    queue, now = PostgresOutboxQueue(engine), datetime.now(UTC)
    claimed = {
        job.id: job for job in await queue.claim(now=now, limit=2, lease_until=now, worker="w")
    }
    await queue.settle(
        [
            JobOutcome(claimed[dead_id], JobStatus.DEAD, frozenset(), "PermanentFailure: nope"),
            JobOutcome(claimed[done_id], JobStatus.DONE, frozenset()),
        ],
        now=now,
    )
    env = {"DATABASE_URL": database_url, "CHORUS_ENV": "test"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env=env)
        # Which database a command acts on goes to stderr; --json output alone to stdout.
        assert "Database: " in result.stderr
        structured = "--json" in args or args[:2] == ("jobs", "show")
        return result.exit_code, result.stdout if structured else result.output

    code, output = await asyncio.to_thread(run, "jobs", "list")
    assert code == 0, output
    assert str(dead_id) in output
    assert "PermanentFailure: nope" in output
    assert str(done_id) not in output
    assert "dead 1" in output

    code, output = await asyncio.to_thread(run, "jobs", "list", "--status", "all", "--json")
    assert code == 0, output
    listed = {json.loads(line)["id"]: json.loads(line) for line in output.splitlines()}
    assert listed[str(done_id)]["status"] == "done"

    code, output = await asyncio.to_thread(run, "jobs", "show", str(dead_id))
    assert code == 0, output
    assert json.loads(output)["lastError"] == "PermanentFailure: nope"

    code, output = await asyncio.to_thread(run, "jobs", "retry", str(done_id))
    assert code == 1
    assert "job_not_retryable" in output

    code, output = await asyncio.to_thread(run, "jobs", "retry", str(dead_id))
    assert code == 0, output
    assert "pending again" in output
    status = await scalar(engine, "SELECT status FROM outbox WHERE id = :id", id=dead_id)
    assert status == "pending"

    code, output = await asyncio.to_thread(run, "jobs", "tasks")
    assert code == 0, output
