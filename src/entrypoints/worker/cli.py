"""``chorus worker`` and ``chorus jobs`` (added to the ``chorus`` group in ``cli/main.py``)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import click

from core.domain.jobs import JobRecord, JobStatus, ScheduledTaskRecord
from core.errors import DomainError
from entrypoints.cli.config import database_command_settings
from entrypoints.cli.database import database_for
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.postgres.outbox_queue import PostgresOutboxQueue
    from core.use_cases.jobs import ListJobs, ListScheduledTasks, RetryJob

T = TypeVar("T")


# -- chorus worker ---------------------------------------------------------------------------


@click.command()
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics on http://HOST:PORT/metrics "
    "[default: CHORUS_WORKER_METRICS_PORT; 0 = off].",
)
@click.option(
    "--metrics-host", default=None, help="Interface for the metrics [default: CHORUS_HOST]."
)
def worker(metrics_port: int | None, metrics_host: str | None) -> None:
    """Run background work: outbox jobs (notifications, analytics, …), push sending and
    receipts, periodic tasks. Run as many as needed; SIGTERM finishes claimed work and stops."""
    from entrypoints.logging import configure_logging

    settings = database_command_settings()
    configure_logging(settings.log_level)
    port = settings.worker.metrics_port if metrics_port is None else metrics_port
    if settings.push_sender == "sandbox":
        click.echo(
            "Pushes: development sandbox sender — each push is logged (push_not_sent_sandbox) "
            "and never sent to Expo. Set EXPO_PUSH_ACCESS_TOKEN or CHORUS_EXPO_PUSH_URL to "
            "send for real.",
            err=True,
        )
    with database_for(settings, hold=True) as ready:
        status = asyncio.run(_run_worker(ready, port, metrics_host or settings.host))
    sys.exit(status)


async def _run_worker(settings: Settings, metrics_port: int, metrics_host: str) -> int:
    from prometheus_client import start_http_server

    from adapters.postgres import migrate
    from entrypoints.container import Container
    from entrypoints.worker.runtime import Worker

    assert settings.database_url is not None
    container = Container(settings=settings)
    if settings.is_development:
        await migrate.upgrade(settings.database_url.reveal())
    elif not await migrate.is_at_head(container.engine()):
        click.echo("The database schema is not current: run `chorus migrate upgrade`.", err=True)
        await container.engine().dispose()
        return 1
    runner = Worker(container, settings)
    server = None
    if metrics_port:
        server, _ = start_http_server(metrics_port, metrics_host, registry=runner.metrics.registry)
        click.echo(f"Worker metrics on http://{metrics_host}:{metrics_port}/metrics", err=True)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.stop)
    try:
        await runner.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.close()
        if server is not None:
            server.shutdown()
    return 0


# -- chorus jobs -----------------------------------------------------------------------------


@click.group()
def jobs() -> None:
    """Inspect and retry background jobs (the outbox) and periodic tasks."""


def _operate(action: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``action(container)`` against the configured database; domain errors exit 1."""
    from entrypoints.container import Container

    async def run(settings: Settings) -> T:
        container = Container(settings=settings)
        try:
            return await action(container)
        finally:
            await container.engine().dispose()

    return _on_database(run)


class _JobsAdmin:
    """What ``chorus jobs`` needs, wired from two adapters: the container imports every
    adapter (seconds of start-up) for commands that read a table or two."""

    def __init__(self, engine: AsyncEngine) -> None:
        from adapters.postgres.outbox_queue import PostgresOutboxQueue
        from adapters.postgres.scheduled_tasks import PostgresTaskSchedule

        self._queue = PostgresOutboxQueue(engine)
        self._schedule = PostgresTaskSchedule(engine)

    def outbox_queue(self) -> PostgresOutboxQueue:
        return self._queue

    def list_jobs(self) -> ListJobs:
        from core.use_cases.jobs import ListJobs

        return ListJobs(admin=self._queue)

    def retry_job(self) -> RetryJob:
        from adapters.system import SystemClock
        from core.use_cases.jobs import RetryJob

        return RetryJob(admin=self._queue, clock=SystemClock())

    def list_scheduled_tasks(self) -> ListScheduledTasks:
        from core.use_cases.jobs import ListScheduledTasks

        return ListScheduledTasks(schedule=self._schedule)


def _operate_jobs(action: Callable[[_JobsAdmin], Awaitable[T]]) -> T:
    """Run ``action(jobs_admin)`` against the configured database; domain errors exit 1."""
    from adapters.postgres.engine import create_engine

    async def run(settings: Settings) -> T:
        assert settings.database_url is not None
        engine = create_engine(settings.database_url.reveal(), pool_size=1, max_overflow=0)
        try:
            return await action(_JobsAdmin(engine))
        finally:
            await engine.dispose()

    return _on_database(run)


