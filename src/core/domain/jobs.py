"""Background jobs: outbox rows handed to event handlers, what happens after a failed attempt
(retry with exponential backoff and jitter, or the dead-letter state), and periodic tasks.

A job is one outbox row, i.e. one committed domain event. The worker claims it under a lease
(``running`` until the lease ends), runs every handler registered for its name, and settles
it: ``done``, back to ``pending`` with a later ``available_at`` (retry), or ``dead`` (kept for
operators). Handlers must be idempotent: a worker that dies mid-job leaves the row
``running`` until its lease ends, and then the job runs again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.notifications import BackoffPolicy, RandomSource
from core.errors import DomainError

MAX_ERROR_LENGTH = 2000
"""Stored error texts are cut to this many characters."""


class JobStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"  # waiting for ``available_at`` (new, or retrying after a failure)
    RUNNING = "running"  # claimed by a worker until ``locked_until``
    DONE = "done"
    DEAD = "dead"  # gave up: needs an operator (``chorus jobs retry``)


class PermanentFailure(DomainError):
    """Raised by a handler when retrying cannot help (a malformed payload, say): the job goes
    to the dead-letter state at once instead of after every retry."""

    code = "permanent_failure"


def named_member(payload: Mapping[str, Any], *keys: str) -> UUID:
    """The profile id under the first of ``keys`` that holds a string; ``PermanentFailure``
    (``malformed_event``) when it is missing or not a UUID: retrying cannot fix a payload."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError:
                break
    raise PermanentFailure(
        f"The event names no member ({' or '.join(keys)}).", code="malformed_event"
    )


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """An outbox row claimed by one worker. ``attempts`` counts this attempt too and fences
    the claim: settling a job whose row has been claimed again since is ignored.
    ``handled_by`` holds the keys of the handlers that succeeded in earlier attempts."""

    id: UUID
    name: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    attempts: int
    handled_by: frozenset[str] = frozenset()

    def as_event(self) -> DomainEvent:
        return DomainEvent(
            id=self.id, name=self.name, occurred_at=self.occurred_at, payload=self.payload
        )


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How one attempt ended. ``status`` is ``DONE``, ``PENDING`` (retry at ``retry_at``) or
    ``DEAD``; ``handled_by`` is what to remember for the next attempt."""

    job: ClaimedJob
    status: JobStatus
    handled_by: frozenset[str]
    error: str | None = None
    retry_at: datetime | None = None
    duration_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status is JobStatus.RUNNING:
            raise ValueError("an outcome settles the job")
        if (self.status is JobStatus.PENDING) != (self.retry_at is not None):
            raise ValueError("retry_at is set exactly when the job is retried")


def describe_error(error: BaseException) -> str:
    """``Type: first line of the message``, cut to ``MAX_ERROR_LENGTH``: what operators see as
    ``last_error`` and in the logs. Later lines are left out — driver errors list the SQL
    statement and its parameters there."""
    message = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:MAX_ERROR_LENGTH]


def retry_after_hint(error: BaseException) -> float | None:
    """Seconds a failing service asked us to wait (``Retry-After``), if the error carries it
    (``DomainError.extra["retry_after_seconds"]``)."""
    if isinstance(error, DomainError):
        hint = error.extra.get("retry_after_seconds")
        if isinstance(hint, int | float) and not isinstance(hint, bool) and hint >= 0:
            return float(hint)
    return None


def after_failure(
    job: ClaimedJob,
    error: BaseException,
    *,
    handled_by: frozenset[str],
    now: datetime,
    policy: BackoffPolicy,
    random: RandomSource,
    duration_seconds: float = 0.0,
) -> JobOutcome:
    """The outcome of a failed attempt: dead at once for ``PermanentFailure``, dead when
    ``policy`` allows no more attempts, otherwise pending again after a jittered exponential
    delay (never shorter than the service's ``Retry-After``)."""
    text = describe_error(error)
    if isinstance(error, PermanentFailure) or not policy.should_retry(job.attempts):
        return JobOutcome(job, JobStatus.DEAD, handled_by, text, None, duration_seconds)
    delay = policy.delay(job.attempts, random, at_least=retry_after_hint(error))
    retry_at = now + timedelta(seconds=delay)
    return JobOutcome(job, JobStatus.PENDING, handled_by, text, retry_at, duration_seconds)


@dataclass(frozen=True, slots=True)
class JobRecord:
    """An outbox row as operators see it (``chorus jobs list``)."""

    id: UUID
    name: str
    status: JobStatus
    attempts: int
    occurred_at: datetime
    available_at: datetime
    created_at: datetime
    last_error: str | None
    locked_by: str | None
    locked_until: datetime | None
    finished_at: datetime | None
    handled_by: tuple[str, ...]
    payload: Mapping[str, Any]

    @property
    def is_failing(self) -> bool:
        """Pending again after at least one failed attempt."""
        return self.status is JobStatus.PENDING and self.last_error is not None


@dataclass(frozen=True, slots=True)
class LeaseRecovery:
    """What the lease reaper did: jobs handed back to ``pending`` and jobs that were already
    out of attempts (their worker died on every try) moved to ``dead``."""

    requeued: int = 0
    buried: int = 0


TASK_NAME_MAX_LENGTH = 100


def check_task_name(name: str) -> str:
    """Periodic task names are dotted lowercase words (``push.check_receipts``)."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    if not name or len(name) > TASK_NAME_MAX_LENGTH or not set(name) <= allowed:
        raise ValueError(f"{name!r} is not a task name (lowercase letters, digits, '._-')")
    return name


@dataclass(frozen=True, slots=True)
class ScheduledTaskRecord:
    """A periodic task's shared state (one row per task name, whichever worker runs it)."""

    name: str
    interval: timedelta
    next_run_at: datetime
    locked_until: datetime | None
    locked_by: str | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_error: str | None
    run_count: int
    failure_count: int


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One run of a periodic task by this worker."""

    name: str
    error: str | None = None
    result: object = None
    duration_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None
