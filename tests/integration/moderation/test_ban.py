"""A ban while a payout is in flight and a stream is live, on real PostgreSQL and the
Paystack contract server: the stream ends, the payout stays held (never sent) until an admin
decides, the member's devices are switched off — all in one transaction. A process killed
in the middle of the decision (SIGKILL, paused inside its transaction by an advisory lock
the test holds) leaves nothing of it behind; the decision taken again does everything."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.domain.identity import Principal
from core.domain.payouts import PayoutStatus
from core.use_cases.moderation import DecisionCommand
from entrypoints.settings import Secret, Settings
from tests.contracts.paystack_server import PaystackContractServer, paystack_server
from tests.integration.clips.helpers import execute, scalar
from tests.integration.moderation.ban_process import PAUSE_LOCK
from tests.integration.moderation.helpers import member
from tests.integration.payouts.conftest import Member, fund
from tests.integration.worker.support import eventually

__all__ = ["paystack_server"]

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "ExponentPushToken[ban-test-device]"


@pytest.fixture
def settings(settings: Settings, paystack_server: PaystackContractServer) -> Settings:
    payouts = replace(
        settings.payouts,
        provider="paystack",
        paystack_api_base=paystack_server.base_url,
        minimums={"NGN": 100},
        daily_caps={"NGN": 10**12},
        timeout_seconds=5.0,
    )
    return replace(
        settings, paystack_secret_key=Secret(paystack_server.secret_key), payouts=payouts
    )


async def a_member_in_full_swing(client, container, engine, paystack) -> tuple[Member, str, str]:
    """A member with a payout in flight (requested, money on hold), a live stream and an
    active device."""
    someone = Member(client, uuid.uuid4())
    await fund(container, someone.id, 100_000)
    await someone.add_destination(paystack)
    payout = await someone.pay_out(40_000, "before-the-ban")
    assert payout.status_code == 201, payout.text
    stream_id = uuid.uuid4()
    await execute(
        engine,
        "INSERT INTO live_streams (id, host_id, title, language, room_name, status, started_at, "
        "viewer_sessions, peak_viewers) VALUES (:id, :host, 'Live', 'yo', :room, 'live', now(), "
        "'{}', 0)",
        id=stream_id,
        host=someone.id,
        room=f"live-{stream_id}",
    )
    device = await client.post(
        "/notifications/tokens", json={"token": TOKEN, "platform": "android"},
        headers=someone.headers,
    )  # fmt: skip
    assert device.status_code == 201, device.text
    return someone, payout.json()["id"], str(stream_id)


async def state(engine, member_id: uuid.UUID) -> dict[str, object]:
    """Everything the ban touches, as other transactions see it."""
    return {
        "status": await scalar(engine, "SELECT status FROM profiles WHERE id = :id", id=member_id),
        "stream": await scalar(engine, "SELECT status FROM live_streams"),
        "frozen": await scalar(engine, "SELECT count(*) FROM payout_freezes"),
        "device": await scalar(engine, "SELECT active FROM push_tokens WHERE token = :t", t=TOKEN),
        "decisions": await scalar(engine, "SELECT count(*) FROM moderation_decisions"),
        "told": await scalar(engine, TOLD),
        "payout": await scalar(engine, "SELECT status FROM payouts"),
    }


TOLD = (
    "SELECT count(*) FROM outbox WHERE name IN ('moderation.decided', 'stream.ended', "
    "'live.room_close_requested')"
)
BEFORE = {"status": "active", "stream": "live", "frozen": 0, "device": True, "decisions": 0,
          "told": 0, "payout": "requested"}  # fmt: skip
AFTER = {"status": "banned", "stream": "ended", "frozen": 1, "device": False, "decisions": 1,
         "told": 3, "payout": "requested"}  # fmt: skip


async def waiting_backend(engine) -> int:
    """The pid of the backend waiting for the pause lock (inside the ban's transaction)."""
    found: list[int] = []

    async def waiting() -> bool:
        pid = await scalar(
            engine,
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND NOT granted",
            key=PAUSE_LOCK,
        )
        found.extend([] if pid is None else [int(pid)])
        return bool(found)

    await eventually(waiting, within=30)
    return found[0]


async def gone(engine, pid: int) -> None:
    async def ended() -> bool:
        return not await scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE pid = :p",
                                p=pid)  # fmt: skip

    await eventually(ended, within=30)


