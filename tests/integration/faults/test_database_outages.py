"""PostgreSQL stopped (fast, immediate) or the app's sessions terminated while validators
vote, through the real app on 127.0.0.1. Whatever the fault: no 500 — the outage is a 503
with ``Retry-After``; every acknowledged vote is stored exactly once; the service answers
again within 3 s of the database; ``chorus doctor`` finds every invariant intact."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.faults.cluster import Cluster
from tests.integration.faults.serving import doctor, fault_settings, serving
from tests.integration.faults.votes import build_world, vote_plan, votes_stored, votes_through

DOWN_SECONDS = 1.0
BACK_WITHIN_SECONDS = 3.0


async def inflict(cluster: Cluster, fault: str) -> float:
    """Apply ``fault``; return when the database accepts connections again (monotonic)."""
    if fault == "terminate":
        assert await cluster.terminate_backends() > 0
        return time.monotonic()
    await asyncio.to_thread(cluster.stop, fault)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(cluster.start)
    return time.monotonic()


@pytest.mark.parametrize("fault", ["fast", "immediate", "terminate"])
async def test_votes_through_a_database_fault(cluster: Cluster, fault_url: str, fault: str) -> None:
    settings = fault_settings(fault_url)
    async with serving(settings) as base_url:
        world = await build_world(base_url, clips=40, validators=6)
        report, database_up = await votes_through(
            [base_url], vote_plan(world, 3), lambda: inflict(cluster, fault),
            concurrency=6, lead=0.3, finish_within=30,
        )  # fmt: skip

    assert report.statuses[503] > 0, report.statuses  # the fault was felt
    assert report.internal_errors == 0, report.statuses
    assert report.unavailable_without_retry_after == 0
    assert report.back_after(database_up) <= BACK_WITHIN_SECONDS
    missing, doubled = await votes_stored(fault_url, report.acknowledged)
    assert (missing, doubled) == (0, 0)
    health = await doctor(settings)
    assert health.healthy, [(f.invariant.code, f.examples) for f in health.violated]
