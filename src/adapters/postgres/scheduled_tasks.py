"""The shared schedule of periodic tasks (``scheduled_tasks``): one row per task, leased to
one worker at a time with ``FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.errors import storage_errors
from adapters.postgres.notification_tables import scheduled_tasks
from core.domain.jobs import ScheduledTaskRecord

_CLAIM = sa.text(
    """
    UPDATE scheduled_tasks s
    SET locked_until = :lease_until, locked_by = :worker, last_started_at = :now
    FROM (
        SELECT name FROM scheduled_tasks
        WHERE name = ANY(CAST(:names AS text[]))
          AND next_run_at <= :now
          AND (locked_until IS NULL OR locked_until <= :now)
        FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE s.name = due.name
    RETURNING s.name
    """
)


def _to_record(row: sa.Row[Any]) -> ScheduledTaskRecord:
    return ScheduledTaskRecord(
        name=row.name,
        interval=timedelta(seconds=row.interval_seconds),
        next_run_at=row.next_run_at,
        locked_until=row.locked_until,
        locked_by=row.locked_by,
        last_started_at=row.last_started_at,
        last_finished_at=row.last_finished_at,
        last_error=row.last_error,
        run_count=row.run_count,
        failure_count=row.failure_count,
    )


class PostgresTaskSchedule:
    """Implements ``core.ports.jobs.TaskSchedule``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def register(self, intervals: Mapping[str, timedelta], *, now: datetime) -> None:
        if not intervals:
            return
        async with storage_errors(), self._engine.begin() as connection:
            for name, every in sorted(intervals.items()):
                statement = insert(scheduled_tasks).values(
                    name=name,
                    interval_seconds=every.total_seconds(),
                    next_run_at=now,
                    run_count=0,
                    failure_count=0,
                    created_at=now,
                )
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=[scheduled_tasks.c.name],
                        set_={
                            "interval_seconds": statement.excluded.interval_seconds,
                            "next_run_at": sa.func.least(
                                scheduled_tasks.c.next_run_at, sa.literal(now + every)
                            ),
                        },
                    )
                )

    async def claim_due(
        self, names: Collection[str], *, now: datetime, lease_until: datetime, worker: str
    ) -> list[str]:
        if not names:
            return []
        parameters = {
            "names": sorted(names),
            "now": now,
            "lease_until": lease_until,
            "worker": worker,
        }
        async with storage_errors(), self._engine.begin() as connection:
            claimed = (await connection.execute(_CLAIM, parameters)).scalars()
            return sorted(claimed)

    async def finish(
        self, name: str, *, worker: str, now: datetime, next_run_at: datetime, error: str | None
    ) -> None:
        async with storage_errors(), self._engine.begin() as connection:
            await connection.execute(
                sa.update(scheduled_tasks)
                .where(scheduled_tasks.c.name == name, scheduled_tasks.c.locked_by == worker)
                .values(
                    locked_until=None,
                    locked_by=None,
                    last_finished_at=now,
                    next_run_at=next_run_at,
                    last_error=error,
                    run_count=scheduled_tasks.c.run_count + 1,
                    failure_count=scheduled_tasks.c.failure_count + (0 if error is None else 1),
                )
            )

    async def list_tasks(self) -> list[ScheduledTaskRecord]:
        async with storage_errors(), self._engine.connect() as connection:
            result = await connection.execute(
                sa.select(scheduled_tasks).order_by(scheduled_tasks.c.name)
            )
            return [_to_record(row) for row in result]
