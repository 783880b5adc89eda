"""Background work, as ports: the outbox seen as a job queue, the shared schedule of periodic
tasks, and the shapes of event handlers and periodic tasks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.jobs import (
    ClaimedJob,
    JobOutcome,
    JobRecord,
    JobStatus,
    LeaseRecovery,
    ScheduledTaskRecord,
)


class EventHandler(Protocol):
    """Reacts to one committed domain event. Must be idempotent: an event is handled at least
    once (again after a worker died mid-job, or after a later handler of the same job failed
    before this one's success was recorded). Raise ``PermanentFailure`` when retrying cannot
    help; any other exception means "retry later"."""

    async def __call__(self, event: DomainEvent) -> None: ...


class PeriodicTask(Protocol):
    """Work run every so often by one worker at a time; returns a summary for the logs."""

    async def __call__(self) -> object: ...


class OutboxQueue(Protocol):
    """The ``outbox`` table as the worker's job queue. Every method runs in its own short
    transaction; no lock is held while handlers run."""

    async def claim(
        self, *, now: datetime, limit: int, lease_until: datetime, worker: str
    ) -> list[ClaimedJob]:
        """Up to ``limit`` pending jobs due at ``now``, oldest first, marked ``running`` until
        ``lease_until`` with their attempt counted. Concurrent claimers never get the same
        job (``FOR UPDATE SKIP LOCKED``)."""
        ...

    async def settle(self, outcomes: Sequence[JobOutcome], *, now: datetime) -> int:
        """Record outcomes in one transaction; returns how many were recorded. An outcome
        whose job has been claimed again since (its lease ran out) is ignored."""
        ...

    async def release(self, jobs: Sequence[ClaimedJob], *, now: datetime) -> None:
        """Hand back claimed jobs this worker will not finish (shutdown): pending again at
        once, the attempt not counted."""
        ...

    async def recover_expired(self, *, now: datetime, max_attempts: int) -> LeaseRecovery:
        """Jobs still ``running`` after their lease (their worker died): pending again, or
        ``dead`` when they already had ``max_attempts`` attempts."""
        ...

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` jobs ``done`` before ``finished_before``; returns how many."""
        ...


class OutboxAdmin(Protocol):
    """What operators see and do (``chorus jobs``)."""

    async def list_jobs(
        self, *, statuses: Collection[JobStatus], failing_only: bool, name: str | None, limit: int
    ) -> list[JobRecord]:
        """Newest first. ``failing_only``: only jobs with a recorded error."""
        ...

    async def get_job(self, job_id: UUID) -> JobRecord | None: ...

    async def requeue(self, job_id: UUID, *, now: datetime) -> JobRecord | None:
        """Make a ``dead`` or ``pending`` job due now with a fresh set of attempts; ``None``
        when there is no such job or it is ``running`` or ``done``."""
        ...

    async def count_by_status(self) -> Mapping[JobStatus, int]: ...

    async def oldest_pending(self, *, now: datetime) -> datetime | None:
        """The earliest ``available_at`` of the pending jobs due at ``now`` (how far the
        queue lags behind), ``None`` when none is due."""
        ...


class TaskSchedule(Protocol):
    """One shared row per periodic task (``scheduled_tasks``): whichever worker claims a due
    task runs it; the others skip it."""

    async def register(self, intervals: Mapping[str, timedelta], *, now: datetime) -> None:
        """Make sure every task has a row (new ones are due at once) and its interval is the
        code's; a shorter interval takes effect at once."""
        ...

    async def claim_due(
        self, names: Collection[str], *, now: datetime, lease_until: datetime, worker: str
    ) -> list[str]:
        """Those of ``names`` that are due and not leased, now leased to ``worker``."""
        ...

    async def finish(
        self, name: str, *, worker: str, now: datetime, next_run_at: datetime, error: str | None
    ) -> None:
        """Record a run and when the task is due next (only if ``worker`` still holds it)."""
        ...

    async def list_tasks(self) -> list[ScheduledTaskRecord]: ...