@pytest.mark.parametrize("pause_at", ["devices", "commit"])
async def test_a_killed_ban_leaves_nothing_and_a_ban_does_everything_at_once(
    client, container, engine, paystack_server, database_url, pause_at
):
    someone, payout_id, stream_id = await a_member_in_full_swing(
        client, container, engine, paystack_server
    )
    moderator_id, _ = await member(client, engine, "moderator")
    assert await state(engine, someone.id) == BEFORE

    async with engine.connect() as holder:
        await holder.execute(sa.text(f"SELECT pg_advisory_lock({PAUSE_LOCK})"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
        env.update(DATABASE_URL=database_url, CHORUS_ENV="test")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.integration.moderation.ban_process",
            str(moderator_id), str(someone.id), pause_at,
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            pid = await waiting_backend(engine)
            # Inside its transaction the ban has written (it holds a transaction id), but
            # nobody else sees any of it.
            wrote = await scalar(
                engine, "SELECT backend_xid IS NOT NULL FROM pg_stat_activity WHERE pid = :p",
                p=pid,
            )  # fmt: skip
            assert wrote is True
            assert await state(engine, someone.id) == BEFORE
            process.send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await holder.execute(sa.text(f"SELECT pg_advisory_unlock({PAUSE_LOCK})"))
    await gone(engine, pid)
    assert await state(engine, someone.id) == BEFORE  # nothing at all

    async with container.unit_of_work() as uow:
        moderator = Principal(profile=await uow.profiles.get(moderator_id))
    command = DecisionCommand("profile", someone.id, "ban_user", "fraud", "farming")
    decision = await container.decide_moderation()(moderator, command)
    assert await state(engine, someone.id) == AFTER  # everything at once
    assert decision.summary["streamsEnded"] == [stream_id]
    assert await scalar(engine, "SELECT deactivated_reason FROM push_tokens") == "banned"
    assert_problem_banned = await client.get("/me", headers=someone.headers)
    assert assert_problem_banned.status_code == 403

    # The payout in flight stays held: the worker does not send it, reconciliation neither.
    sender = container.send_payout()
    assert await sender.advance(uuid.UUID(payout_id)) is PayoutStatus.REQUESTED
    assert await scalar(engine, "SELECT failure_code FROM payouts") == "payouts_frozen"
    assert paystack_server.transfer_requests == []
    balance = await scalar(
        engine, "SELECT balance_minor FROM accounts WHERE owner_id = :id AND kind = 'payout_hold'",
        id=someone.id,
    )  # fmt: skip
    assert balance == 40_000
    # Until an admin decides: unfreezing alone does not pay a banned member; cancelling
    # returns the hold.
    async with container.unit_of_work() as uow:
        await uow.payouts.set_frozen(
            someone.id, frozen=False, reason="", at=container.clock().now()
        )
        await uow.commit()
    assert await sender.advance(uuid.UUID(payout_id)) is PayoutStatus.REQUESTED
    assert await scalar(engine, "SELECT failure_code FROM payouts") == "member_not_active"
    service = Principal(profile=None, is_service=True)
    cancelled = await container.cancel_held_payout()(service, uuid.UUID(payout_id), "banned")
    assert cancelled.status is PayoutStatus.FAILED
    assert paystack_server.transfer_requests == []
    available = await scalar(
        engine, "SELECT balance_minor FROM accounts WHERE owner_id = :id AND kind = 'available'",
        id=someone.id,
    )  # fmt: skip
    assert available == 100_000
