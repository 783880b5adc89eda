"""The worker's side of payouts against the Paystack contract server.

- A real ``chorus worker`` is SIGKILLed after its transfer request reached Paystack and
  before the answer came back. Another worker verifies the reference before anything else,
  sends nothing, and reconciliation settles the payout once: one transfer at the provider.
- Paystack unreachable, then answering 500 for a while: payouts wait; when it is back they
  complete, each with exactly one transfer.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from core.domain.payouts import PayoutStatus
from core.errors import DomainError
from entrypoints.container import Container
from tests.contracts.paystack_server import PaystackContractServer
from tests.integration.payouts.conftest import count, member_with_money
from tests.integration.worker.support import eventually
from tests.processes import WorkerProcess, chorus_env, processes

__all__ = ["processes"]  # the fixture, re-exported for pytest

STATUS = "SELECT count(*) FROM payouts WHERE status = :status"


def worker_env(database_url: str, paystack: PaystackContractServer, **extra: str) -> dict:
    return chorus_env(
        database_url,
        PAYSTACK_SECRET_KEY=paystack.secret_key,
        CHORUS_PAYSTACK_API_BASE=paystack.base_url,
        CHORUS_PAYOUT_PROVIDER="paystack",
        CHORUS_PAYOUT_MINIMUM_MINOR="NGN:100",
        CHORUS_WORKER_POLL_SECONDS="0.05",
        CHORUS_WORKER_LEASE_SECONDS="2",
        CHORUS_WORKER_BACKOFF_BASE_SECONDS="0.05",
        CHORUS_WORKER_BACKOFF_CAP_SECONDS="0.5",
        CHORUS_WORKER_SHUTDOWN_SECONDS="5",
        **extra,
    )


async def test_sigkill_after_the_request_reached_paystack_pays_once(
    client, container, paystack_server, database_url, processes, tmp_path: Path
):
    member = await member_with_money(client, container, paystack_server, 100_000)
    payout = (await member.pay_out(40_000, "crash")).json()
    held = paystack_server.hold_transfer_replies()

    first = WorkerProcess(worker_env(database_url, paystack_server), tmp_path / "first.log")
    processes.append(first)
    arrived = await asyncio.to_thread(held.arrived.wait, 30)
    assert arrived, first.output()
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(timeout=10) == -signal.SIGKILL
    held.release.set()
    assert await count(container, STATUS, status="sending") == 1
    assert list(paystack_server.transfers) == [payout["id"]]

    env = worker_env(
        database_url,
        paystack_server,
        CHORUS_PAYOUT_RECONCILE_AFTER_MINUTES="0",
        CHORUS_PAYOUT_RECONCILE_INTERVAL_SECONDS="0.5",
    )
    second = WorkerProcess(env, tmp_path / "second.log")
    processes.append(second)

    async def status_is(status: str) -> bool:
        return await count(container, STATUS, status=status) == 1

    await eventually(lambda: status_is("pending"), within=30)
    paystack_server.finish(payout["id"], "success")
    await eventually(lambda: status_is("paid"), within=30)
    assert second.finish(signal.SIGTERM) == 0, second.output()

    assert len(paystack_server.transfers) == 1
    assert len(paystack_server.transfer_requests) == 1  # verified, never sent again
    for kind in ("payout_held", "payout_settled"):
        sql = "SELECT count(*) FROM transactions WHERE kind = :kind"
        assert await count(container, sql, kind=kind) == 1
    balance = await member.balance()
    assert (balance["availableMinor"], balance["onHoldMinor"]) == (60_000, 0)


async def test_provider_down_then_back_payouts_wait_and_complete(
    client, container, settings, paystack_server
):
    members = [await member_with_money(client, container, paystack_server, 50_000) for _ in "abc"]
    ids = [uuid.UUID((await m.pay_out(20_000, "outage")).json()["id"]) for m in members]

    # Unreachable (nothing listens there): nothing was sent, the payouts wait as requested.
    dead = replace(settings.payouts, paystack_api_base="http://127.0.0.1:9")
    unreachable = Container(settings=replace(settings, payouts=dead))
    try:
        for payout_id in ids:
            with pytest.raises(DomainError) as refused:
                await unreachable.send_payout().advance(payout_id)
            assert refused.value.code == "provider_unreachable"
    finally:
        await unreachable.payout_gateways().aclose()
        await unreachable.engine().dispose()
    assert await count(container, STATUS, status="requested") == 3

    # Reached but failing (500) for a while: every attempt asks about the reference first,
    # gets no answer, and sends nothing; the payouts keep waiting.
    paystack_server.down = True
    started = time.monotonic()
    attempts = 0
    while time.monotonic() - started < 3:
        for payout_id in ids:
            with pytest.raises(DomainError) as trouble:
                await container.send_payout().advance(payout_id)
            assert trouble.value.code == "transfer_outcome_unknown"
            attempts += 1
        await asyncio.sleep(0.2)
    assert await count(container, STATUS, status="requested") == 3
    assert paystack_server.transfer_requests == []

    paystack_server.down = False
    reconcile = replace(container.reconcile_payouts(), older_than=timedelta(0))
    summary = await reconcile()
    assert (summary.checked, summary.in_flight, summary.errors) == (3, 3, 0)
    for payout_id in ids:
        paystack_server.finish(str(payout_id), "success")
    summary = await reconcile()
    assert summary.settled == 3
    assert await count(container, STATUS, status=PayoutStatus.PAID.value) == 3
    assert sorted(paystack_server.transfers) == sorted(str(i) for i in ids)
    assert len(paystack_server.transfer_requests) == 3  # one per payout, after the outage
    assert attempts >= 3
