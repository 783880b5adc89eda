"""The outbox as a job queue and the task schedule, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.outbox_queue import PostgresOutboxQueue
from adapters.postgres.scheduled_tasks import PostgresTaskSchedule
from core.domain.jobs import JobOutcome, JobStatus
from tests.integration.worker.support import add_events, rows, scalar


async def test_concurrent_claims_never_share_a_job(engine: AsyncEngine) -> None:
    await add_events(engine, [("test.job", {"n": n}) for n in range(300)])
    queue, now = PostgresOutboxQueue(engine), datetime.now(UTC)
    lease = now + timedelta(minutes=5)
    batches = await asyncio.gather(
        *(queue.claim(now=now, limit=40, lease_until=lease, worker=f"w{n}") for n in range(10))
    )
    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == len(set(claimed)) == 300
    assert all(job.attempts == 1 for batch in batches for job in batch)
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE status = 'running'") == 300


async def test_settling_is_fenced_by_the_attempt(engine: AsyncEngine) -> None:
    [job_id] = await add_events(engine, [("test.job", {})])
    queue, now = PostgresOutboxQueue(engine), datetime.now(UTC)
    [first] = await queue.claim(now=now, limit=1, lease_until=now, worker="slow")
    # The lease ran out; the reaper hands the job back and another worker takes it.
    recovered = await queue.recover_expired(now=now, max_attempts=5)
    assert (recovered.requeued, recovered.buried) == (1, 0)
    [second] = await queue.claim(
        now=now, limit=1, lease_until=now + timedelta(minutes=1), worker="fast"
    )
    assert second.attempts == 2

    late = JobOutcome(first, JobStatus.DONE, frozenset({"h"}))
    assert await queue.settle([late], now=now) == 0  # the slow worker lost its claim
    retry_at = now + timedelta(seconds=30)
    outcome = JobOutcome(second, JobStatus.PENDING, frozenset({"h"}), "Boom", retry_at)
    assert await queue.settle([outcome], now=now) == 1
    [row] = await rows(engine, "SELECT * FROM outbox WHERE id = :id", id=job_id)
    assert (row.status, row.attempts, row.available_at, row.handled_by) == (
        "pending", 2, retry_at, ["h"]
    )  # fmt: skip
    assert row.last_error == "Boom"
    assert await queue.claim(now=now, limit=1, lease_until=now, worker="x") == []


async def test_dead_jobs_can_be_listed_and_retried(engine: AsyncEngine) -> None:
    [job_id, other] = await add_events(engine, [("test.job", {}), ("test.job", {})])
    queue, now = PostgresOutboxQueue(engine), datetime.now(UTC)
    jobs = await queue.claim(now=now, limit=2, lease_until=now, worker="w")
    by_id = {job.id: job for job in jobs}
    await queue.settle(
        [
            JobOutcome(by_id[job_id], JobStatus.DEAD, frozenset(), "PermanentFailure: bad"),
            JobOutcome(by_id[other], JobStatus.DONE, frozenset()),
        ],
        now=now,
    )
    [dead] = await queue.list_jobs(
        statuses={JobStatus.DEAD}, failing_only=False, name=None, limit=10
    )
    assert (dead.id, dead.last_error) == (job_id, "PermanentFailure: bad")
    assert (await queue.count_by_status())[JobStatus.DEAD] == 1
    assert await queue.requeue(other, now=now) is None  # done: not retryable
    retried = await queue.requeue(job_id, now=now)
    assert retried is not None
    assert (retried.status, retried.attempts) == (JobStatus.PENDING, 0)
    assert await queue.oldest_pending(now=now) == now
    assert await queue.prune(finished_before=now + timedelta(seconds=1), limit=10) == 1


async def test_releasing_hands_jobs_back_uncounted(engine: AsyncEngine) -> None:
    await add_events(engine, [("test.job", {})])
    queue, now = PostgresOutboxQueue(engine), datetime.now(UTC)
    jobs = await queue.claim(now=now, limit=1, lease_until=now + timedelta(minutes=1), worker="w")
    await queue.release(jobs, now=now)
    [again] = await queue.claim(now=now, limit=1, lease_until=now, worker="w2")
    assert again.attempts == 1


async def test_a_due_task_is_leased_to_one_worker(engine: AsyncEngine) -> None:
    schedule, now = PostgresTaskSchedule(engine), datetime.now(UTC)
    every = {"push.check_receipts": timedelta(minutes=1), "outbox.prune": timedelta(hours=1)}
    await asyncio.gather(schedule.register(every, now=now), schedule.register(every, now=now))
    lease = now + timedelta(minutes=5)
    claims = await asyncio.gather(
        *(schedule.claim_due(every, now=now, lease_until=lease, worker=f"w{n}") for n in range(5))
    )
    assert sorted(name for claim in claims for name in claim) == sorted(every)
    winner = next(f"w{n}" for n, claim in enumerate(claims) if "outbox.prune" in claim)
    await schedule.finish(
        "outbox.prune", worker="someone-else", now=now, next_run_at=now, error=None
    )
    await schedule.finish(
        "outbox.prune", worker=winner, now=now, next_run_at=now + timedelta(hours=1), error="x"
    )
    tasks = {task.name: task for task in await schedule.list_tasks()}
    assert tasks["outbox.prune"].failure_count == 1
    assert tasks["outbox.prune"].locked_by is None
    assert tasks["push.check_receipts"].locked_by is not None
    assert await schedule.claim_due(every, now=now, lease_until=lease, worker="late") == []
    # A shorter interval in the code takes effect at once.
    await schedule.register({"outbox.prune": timedelta(seconds=1)}, now=now)
    tasks = {task.name: task for task in await schedule.list_tasks()}
    assert tasks["outbox.prune"].next_run_at == now + timedelta(seconds=1)
    assert str(uuid.uuid4())  # keep uuid imported for readers of the failure output
