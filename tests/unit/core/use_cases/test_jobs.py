"""Dispatching outbox jobs and running periodic tasks, with in-memory fakes."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from core.domain.events import DomainEvent
from core.domain.jobs import JobStatus, PermanentFailure
from core.domain.notifications import BackoffPolicy, PushServiceUnavailable
from core.errors import Conflict, NotFound
from core.use_cases.analytics import CaptureAnalyticsEvent
from core.use_cases.jobs import (
    DispatchOutbox,
    EventHandlers,
    JobFilter,
    ListJobs,
    PeriodicTasks,
    PruneOutbox,
    RecoverExpiredLeases,
    RetryJob,
    RunDueTasks,
)
from tests.fake_notifications import FakeAnalytics, FakeOutboxQueue, FakeTaskSchedule
from tests.fakes import FixedClock

POLICY = BackoffPolicy(base_seconds=1, cap_seconds=60, max_attempts=3)


class Recorder:
    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.seen: list[uuid.UUID] = []
        self.failures = list(failures or [])

    async def __call__(self, event: DomainEvent) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.seen.append(event.id)


def dispatcher(
    queue: FakeOutboxQueue, handlers: EventHandlers, clock: FixedClock, **overrides: object
) -> DispatchOutbox:
    settings: dict[str, object] = {
        "queue": queue,
        "handlers": handlers,
        "clock": clock,
        "policy": POLICY,
        "random": lambda: 1.0,
        "worker": "w1",
        "batch_size": 10,
    }
    return DispatchOutbox(**(settings | overrides))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


async def test_jobs_run_their_handlers_in_order_and_are_done(clock: FixedClock) -> None:
    queue, handlers, order = FakeOutboxQueue(), EventHandlers(), []

    async def first(event: DomainEvent) -> None:
        order.append(("first", event.name))

    async def second(event: DomainEvent) -> None:
        order.append(("second", event.name))

    handlers.register("badge.awarded", "first", first)
    handlers.register("badge.awarded", "second", second)
    queue.add("badge.awarded", {"profileId": "p"}, clock.now())
    queue.add("profile.created", {}, clock.now())  # no handler: simply done

    outcomes = await dispatcher(queue, handlers, clock)()

    assert [o.status for o in outcomes] == [JobStatus.DONE, JobStatus.DONE]
    assert order == [("first", "badge.awarded"), ("second", "badge.awarded")]
    assert {j.status for j in queue.jobs.values()} == {JobStatus.DONE}
    with pytest.raises(ValueError, match="already registered"):
        handlers.register("badge.awarded", "first", first)


async def test_a_failing_job_backs_off_skips_what_succeeded_then_dies(clock: FixedClock) -> None:
    queue, handlers = FakeOutboxQueue(), EventHandlers()
    analytics = Recorder()
    flaky = Recorder([RuntimeError("db down")] * 3)
    handlers.register("payout.paid", "analytics", analytics)
    handlers.register("payout.paid", "notifications", flaky)
    job_id = queue.add("payout.paid", {}, clock.now())
    dispatch = dispatcher(queue, handlers, clock)

    [outcome] = await dispatch()
    assert outcome.status is JobStatus.PENDING
    assert outcome.retry_at == clock.now() + timedelta(seconds=1)
    assert await dispatch() == []  # not due yet
    clock.advance(seconds=1)
    [outcome] = await dispatch()
    assert outcome.retry_at == clock.now() + timedelta(seconds=2)
    clock.advance(seconds=2)
    [outcome] = await dispatch()
    assert outcome.status is JobStatus.DEAD
    assert queue.jobs[job_id].last_error == "RuntimeError: db down"
    assert analytics.seen == [job_id]  # ran once, not on every retry

    retried = await RetryJob(queue, clock)(job_id)
    assert (retried.status, retried.attempts) == (JobStatus.PENDING, 0)
    [outcome] = await dispatch()
    assert outcome.status is JobStatus.DONE
    assert flaky.seen == [job_id]
    assert analytics.seen == [job_id]


async def test_retry_after_and_permanent_failures(clock: FixedClock) -> None:
    queue, handlers = FakeOutboxQueue(), EventHandlers()
    handlers.register("a", "h", Recorder([PushServiceUnavailable("429", retry_after_seconds=30)]))
    handlers.register("b", "h", Recorder([PermanentFailure("malformed")]))
    queue.add("a", {}, clock.now())
    queue.add("b", {}, clock.now())
    outcomes = {o.job.name: o for o in await dispatcher(queue, handlers, clock)()}
    assert outcomes["a"].retry_at == clock.now() + timedelta(seconds=30)
    assert outcomes["b"].status is JobStatus.DEAD


async def test_slow_handlers_time_out_and_are_retried(clock: FixedClock) -> None:
    queue, handlers = FakeOutboxQueue(), EventHandlers()

    async def slow(event: DomainEvent) -> None:
        await asyncio.sleep(10)

    handlers.register("a", "slow", slow)
    queue.add("a", {}, clock.now())
    dispatch = dispatcher(queue, handlers, clock, handler_timeout=timedelta(seconds=0.05))
    [outcome] = await dispatch()
    assert outcome.status is JobStatus.PENDING
    assert "took longer than 0.05 s" in (outcome.error or "")


async def test_two_dispatchers_never_run_a_job_twice(clock: FixedClock) -> None:
    queue, handlers, seen = FakeOutboxQueue(), EventHandlers(), Counter[uuid.UUID]()

    async def count(event: DomainEvent) -> None:
        seen[event.id] += 1
        await asyncio.sleep(0)

    handlers.register("job", "count", count)
    for _ in range(200):
        queue.add("job", {}, clock.now())
    workers = [dispatcher(queue, handlers, clock, worker=f"w{n}", batch_size=7) for n in (1, 2)]

    async def drain(dispatch: DispatchOutbox) -> int:
        batches = 0
        while await dispatch():
            batches += 1
        return batches

    batches = await asyncio.gather(*(drain(w) for w in workers))
    assert all(batches)  # both took part
    assert len(seen) == 200
    assert set(seen.values()) == {1}


async def test_cancelling_a_batch_settles_finished_jobs_and_hands_back_the_rest(
    clock: FixedClock,
) -> None:
    queue, handlers = FakeOutboxQueue(), EventHandlers()
    started = asyncio.Event()

    async def handler(event: DomainEvent) -> None:
        if event.payload.get("slow"):
            started.set()
            await asyncio.sleep(10)

    handlers.register("job", "h", handler)
    fast = queue.add("job", {}, clock.now())
    clock.advance(seconds=1)
    slow = queue.add("job", {"slow": True}, clock.now())
    batch = asyncio.create_task(dispatcher(queue, handlers, clock, concurrency=2)())
    await started.wait()
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    assert queue.jobs[fast].status is JobStatus.DONE
    assert (queue.jobs[slow].status, queue.jobs[slow].attempts) == (JobStatus.PENDING, 0)


async def test_expired_leases_are_requeued_or_buried(clock: FixedClock) -> None:
    queue = FakeOutboxQueue()
    job_id = queue.add("job", {}, clock.now())
    await queue.claim(
        now=clock.now(), limit=1, lease_until=clock.now() + timedelta(seconds=5), worker="dead"
    )
    recover = RecoverExpiredLeases(queue, clock, max_attempts=2)
    assert (await recover()).requeued == 0
    clock.advance(seconds=5)
    assert (await recover()).requeued == 1
    await queue.claim(now=clock.now(), limit=1, lease_until=clock.now(), worker="dead")
    assert (await recover()).buried == 1
    assert queue.jobs[job_id].status is JobStatus.DEAD

    overview = await ListJobs(queue)(JobFilter())
    assert [j.id for j in overview.jobs] == [job_id]
    assert overview.counts[JobStatus.DEAD] == 1


async def test_retry_refuses_unknown_and_done_jobs(clock: FixedClock) -> None:
    queue, handlers = FakeOutboxQueue(), EventHandlers()
    job_id = queue.add("job", {}, clock.now())
    await dispatcher(queue, handlers, clock)()
    with pytest.raises(Conflict):
        await RetryJob(queue, clock)(job_id)
    with pytest.raises(NotFound):
        await RetryJob(queue, clock)(uuid.uuid4())
    clock.advance(days=8)
    assert await PruneOutbox(queue, clock)() == 1


async def test_periodic_tasks_run_once_per_interval_across_workers(clock: FixedClock) -> None:
    schedule, runs = FakeTaskSchedule(), Counter[str]()

    async def receipts() -> int:
        runs["receipts"] += 1
        return 3

    async def broken() -> None:
        raise RuntimeError("nope")

    tasks = PeriodicTasks()
    tasks.register("push.check_receipts", timedelta(minutes=1), receipts)
    tasks.register("broken", timedelta(minutes=1), broken)
    workers = [RunDueTasks(schedule, tasks, clock, worker=f"w{n}") for n in (1, 2)]
    await workers[0].register()
    await workers[1].register()

    first = await workers[0]()
    assert sorted((r.name, r.ok) for r in first) == [
        ("broken", False),
        ("push.check_receipts", True),
    ]
    assert await workers[1]() == []
    clock.advance(minutes=1)
    assert len(await workers[1]()) == 2
    assert runs["receipts"] == 2
    rows = {row.name: row for row in schedule.rows.values()}
    assert rows["broken"].failure_count == 2
    assert rows["broken"].last_error == "RuntimeError: nope"
    with pytest.raises(ValueError, match="task name"):
        tasks.register("Bad Name", timedelta(minutes=1), receipts)


async def test_analytics_events_come_from_facts(clock: FixedClock) -> None:
    analytics = FakeAnalytics()
    capture = CaptureAnalyticsEvent(analytics)
    member = uuid.uuid4()
    await capture(DomainEvent(uuid.uuid4(), "clip.decided", clock.now(), {
        "clipId": "c1", "contributorId": str(member), "status": "accepted"}))  # fmt: skip
    await capture(DomainEvent(uuid.uuid4(), "profile.created", clock.now(), {"profileId": "x"}))
    [(distinct_id, event, properties)] = analytics.captured
    assert distinct_id == str(member)
    assert event.value == "clip_decided"
    assert properties["clip_id"] == "c1"
