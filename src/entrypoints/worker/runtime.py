"""The worker process: three loops on one event loop — outbox dispatch, push sending and the
periodic-task scheduler — with graceful shutdown.

Shutdown (SIGTERM/SIGINT, or ``stop()``): no new work is claimed; each loop finishes what it
holds (a claimed outbox batch, an in-flight push chunk, a running task) within
``CHORUS_WORKER_SHUTDOWN_SECONDS``; past that the loops are cancelled, finished jobs are
settled and unfinished ones handed back uncounted. A second signal cancels at once. Then the
analytics queue is flushed (bounded), and the HTTP session and database pool are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog

from core.domain.jobs import JobStatus
from core.errors import StorageUnavailable
from core.use_cases.jobs import DispatchOutbox, EventHandlers, PeriodicTasks, RunDueTasks
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.worker.metrics import WorkerMetrics
from entrypoints.worker.registry import build_event_handlers, build_periodic_tasks

log = structlog.get_logger("chorus.worker")

QUEUE_STATS_EVERY_SECONDS = 15.0
MAX_ERROR_PAUSE_SECONDS = 30.0
# While the database is away a loop retries at most this far apart, so work resumes within
# about this long of its return; a refused connection costs next to nothing.
MAX_OUTAGE_PAUSE_SECONDS = 2.0


class Worker:
    """One ``chorus worker`` process. Several may run against one database: outbox jobs and
    push deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and periodic tasks are leased
    through their shared row, so no job runs twice at the same time."""

    def __init__(
        self,
        container: Container,
        settings: Settings,
        *,
        handlers: EventHandlers | None = None,
        tasks: PeriodicTasks | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.container = container
        self.settings = settings
        self.metrics = metrics or WorkerMetrics()
        self.worker_id: str = container.worker_id()
        config = settings.worker
        lease = timedelta(seconds=config.lease_seconds)
        self.handlers = handlers if handlers is not None else build_event_handlers(container)
        self.tasks = tasks if tasks is not None else build_periodic_tasks(container, settings)
        self._dispatch = DispatchOutbox(
            queue=container.outbox_queue(),
            handlers=self.handlers,
            clock=container.clock(),
            policy=container.backoff(),
            random=container.jitter(),
            worker=self.worker_id,
            batch_size=config.batch_size,
            concurrency=config.concurrency,
            lease=lease,
        )
        self._send_pushes = container.send_queued_pushes()
        self._run_tasks = RunDueTasks(
            schedule=container.task_schedule(),
            tasks=self.tasks,
            clock=container.clock(),
            worker=self.worker_id,
            lease=lease,
        )
        self._poll = config.poll_seconds
        self._tick = min(config.poll_seconds, 1.0)
        self._stopping = asyncio.Event()
        self._forced = asyncio.Event()
        self._last_stats = 0.0

    # -- lifecycle -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish what is claimed and stop; a second call stops at once."""
        if self._stopping.is_set():
            self._forced.set()
            return
        log.info("worker_stopping", worker=self.worker_id)
        self._stopping.set()

    async def run(self) -> None:
        """Run until ``stop()``."""
        await self._run_tasks.register()
        log.info(
            "worker_started",
            worker=self.worker_id,
            events=sorted(self.handlers.event_names),
            tasks=sorted(self.tasks.names),
            push_sender=self.settings.push_sender,
        )
        loops = [
            asyncio.create_task(self._loop("outbox", self._outbox_once, self._poll)),
            asyncio.create_task(self._loop("push", self._push_once, self._poll)),
            asyncio.create_task(self._loop("tasks", self._tasks_once, self._tick)),
        ]
        all_loops = asyncio.ensure_future(asyncio.gather(*loops, return_exceptions=True))
        await self._stopping.wait()
        forced = asyncio.ensure_future(self._forced.wait())
        grace = self.settings.worker.shutdown_seconds
        waiting: list[asyncio.Future[Any]] = [all_loops, forced]
        await asyncio.wait(waiting, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        leftovers = [loop for loop in loops if not loop.done()]
        if leftovers:
            log.warning("worker_shutdown_cancelling", worker=self.worker_id, loops=len(leftovers))
        for loop in leftovers:
            loop.cancel()
        forced.cancel()
        await all_loops
        await asyncio.gather(forced, return_exceptions=True)
        log.info("worker_stopped", worker=self.worker_id)

    async def close(self) -> None:
        """Flush analytics (bounded), close the push and payout clients and the database
        pool."""
        await asyncio.to_thread(self.container.analytics().shutdown)
        self.container.push_sender().close()
        await self.container.payout_gateways().aclose()
        await self.container.engine().dispose()

    # -- the loops -----------------------------------------------------------------------------

    async def _loop(self, name: str, once: Callable[[], Awaitable[bool]], idle: float) -> None:
        failures = 0
        while not self._stopping.is_set():
            pause = idle
            try:
                busy = await once()
                failures = 0
            except StorageUnavailable as error:
                failures += 1
                busy = False
                pause = min(idle * 2**failures, MAX_OUTAGE_PAUSE_SECONDS)
                log.warning("database_unavailable", loop=name, error=repr(error.__cause__))
            except Exception:
                failures += 1
                busy = False
                pause = min(idle * 2**failures, MAX_ERROR_PAUSE_SECONDS)
                self.metrics.loop_errors.labels(name).inc()
                log.exception("worker_loop_error", loop=name)
            if not busy:
                await self._sleep(pause)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _outbox_once(self) -> bool:
        started = time.perf_counter()
        outcomes = await self._dispatch()
        if not outcomes:
            return False
        self.metrics.record_jobs(outcomes)
        counts = dict.fromkeys((JobStatus.DONE, JobStatus.PENDING, JobStatus.DEAD), 0)
        for outcome in outcomes:
            counts[outcome.status] += 1
            if outcome.status is JobStatus.PENDING:
                log.warning(
                    "job_retry",
                    job_id=str(outcome.job.id),
                    event=outcome.job.name,
                    attempt=outcome.job.attempts,
                    retry_at=outcome.retry_at.isoformat() if outcome.retry_at else None,
                    error=outcome.error,
                )
            elif outcome.status is JobStatus.DEAD:
                log.error(
                    "job_dead",
                    job_id=str(outcome.job.id),
                    event=outcome.job.name,
                    attempt=outcome.job.attempts,
                    error=outcome.error,
                )
        log.info(
            "outbox_batch",
            claimed=len(outcomes),
            done=counts[JobStatus.DONE],
            retried=counts[JobStatus.PENDING],
            dead=counts[JobStatus.DEAD],
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return True

    async def _push_once(self) -> bool:
        report = await self._send_pushes()
        if report.claimed == 0:
            return False
        self.metrics.record_push(report)
        event = log.warning if report.error else log.info
        event(
            "push_chunk",
            claimed=report.claimed,
            sent=report.sent,
            failed=report.failed,
            retried=report.retried,
            uncertain=report.uncertain,
            deactivated=report.deactivated,
            error=report.error,
        )
        return True

    async def _tasks_once(self) -> bool:
        for run in await self._run_tasks():
            self.metrics.record_task(run)
            if run.ok:
                # Runs that found nothing to do are only interesting when debugging.
                (log.debug if _idle(run.result) else log.info)(
                    "task_run",
                    task=run.name,
                    result=_loggable(run.result),
                    duration_ms=round(run.duration_seconds * 1000, 1),
                )
            else:
                log.error("task_failed", task=run.name, error=run.error)
        if time.monotonic() - self._last_stats >= QUEUE_STATS_EVERY_SECONDS:
            self._last_stats = time.monotonic()
            await self._queue_stats()
        return False

    async def _queue_stats(self) -> None:
        admin = self.container.outbox_queue()
        now = self.container.clock().now()
        self.metrics.record_queue(
            await admin.count_by_status(), await admin.oldest_pending(now=now), now
        )
        analytics = self.container.analytics()
        dropped = getattr(analytics, "dropped_events", 0) + getattr(analytics, "failed_events", 0)
        self.metrics.analytics_dropped.set(dropped)


def _loggable(result: object) -> object:
    if result is None or isinstance(result, int | float | str):
        return result
    fields = getattr(result, "__dataclass_fields__", None)
    if fields:
        return {name: getattr(result, name) for name in fields}
    return repr(result)


def _idle(result: object) -> bool:
    if result is None or isinstance(result, int | float):
        return not result
    fields = getattr(result, "__dataclass_fields__", None) or {}
    return bool(fields) and not any(getattr(result, name) for name in fields)
