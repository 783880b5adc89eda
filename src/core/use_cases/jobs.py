"""Background work: dispatching outbox jobs to event handlers, running periodic tasks, and
the operators' view of both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from core.domain.jobs import (
    ClaimedJob,
    JobOutcome,
    JobRecord,
    JobStatus,
    LeaseRecovery,
    ScheduledTaskRecord,
    TaskRun,
    after_failure,
    check_task_name,
    describe_error,
)
from core.domain.notifications import BackoffPolicy, RandomSource
from core.errors import Conflict, InvalidInput, NotFound
from core.ports.clock import Clock
from core.ports.jobs import EventHandler, OutboxAdmin, OutboxQueue, PeriodicTask, TaskSchedule

Timer = Callable[[], float]
"""Monotonic seconds (``time.perf_counter``), for durations in metrics only."""


class EventHandlers:
    """Which handlers run for which event name, in registration order. Each handler has a
    stable ``key`` (``notifications``, ``analytics``): a job remembers the keys that succeeded,
    so a retry runs only the handlers that have not."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[str, EventHandler]]] = {}

    def register(self, event_name: str, key: str, handler: EventHandler) -> None:
        handlers = self._handlers.setdefault(event_name, [])
        if any(existing == key for existing, _ in handlers):
            raise ValueError(f"handler {key!r} is already registered for {event_name!r}")
        handlers.append((key, handler))

    def for_event(self, event_name: str) -> tuple[tuple[str, EventHandler], ...]:
        return tuple(self._handlers.get(event_name, ()))

    @property
    def event_names(self) -> frozenset[str]:
        return frozenset(self._handlers)


@dataclass(frozen=True, slots=True)
class RegisteredTask:
    name: str
    every: timedelta
    task: PeriodicTask


class PeriodicTasks:
    """Periodic tasks by name. A task runs every ``every`` on one worker at a time, whichever
    claims it first; a run that fails is logged and tried again at the next interval."""

    def __init__(self) -> None:
        self._tasks: dict[str, RegisteredTask] = {}

    def register(self, name: str, every: timedelta, task: PeriodicTask) -> None:
        check_task_name(name)
        if every <= timedelta(0):
            raise ValueError("a periodic task needs a positive interval")
        if name in self._tasks:
            raise ValueError(f"task {name!r} is already registered")
        self._tasks[name] = RegisteredTask(name, every, task)

    def get(self, name: str) -> RegisteredTask:
        return self._tasks[name]

    @property
    def intervals(self) -> dict[str, timedelta]:
        return {name: task.every for name, task in self._tasks.items()}

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._tasks)


@dataclass(frozen=True, slots=True)
class DispatchOutbox:
    """Claim one batch of due outbox jobs and run them.

    Rules: a batch is claimed in one short transaction (``running`` under a lease, attempt
    counted) and settled in another; no database lock is held while handlers run. Jobs of a
    batch run concurrently, at most ``concurrency`` at a time; each job runs its handlers in
    order, skipping those that succeeded in an earlier attempt, each within
    ``handler_timeout`` (default: half the lease, so a live worker never outlives its lease).
    A job without handlers is simply done. A failure retries the job after an exponential,
    jittered delay (honouring ``Retry-After``) until ``policy.max_attempts``, then it is
    ``dead``; ``PermanentFailure`` makes it ``dead`` at once. If the batch is cancelled
    (shutdown), finished jobs are settled and unfinished ones handed back uncounted."""

    queue: OutboxQueue
    handlers: EventHandlers
    clock: Clock
    policy: BackoffPolicy
    random: RandomSource
    worker: str
    batch_size: int = 100
    concurrency: int = 10
    lease: timedelta = timedelta(minutes=5)
    handler_timeout: timedelta | None = None
    timer: Timer = time.perf_counter

    async def __call__(self) -> list[JobOutcome]:
        now = self.clock.now()
        jobs = await self.queue.claim(
            now=now, limit=self.batch_size, lease_until=now + self.lease, worker=self.worker
        )
        if not jobs:
            return []
        finished: dict[UUID, JobOutcome] = {}
        gate = asyncio.Semaphore(max(1, self.concurrency))

        async def run(job: ClaimedJob) -> None:
            async with gate:
                finished[job.id] = await self._run(job)

        try:
            await asyncio.gather(*(run(job) for job in jobs))
        except asyncio.CancelledError:
            await self._give_back(jobs, finished)
            raise
        outcomes = [finished[job.id] for job in jobs]
        await self.queue.settle(outcomes, now=self.clock.now())
        return outcomes

    async def _run(self, job: ClaimedJob) -> JobOutcome:
        started = self.timer()
        done = set(job.handled_by)
        timeout = (self.handler_timeout or self.lease / 2).total_seconds()
        event = job.as_event()
        for key, handler in self.handlers.for_event(job.name):
            if key in done:
                continue
            handler_started = self.timer()
            try:
                await asyncio.wait_for(handler(event), timeout=timeout)
            except Exception as error:
                if isinstance(error, TimeoutError) and self.timer() - handler_started >= timeout:
                    error = TimeoutError(f"handler {key!r} took longer than {timeout:g} s")
                return after_failure(
                    job,
                    error,
                    handled_by=frozenset(done),
                    now=self.clock.now(),
                    policy=self.policy,
                    random=self.random,
                    duration_seconds=self.timer() - started,
                )
            done.add(key)
        return JobOutcome(
            job, JobStatus.DONE, frozenset(done), duration_seconds=self.timer() - started
        )

    async def _give_back(self, jobs: list[ClaimedJob], finished: Mapping[UUID, JobOutcome]) -> None:
        now = self.clock.now()
        await self.queue.settle(list(finished.values()), now=now)
        await self.queue.release([job for job in jobs if job.id not in finished], now=now)