def _on_database(run: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    with database_for(database_command_settings()) as ready:
        try:
            return asyncio.run(run(ready))
        except DomainError as error:
            click.echo(f"{error.message} ({error.code})", err=True)
            sys.exit(1)


_STATUSES = ("dead", "failing", "pending", "running", "done", "all")


@jobs.command("list")
@click.option(
    "--status",
    "statuses",
    type=click.Choice(_STATUSES),
    multiple=True,
    help="dead, failing (pending again after an error), pending, running, done, all "
    "[default: dead and failing]. Repeat for several.",
)
@click.option("--name", default=None, help="Only jobs of this event name (clip.decided …).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def jobs_list(statuses: tuple[str, ...], name: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first, with the count per status."""
    from core.use_cases.jobs import JobFilter

    chosen = set(statuses or ("dead", "failing"))
    # Dead jobs always carry their last error, so "dead and failing" is one filter.
    failing_only = "failing" in chosen and chosen <= {"failing", "dead"}
    selected: set[JobStatus] = set()
    if "all" in chosen:
        selected = set(JobStatus)
    for status in chosen - {"all"}:
        selected.add(JobStatus.PENDING if status == "failing" else JobStatus(status))
    query = JobFilter(frozenset(selected), failing_only, name, limit)
    overview = _operate_jobs(lambda container: container.list_jobs()(query))
    if as_json:
        for job in overview.jobs:
            click.echo(json.dumps(_job_json(job), default=str))
        return
    counts = ", ".join(f"{status.value} {count}" for status, count in overview.counts.items())
    click.echo(f"outbox: {counts}")
    for job in overview.jobs:
        click.echo(_job_line(job))
    if not overview.jobs:
        click.echo("(no jobs)")


@jobs.command("show")
@click.argument("job_id", type=click.UUID)
def jobs_show(job_id: UUID) -> None:
    """Show one job: payload, attempts, last error."""

    async def get(container: Any) -> JobRecord | None:
        found: JobRecord | None = await container.outbox_queue().get_job(job_id)
        return found

    job = _operate_jobs(get)
    if job is None:
        click.echo(f"No job {job_id}.", err=True)
        sys.exit(1)
    click.echo(json.dumps(_job_json(job), default=str, indent=2))


@jobs.command("retry")
@click.argument("job_id", type=click.UUID)
def jobs_retry(job_id: UUID) -> None:
    """Send a dead (or failing) job back to the queue: due now, with fresh attempts."""
    job = _operate_jobs(lambda container: container.retry_job()(job_id))
    click.echo(f"Job {job.id} ({job.name}) is pending again.")


@jobs.command("tasks")
def jobs_tasks() -> None:
    """Periodic tasks: interval, last and next run, last error."""
    tasks = _operate_jobs(lambda container: container.list_scheduled_tasks()())
    for task in tasks:
        click.echo(_task_line(task))
    if not tasks:
        click.echo("(no periodic tasks yet: they are registered when a worker starts)")


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def _job_line(job: JobRecord) -> str:
    error = (job.last_error or "").replace("\n", " ")
    error = error[:80] + ("…" if len(error) > 80 else "")
    return (
        f"{job.id}  {job.status.value:<7}  attempts={job.attempts:<2}  {job.name:<22}  "
        f"due={_stamp(job.available_at)}  {error}"
    ).rstrip()


def _job_json(job: JobRecord) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "name": job.name,
        "status": job.status.value,
        "attempts": job.attempts,
        "occurredAt": _stamp(job.occurred_at),
        "availableAt": _stamp(job.available_at),
        "finishedAt": _stamp(job.finished_at),
        "lastError": job.last_error,
        "lockedBy": job.locked_by,
        "lockedUntil": _stamp(job.locked_until),
        "handledBy": list(job.handled_by),
        "payload": dict(job.payload),
    }


def _task_line(task: ScheduledTaskRecord) -> str:
    running = f"  running on {task.locked_by}" if task.locked_by else ""
    error = f"  last error: {task.last_error[:80]}" if task.last_error else ""
    return (
        f"{task.name:<24} every {task.interval.total_seconds():g}s  "
        f"last={_stamp(task.last_finished_at)}  next={_stamp(task.next_run_at)}  "
        f"runs={task.run_count} failures={task.failure_count}{running}{error}"
    )
