"""Real ``chorus serve`` and ``chorus worker`` processes under vote load: the API server
SIGKILLed and started again; a worker SIGKILLed mid-load and replaced, its successor then
riding out a database outage (logging ``database_unavailable``, never ``worker_loop_error``,
and caught up within 3 s of the database's return). Each run ends with ``chorus doctor``'s
checks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.faults.cluster import Cluster
from tests.integration.faults.serving import (
    ChorusProcess,
    ServerProcess,
    chorus_env,
    doctor,
    fault_settings,
    serving,
    until_done,
)
from tests.integration.faults.votes import (
    build_world,
    drive_votes,
    vote_plan,
    votes_stored,
    votes_through,
)

WORKER = {
    "CHORUS_WORKER_POLL_SECONDS": "0.05",
    "CHORUS_WORKER_LEASE_SECONDS": "2",
    "CHORUS_WORKER_BACKOFF_BASE_SECONDS": "0.05",
    "CHORUS_WORKER_BACKOFF_CAP_SECONDS": "0.5",
    "CHORUS_WORKER_SHUTDOWN_SECONDS": "5",
    "CHORUS_LOG_LEVEL": "INFO",
}


@pytest.fixture
def processes() -> Iterator[list[ChorusProcess]]:
    started: list[ChorusProcess] = []
    yield started
    for process in started:
        process.stop(timeout=5)


def events(log: str) -> list[str]:
    found = []
    for line in log.splitlines():
        try:
            found.append(json.loads(line)["event"])
        except (ValueError, KeyError):
            continue
    return found


async def test_a_killed_api_server_loses_no_acknowledged_vote(
    fault_url: str, processes: list[ChorusProcess], tmp_path: Path
) -> None:
    env = chorus_env(fault_url)
    first = ServerProcess(env, tmp_path / "server.log")
    processes.append(first)
    await first.ready()
    world = await build_world(first.base_url, clips=40, validators=6)

    async def kill_and_restart() -> float:
        first.kill()
        second = ServerProcess(env, tmp_path / "server.log", port=first.port)
        processes.append(second)
        await second.ready()
        return time.monotonic()

    report, _ = await votes_through(
        [first.base_url], vote_plan(world, 3), kill_and_restart, concurrency=6, lead=0.3,
        finish_within=60,
    )  # fmt: skip

    assert report.statuses[0] > 0, report.statuses  # requests were cut off
    assert report.internal_errors == 0, report.statuses
    assert await votes_stored(fault_url, report.acknowledged) == (0, 0)
    health = await doctor(fault_settings(fault_url))
    assert health.healthy, [(f.invariant.code, f.examples) for f in health.violated]


async def test_a_killed_worker_is_replaced_and_its_successor_rides_out_a_database_outage(
    cluster: Cluster, fault_url: str, processes: list[ChorusProcess], tmp_path: Path
) -> None:
    env = chorus_env(fault_url, **WORKER)
    settings = fault_settings(fault_url)
    first = ChorusProcess(["worker"], env, tmp_path / "first.log")
    second = ChorusProcess(["worker"], env, tmp_path / "second.log")
    processes += [first, second]
    async with serving(settings) as base_url:
        world = await build_world(base_url, clips=40, validators=6)
        plan = vote_plan(world, 3)
        half = len(plan) // 2
        await first.logged("worker_started")
        load = asyncio.create_task(
            drive_votes([base_url], plan[:half], concurrency=6, stop=asyncio.Event())
        )
        await asyncio.sleep(0.3)
        assert not load.done()
        first.kill()  # mid-load: it held jobs, or was about to claim some
        before = await load
        await second.logged("worker_started")
        await until_done(fault_url, within=15)  # the jobs first left behind, too

        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.start)
        after = await drive_votes([base_url], plan[half:], concurrency=6, stop=asyncio.Event())
        caught_up = await until_done(fault_url, within=10)

    assert before.internal_errors == after.internal_errors == 0
    assert second.process.poll() is None, second.output()[-2000:]
    assert second.stop() == 0
    logged = events(second.output())
    assert "database_unavailable" in logged
    assert "worker_loop_error" not in logged
    assert caught_up <= 3.0
    health = await doctor(settings)
    assert health.healthy, [(f.invariant.code, f.examples) for f in health.violated]