@dataclass(frozen=True, slots=True)
class RunDueTasks:
    """Run the periodic tasks that are due and that no other worker is running.

    Rules: due tasks are leased to this worker in one short transaction (``SKIP LOCKED``), run
    concurrently, each within the lease, and then scheduled ``every`` after the run started
    (after it finished, if it overran its interval). A failed run is recorded (``last_error``)
    and waits for the next interval like a successful one."""

    schedule: TaskSchedule
    tasks: PeriodicTasks
    clock: Clock
    worker: str
    lease: timedelta = timedelta(minutes=5)
    timer: Timer = time.perf_counter

    async def register(self) -> None:
        """Create the shared rows of this worker's tasks (call once at start)."""
        await self.schedule.register(self.tasks.intervals, now=self.clock.now())

    async def __call__(self) -> list[TaskRun]:
        now = self.clock.now()
        due = await self.schedule.claim_due(
            self.tasks.names, now=now, lease_until=now + self.lease, worker=self.worker
        )
        return list(await asyncio.gather(*(self._run(name) for name in due)))

    async def _run(self, name: str) -> TaskRun:
        registered = self.tasks.get(name)
        started_at, started = self.clock.now(), self.timer()
        error: str | None = None
        result: object = None
        try:
            result = await asyncio.wait_for(
                registered.task(), timeout=(self.lease * 0.9).total_seconds()
            )
        except asyncio.CancelledError:
            await self._finish(name, registered.every, started_at, "interrupted by shutdown")
            raise
        except Exception as failure:
            error = describe_error(failure)
        await self._finish(name, registered.every, started_at, error)
        return TaskRun(name, error, result, self.timer() - started)

    async def _finish(
        self, name: str, every: timedelta, started_at: datetime, error: str | None
    ) -> None:
        now = self.clock.now()
        await self.schedule.finish(
            name,
            worker=self.worker,
            now=now,
            next_run_at=max(started_at + every, now),
            error=error,
        )


@dataclass(frozen=True, slots=True)
class RecoverExpiredLeases:
    """Periodic: jobs whose worker died (lease over, still ``running``) become pending again,
    or ``dead`` if that was their last allowed attempt (a job that kills its worker every
    time must not loop forever)."""

    queue: OutboxQueue
    clock: Clock
    max_attempts: int

    async def __call__(self) -> LeaseRecovery:
        return await self.queue.recover_expired(
            now=self.clock.now(), max_attempts=self.max_attempts
        )


@dataclass(frozen=True, slots=True)
class PruneOutbox:
    """Periodic: delete jobs ``done`` more than ``retention`` ago, at most ``batch`` per run.
    Dead jobs are kept for operators."""

    queue: OutboxQueue
    clock: Clock
    retention: timedelta = timedelta(days=7)
    batch: int = 10_000

    async def __call__(self) -> int:
        return await self.queue.prune(
            finished_before=self.clock.now() - self.retention, limit=self.batch
        )


# -- operators ---------------------------------------------------------------------------------

MAX_LISTED_JOBS = 1000


@dataclass(frozen=True, slots=True)
class JobFilter:
    """``failing`` means pending again after a failed attempt; ``dead`` gave up."""

    statuses: frozenset[JobStatus] = frozenset({JobStatus.DEAD})
    failing_only: bool = False
    name: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class JobOverview:
    counts: Mapping[JobStatus, int]
    jobs: list[JobRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ListJobs:
    """Jobs for operators, newest first, with the count per status."""

    admin: OutboxAdmin

    async def __call__(self, query: JobFilter) -> JobOverview:
        if not 1 <= query.limit <= MAX_LISTED_JOBS:
            raise InvalidInput(f"limit must be 1..{MAX_LISTED_JOBS}.", code="invalid_limit")
        jobs = await self.admin.list_jobs(
            statuses=query.statuses,
            failing_only=query.failing_only,
            name=query.name,
            limit=query.limit,
        )
        return JobOverview(await self.admin.count_by_status(), jobs)


@dataclass(frozen=True, slots=True)
class RetryJob:
    """An operator sends a dead (or failing) job back to the queue: due now, with a full set
    of attempts. Handlers that already succeeded for it are still skipped. Running and done
    jobs cannot be retried."""

    admin: OutboxAdmin
    clock: Clock

    async def __call__(self, job_id: UUID) -> JobRecord:
        retried = await self.admin.requeue(job_id, now=self.clock.now())
        if retried is not None:
            return retried
        existing = await self.admin.get_job(job_id)
        if existing is None:
            raise NotFound(f"No job {job_id}.", code="job_not_found")
        raise Conflict(
            f"Job {job_id} is {existing.status.value}; only dead or pending jobs can be retried.",
            code="job_not_retryable",
        )


@dataclass(frozen=True, slots=True)
class ListScheduledTasks:
    """The shared state of every periodic task (last run, next run, last error)."""

    schedule: TaskSchedule

    async def __call__(self) -> list[ScheduledTaskRecord]:
        return await self.schedule.list_tasks()
