"""50 concurrent payout requests totalling twice the available balance, on real PostgreSQL.

First a burst: all 50 at once — the one-in-flight rule lets exactly one through. Then the
same 50 clients keep retrying while a settler confirms each payout by signed webhook as soon
as it appears, so payouts succeed one after another until the money runs out: exactly the
25 that fit succeed, the other 25 are refused ``insufficient_funds``, available never goes
below zero, each success has one hold and one settlement, and the books balance."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import sqlalchemy as sa

from tests.contracts.paystack_server import sign
from tests.integration.payouts.conftest import count, member_with_money

REQUESTS, AMOUNT = 50, 4_000
AVAILABLE = REQUESTS * AMOUNT // 2
DEADLINE_SECONDS = 90


async def test_fifty_concurrent_payouts_for_twice_the_balance(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, AVAILABLE)
    keys = [f"race-{n}" for n in range(REQUESTS)]

    burst = await asyncio.gather(*(member.pay_out(AMOUNT, key) for key in keys))
    assert sorted(answer.status_code for answer in burst) == [201] + [409] * (REQUESTS - 1)
    assert {a.json()["code"] for a in burst if a.status_code == 409} == {"payout_in_flight"}

    outcomes: dict[str, str] = {}
    deadline = time.monotonic() + DEADLINE_SECONDS
    lowest_available = AVAILABLE
    settled = [asyncio.Event()]  # set (and replaced) after each settlement

    async def next_settlement() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settled[-1].wait(), timeout=2)

    async def keep_asking(key: str) -> None:
        while time.monotonic() < deadline:
            answer = await member.pay_out(AMOUNT, key)
            if answer.status_code == 201:
                outcomes[key] = "paid"
                return
            code = answer.json()["code"]
            assert code in {"payout_in_flight", "insufficient_funds"}, answer.text
            if code == "insufficient_funds":
                outcomes[key] = code
                return
            await next_settlement()  # the payout in flight must finish first

    async def settle() -> None:
        nonlocal lowest_available
        while len(outcomes) < REQUESTS and time.monotonic() < deadline:
            async with container.engine().connect() as connection:
                in_flight = list(
                    await connection.execute(
                        sa.text("SELECT id FROM payouts WHERE status = 'requested'")
                    )
                )
                available = await connection.execute(
                    sa.text(
                        "SELECT balance_minor FROM accounts WHERE owner_id = :m "
                        "AND kind = 'available'"
                    ),
                    {"m": member.id},
                )
                lowest_available = min(lowest_available, int(available.scalar_one()))
            for (payout_id,) in in_flight:
                body = json.dumps(
                    {
                        "event": "transfer.success",
                        "data": {
                            "id": str(payout_id),
                            "reference": str(payout_id),
                            "amount": AMOUNT,
                            "currency": "NGN",
                            "status": "success",
                            "transfer_code": "TRF_x",
                        },
                    }
                ).encode()
                answer = await client.post(
                    "/monetization/webhooks/paystack",
                    content=body,
                    headers={
                        "x-paystack-signature": sign(body),
                        "Content-Type": "application/json",
                    },
                )
                assert answer.status_code == 200, answer.text
            if in_flight:
                settled.append(asyncio.Event())
                settled[-2].set()
            await asyncio.sleep(0.005)

    await asyncio.gather(settle(), *(keep_asking(key) for key in keys))

    assert len(outcomes) == REQUESTS, "bounded run ended before every client had an answer"
    paid = [key for key, outcome in outcomes.items() if outcome == "paid"]
    assert len(paid) == AVAILABLE // AMOUNT == 25
    assert lowest_available >= 0
    balance = await member.balance()
    assert (balance["availableMinor"], balance["onHoldMinor"]) == (0, 0)
    assert await count(container, "SELECT count(*) FROM payouts WHERE status = 'paid'") == 25
    for kind in ("payout_held", "payout_settled"):
        sql = "SELECT count(*) FROM transactions WHERE kind = :kind"
        assert await count(container, sql, kind=kind) == 25
    one_each = (
        "SELECT count(*) FROM payouts p WHERE (SELECT count(*) FROM transactions t "
        "WHERE t.reference IN ('payout-hold:' || p.id, 'payout-settled:' || p.id)) <> 2"
    )
    assert await count(container, one_each) == 0
    books = "SELECT coalesce(sum(amount_minor), 0) FROM postings WHERE currency = 'NGN'"
    assert await count(container, books) == 0
    drift = (
        "SELECT count(*) FROM accounts a WHERE a.owner_id IS NOT NULL AND a.balance_minor <> "
        "(SELECT coalesce(sum(amount_minor), 0) FROM postings p WHERE p.account_id = a.id)"
    )
    assert await count(container, drift) == 0
