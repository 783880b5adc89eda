"""The ``outbox`` table as the worker's job queue: claimed with ``FOR UPDATE SKIP LOCKED`` under
a lease, settled in batches; each call is its own short transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.errors import storage_errors
from adapters.postgres.tables import outbox
from core.domain.jobs import (
    ClaimedJob,
    JobOutcome,
    JobRecord,
    JobStatus,
    LeaseRecovery,
)

_CLAIM = sa.text(
    """
    WITH picked AS (
        SELECT id FROM outbox
        WHERE status = 'pending' AND available_at <= :now
        ORDER BY available_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox o
    SET status = 'running', attempts = o.attempts + 1, locked_by = :worker,
        locked_until = :lease_until
    FROM picked
    WHERE o.id = picked.id
    RETURNING o.id, o.name, o.payload, o.occurred_at, o.attempts, o.handled_by
    """
)

# Done jobs are the hot path: one statement for the whole batch, fenced by attempt number.
_DONE = sa.text(
    """
    UPDATE outbox o
    SET status = 'done', locked_by = NULL, locked_until = NULL, finished_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS integer[])) AS v(id, attempts)
    WHERE o.id = v.id AND o.attempts = v.attempts AND o.status = 'running'
    """
)

_RELEASE = sa.text(
    """
    UPDATE outbox o
    SET status = 'pending', attempts = o.attempts - 1, available_at = :now,
        locked_by = NULL, locked_until = NULL
    FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS integer[])) AS v(id, attempts)
    WHERE o.id = v.id AND o.attempts = v.attempts AND o.status = 'running'
    """
)

_RECOVER = sa.text(
    """
    UPDATE outbox
    SET status = CASE WHEN attempts >= :max_attempts THEN 'dead' ELSE 'pending' END,
        finished_at = CASE WHEN attempts >= :max_attempts THEN CAST(:now AS timestamptz) END,
        available_at = :now,
        last_error = 'lease expired: worker ' || coalesce(locked_by, '?')
                     || ' stopped during attempt ' || attempts,
        locked_by = NULL, locked_until = NULL
    WHERE status = 'running' AND locked_until <= :now
    RETURNING status
    """
)

_SETTLE_ONE = (
    sa.update(outbox)
    .where(
        outbox.c.id == sa.bindparam("b_id"),
        outbox.c.attempts == sa.bindparam("b_attempts"),
        outbox.c.status == JobStatus.RUNNING.value,
    )
    .values(
        status=sa.bindparam("b_status"),
        available_at=sa.func.coalesce(
            sa.bindparam("b_retry_at", type_=outbox.c.available_at.type), outbox.c.available_at
        ),
        last_error=sa.bindparam("b_error"),
        handled_by=sa.bindparam("b_handled_by", type_=outbox.c.handled_by.type),
        finished_at=sa.bindparam("b_finished_at", type_=outbox.c.finished_at.type),
        locked_by=None,
        locked_until=None,
    )
)


def _to_record(row: sa.Row[Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        name=row.name,
        status=JobStatus(row.status),
        attempts=row.attempts,
        occurred_at=row.occurred_at,
        available_at=row.available_at,
        created_at=row.created_at,
        last_error=row.last_error,
        locked_by=row.locked_by,
        locked_until=row.locked_until,
        finished_at=row.finished_at,
        handled_by=tuple(row.handled_by or ()),
        payload=dict(row.payload),
    )


class PostgresOutboxQueue:
    """Implements ``core.ports.jobs.OutboxQueue`` and ``core.ports.jobs.OutboxAdmin``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- the worker ----------------------------------------------------------------------------

    async def claim(
        self, *, now: datetime, limit: int, lease_until: datetime, worker: str
    ) -> list[ClaimedJob]:
        parameters = {"now": now, "limit": limit, "worker": worker, "lease_until": lease_until}
        async with storage_errors(), self._engine.begin() as connection:
            rows = (await connection.execute(_CLAIM, parameters)).all()
        jobs = [
            ClaimedJob(
                id=row.id,
                name=row.name,
                payload=dict(row.payload),
                occurred_at=row.occurred_at,
                attempts=row.attempts,
                handled_by=frozenset(row.handled_by or ()),
            )
            for row in rows
        ]
        return sorted(jobs, key=lambda job: (job.occurred_at, str(job.id)))

    async def settle(self, outcomes: Sequence[JobOutcome], *, now: datetime) -> int:
        if not outcomes:
            return 0
        done = [outcome for outcome in outcomes if outcome.status is JobStatus.DONE]
        others = [
            {
                "b_id": outcome.job.id,
                "b_attempts": outcome.job.attempts,
                "b_status": outcome.status.value,
                "b_retry_at": outcome.retry_at,
                "b_error": outcome.error,
                "b_handled_by": sorted(outcome.handled_by),
                "b_finished_at": now if outcome.status is JobStatus.DEAD else None,
            }
            for outcome in outcomes
            if outcome.status is not JobStatus.DONE
        ]
        settled = 0
        async with storage_errors(), self._engine.begin() as connection:
            if done:
                result = await connection.execute(
                    _DONE,
                    {
                        "now": now,
                        "ids": [outcome.job.id for outcome in done],
                        "attempts": [outcome.job.attempts for outcome in done],
                    },
                )
                settled += int(result.rowcount)
            if others:
                result = await connection.execute(_SETTLE_ONE, others)
                settled += int(result.rowcount)
        return settled

    async def release(self, jobs: Sequence[ClaimedJob], *, now: datetime) -> None:
        if not jobs:
            return
        parameters = {
            "now": now,
            "ids": [job.id for job in jobs],
            "attempts": [job.attempts for job in jobs],
        }
        async with storage_errors(), self._engine.begin() as connection:
            await connection.execute(_RELEASE, parameters)

    async def recover_expired(self, *, now: datetime, max_attempts: int) -> LeaseRecovery:
        async with storage_errors(), self._engine.begin() as connection:
            statuses = (
                await connection.execute(_RECOVER, {"now": now, "max_attempts": max_attempts})
            ).scalars()
            counted = list(statuses)
        buried = sum(1 for status in counted if status == JobStatus.DEAD.value)
        return LeaseRecovery(requeued=len(counted) - buried, buried=buried)

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        victims = (
            sa.select(outbox.c.id)
            .where(outbox.c.status == JobStatus.DONE.value, outbox.c.finished_at < finished_before)
            .limit(limit)
            .scalar_subquery()
        )
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(sa.delete(outbox).where(outbox.c.id.in_(victims)))
        return int(result.rowcount)

    # -- operators -----------------------------------------------------------------------------

    async def list_jobs(
        self, *, statuses: Collection[JobStatus], failing_only: bool, name: str | None, limit: int
    ) -> list[JobRecord]:
        query = sa.select(outbox)
        if statuses:
            query = query.where(outbox.c.status.in_([status.value for status in statuses]))
        if failing_only:
            query = query.where(outbox.c.last_error.is_not(None))
        if name:
            query = query.where(outbox.c.name == name)
        query = query.order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit)
        async with storage_errors(), self._engine.connect() as connection:
            return [_to_record(row) for row in await connection.execute(query)]

    async def get_job(self, job_id: UUID) -> JobRecord | None:
        async with storage_errors(), self._engine.connect() as connection:
            row = (
                await connection.execute(sa.select(outbox).where(outbox.c.id == job_id))
            ).one_or_none()
        return _to_record(row) if row else None

    async def requeue(self, job_id: UUID, *, now: datetime) -> JobRecord | None:
        statement = (
            sa.update(outbox)
            .where(
                outbox.c.id == job_id,
                outbox.c.status.in_([JobStatus.DEAD.value, JobStatus.PENDING.value]),
            )
            .values(
                status=JobStatus.PENDING.value,
                attempts=0,
                available_at=now,
                finished_at=None,
                locked_by=None,
                locked_until=None,
            )
            .returning(*outbox.c)
        )
        async with storage_errors(), self._engine.begin() as connection:
            row = (await connection.execute(statement)).one_or_none()
        return _to_record(row) if row else None

    async def count_by_status(self) -> Mapping[JobStatus, int]:
        """Pending, running and dead (each through its partial index); ``done`` is left out:
        counting it would scan the whole retained history."""
        counts: dict[JobStatus, int] = {}
        async with storage_errors(), self._engine.connect() as connection:
            for status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DEAD):
                result = await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.status == status.value)
                )
                counts[status] = int(result.scalar_one())
        return counts

    async def oldest_pending(self, *, now: datetime) -> datetime | None:
        query = (
            sa.select(outbox.c.available_at)
            .where(outbox.c.status == JobStatus.PENDING.value, outbox.c.available_at <= now)
            .order_by(outbox.c.available_at)
            .limit(1)
        )
        async with storage_errors(), self._engine.connect() as connection:
            result = await connection.execute(query)
            oldest: datetime | None = result.scalar_one_or_none()
        return oldest
