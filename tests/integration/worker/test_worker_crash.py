"""A real ``chorus worker`` process is SIGKILLed while Expo holds one of its send requests;
another worker takes over. Every notification reaches every device, and no device gets one
twice (counted at the Expo contract server). Then SIGTERM stops the second worker cleanly."""

from __future__ import annotations

import asyncio
import signal
import socket
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.contracts.expo_server import ExpoContractServer, expo_server
from tests.integration.worker.support import (
    add_events,
    add_members,
    add_tokens,
    eventually,
    rows,
    scalar,
)
from tests.processes import WorkerProcess, chorus_env, processes

__all__ = ["expo_server", "processes"]  # the fixtures, re-exported for pytest

MEMBERS = 40
DEVICES = 2  # per member
EVENTS = ("reward.released", "badge.awarded")  # per member → 160 deliveries


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def worker_env(database_url: str, expo_server: ExpoContractServer) -> dict[str, str]:
    return chorus_env(
        database_url,
        CHORUS_EXPO_PUSH_URL=expo_server.base_url,
        CHORUS_WORKER_POLL_SECONDS="0.02",
        CHORUS_WORKER_LEASE_SECONDS="2",
        CHORUS_WORKER_BATCH_SIZE="10",
        CHORUS_WORKER_CONCURRENCY="2",
        CHORUS_WORKER_BACKOFF_BASE_SECONDS="0.05",
        CHORUS_WORKER_BACKOFF_CAP_SECONDS="0.5",
        CHORUS_WORKER_RECEIPT_DELAY_SECONDS="3600",
        CHORUS_WORKER_SHUTDOWN_SECONDS="10",
    )


async def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    engine: AsyncEngine,
    expo_server: ExpoContractServer,
    worker_env: dict[str, str],
    processes: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    members = await add_members(engine, MEMBERS)
    await add_tokens(
        engine, {f"ExponentPushToken[{m}-{d}]": m for m in members for d in range(DEVICES)}
    )
    await add_events(
        engine, [(name, {"profileId": str(m), "amountMinor": 500, "currency": "NGN"})
                 for m in members for name in EVENTS]
    )  # fmt: skip
    # Expo takes the second send request (its messages are delivered) but the reply never
    # reaches the first worker: it dies waiting, mid-request.
    held = expo_server.hold_reply_to_send(2)

    first = WorkerProcess(worker_env, tmp_path / "first.log")
    processes.append(first)
    arrived = await asyncio.to_thread(held.arrived.wait, 30)
    assert arrived, first.output()
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(timeout=10) == -signal.SIGKILL
    held.release.set()

    in_flight = await scalar(engine, "SELECT count(*) FROM push_deliveries WHERE state = 'sending'")
    assert in_flight == len(expo_server.requests[1].body) > 0
    waiting = await scalar(
        engine, "SELECT count(*) FROM outbox WHERE status <> 'done'"
    ) + await scalar(engine, "SELECT count(*) FROM push_deliveries WHERE state = 'queued'")
    assert waiting > 0  # the kill happened mid-work: the second worker has work left

    metrics_port = free_port()
    second = WorkerProcess(worker_env, tmp_path / "second.log", "--metrics-port", str(metrics_port))
    processes.append(second)

    async def settled() -> bool:
        unfinished = await scalar(engine, "SELECT count(*) FROM outbox WHERE status <> 'done'")
        open_deliveries = await scalar(
            engine,
            "SELECT count(*) FROM push_deliveries WHERE state IN ('queued', 'sending')",
        )
        return bool(unfinished == 0 and open_deliveries == 0)

    await eventually(settled, within=30)

    # One notification per event, one delivery per (notification, device).
    expected = {
        (row.token, str(row.notification_id))
        for row in await rows(engine, "SELECT token, notification_id FROM push_deliveries")
    }
    assert len(expected) == MEMBERS * DEVICES * len(EVENTS)
    assert await scalar(engine, "SELECT count(*) FROM notifications") == MEMBERS * len(EVENTS)
    received = Counter(
        (token, message["data"]["notificationId"])
        for token, messages in expo_server.deliveries.items()
        for message in messages
    )
    assert set(received) == expected  # every notification reached every device …
    assert set(received.values()) == {1}  # … exactly once
    states = Counter(row.state for row in await rows(engine, "SELECT state FROM push_deliveries"))
    assert states == {"sent": len(expected) - in_flight, "uncertain": in_flight}

    metrics = await asyncio.to_thread(
        lambda: (
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            .read()
            .decode()
        )
    )
    assert "chorus_worker_jobs_total" in metrics
    assert "chorus_push_messages_total" in metrics

    assert await asyncio.to_thread(second.finish, signal.SIGTERM) == 0
    log = second.output()
    assert '"event": "worker_stopped"' in log, log[-2000:]
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE status = 'running'") == 0
