"""How many outbox jobs per second one ``chorus worker`` sustains (run by hand; not a test).

    .venv/bin/python bench/worker_throughput.py                      # embedded PostgreSQL
    .venv/bin/python bench/worker_throughput.py --handler notify     # real notification handler
    .venv/bin/python bench/worker_throughput.py --database-url postgresql://…  # another server

Commits ``--jobs`` events to the outbox up front, starts one in-process worker (the same
``Worker`` class ``chorus worker`` runs: claim with SKIP LOCKED → run handlers → settle) and
times until every job is ``done``. Handlers:

- ``noop``: the job machinery alone (claim, lease, settle) — the queue's ceiling;
- ``notify``: ``badge.awarded`` events through the real ``NotifyMember`` handler (one feed
  notification per job, preferences read, devices looked up; members have no devices, so no
  push goes out) and the analytics handler (no-op without POSTHOG_API_KEY).

The embedded server lives in a temporary directory and is removed afterwards; with
``--database-url`` a throwaway database is created on that server and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import sqlalchemy as sa  # noqa: E402
from tests.integration.database import throwaway_database  # noqa: E402

from adapters.postgres import migrate  # noqa: E402
from adapters.postgres.engine import create_engine  # noqa: E402
from adapters.postgres.outbox import write_events  # noqa: E402
from core.domain.events import DomainEvent  # noqa: E402
from core.domain.jobs import JobOutcome, JobStatus  # noqa: E402
from core.use_cases.jobs import DispatchOutbox, EventHandlers, PeriodicTasks  # noqa: E402
from entrypoints.container import Container  # noqa: E402
from entrypoints.settings import Environment, Secret, load_settings  # noqa: E402
from entrypoints.worker.runtime import Worker  # noqa: E402


async def _seed(url: str, jobs: int, handler: str) -> None:
    engine = create_engine(url, pool_size=2, max_overflow=0)
    now = datetime.now(UTC)
    try:
        members = [uuid.uuid4() for _ in range(min(jobs, 1000))]
        async with engine.begin() as connection:
            if handler == "notify":
                await connection.execute(
                    sa.text(
                        "INSERT INTO profiles (id, role, status, languages, created_at, "
                        "updated_at) VALUES (:id, 'member', 'active', '{}', :now, :now)"
                    ),
                    [{"id": member, "now": now} for member in members],
                )
            for start in range(0, jobs, 5000):
                events = [
                    DomainEvent(
                        uuid.uuid4(),
                        "badge.awarded" if handler == "notify" else "bench.noop",
                        now,
                        {"profileId": str(members[n % len(members)]), "badgeCode": f"b{n}"},
                    )
                    for n in range(start, min(start + 5000, jobs))
                ]
                await write_events(connection, events)
    finally:
        await engine.dispose()


async def _done(url: str) -> int:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text("SELECT count(*) FROM outbox WHERE status = 'done'")
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def _measure(url: str, args: argparse.Namespace) -> float:
    await migrate.upgrade(url)
    await _seed(url, args.jobs, args.handler)
    base = load_settings({}, environment=Environment.TEST)
    settings = replace(
        base,
        database_url=Secret(url),
        db_pool_size=args.concurrency + 5,
        log_level="WARNING",
        worker=replace(
            base.worker,
            batch_size=args.batch_size,
            concurrency=args.concurrency,
            poll_seconds=0.01,
        ),
    )
    from entrypoints.logging import configure_logging

    configure_logging("WARNING")
    container = Container(settings=settings)
    handlers = None
    if args.handler == "noop":
        handlers = EventHandlers()

        async def noop(event: DomainEvent) -> None:
            return None

        handlers.register("bench.noop", "noop", noop)
    worker = Worker(container, settings, handlers=handlers, tasks=PeriodicTasks())
    counting = _Counting(worker._dispatch, args.jobs)
    worker._dispatch = counting  # type: ignore[assignment]
    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    await counting.finished.wait()
    elapsed = time.perf_counter() - started
    worker.stop()
    await task
    await worker.close()
    assert await _done(url) == args.jobs
    return elapsed


class _Counting:
    """Wraps the worker's dispatcher to notice when the last job has been settled (outcomes
    come back after the settle transaction committed)."""

    def __init__(self, dispatch: DispatchOutbox, target: int) -> None:
        self.dispatch = dispatch
        self.target = target
        self.done = 0
        self.finished = asyncio.Event()

    async def __call__(self) -> list[JobOutcome]:
        outcomes = await self.dispatch()
        self.done += sum(1 for outcome in outcomes if outcome.status is JobStatus.DONE)
        if self.done >= self.target:
            self.finished.set()
        return outcomes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--handler", choices=["noop", "notify"], default="noop")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.database_url:
        os.environ["TEST_DATABASE_URL"] = args.database_url
    scratch = Path(tempfile.mkdtemp(prefix=f"chorus-bench-{secrets.token_hex(3)}-"))
    try:
        async with throwaway_database(scratch) as url:
            elapsed = await _measure(url, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rate = args.jobs / elapsed
    print(
        f"{args.jobs} jobs ({args.handler}) in {elapsed:.2f} s = {rate:,.0f} jobs/s "
        f"(one worker, batch {args.batch_size}, concurrency {args.concurrency})"
    )


if __name__ == "__main__":
    asyncio.run(main())
