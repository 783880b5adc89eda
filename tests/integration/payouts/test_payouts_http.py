"""Payouts over HTTP on real PostgreSQL with the real Paystack and Stripe clients against
their contract servers: the whole path, idempotency keys, bad input, webhooks and approval."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.contracts.paystack_server import sign
from tests.integration.payouts.conftest import count, member_with_money
from tests.tokens import member_headers

PROBLEM = "application/problem+json"


async def test_request_send_webhook_settles_once(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, 100_000)
    created = await member.pay_out(40_000, "key-1")
    assert created.status_code == 201, created.text
    payout = created.json()
    assert payout["status"] == "requested"
    again = await member.pay_out(40_000, "key-1")
    assert (again.status_code, again.json()) == (201, payout)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await member.pay_out(30_000, "key-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    missing = await member.pay_out(40_000, None)
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_required")
    assert (await member.balance())["onHoldMinor"] == 40_000

    status = await container.send_payout().advance(uuid.UUID(payout["id"]))
    assert status.value == "pending"
    transfer = paystack_server.transfers[payout["id"]]
    assert (transfer["amount"], transfer["reference"]) == (40_000, payout["id"])

    paystack_server.finish(payout["id"], "success")
    body, signature = paystack_server.webhook("transfer.success", payout["id"])
    for _ in range(2):  # delivered twice
        answer = await client.post(
            "/monetization/webhooks/paystack",
            content=body,
            headers={"x-paystack-signature": signature, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
    late, late_signature = paystack_server.webhook("transfer.failed", payout["id"], status="failed")
    await client.post(
        "/monetization/webhooks/paystack",
        content=late,
        headers={"x-paystack-signature": late_signature, "Content-Type": "application/json"},
    )
    mine = await client.get(f"/monetization/payouts/{payout['id']}", headers=member.headers)
    assert mine.json()["status"] == "paid"
    balance = await member.balance()
    assert (balance["availableMinor"], balance["onHoldMinor"]) == (60_000, 0)
    settled = "SELECT count(*) FROM transactions WHERE kind = 'payout_settled'"
    assert await count(container, settled) == 1
    stranger = await client.get(f"/monetization/payouts/{payout['id']}", headers=member_headers())
    assert stranger.status_code == 404
    listing = await client.get("/monetization/payouts", headers=member.headers)
    assert [item["id"] for item in listing.json()["items"]] == [payout["id"]]
    history = json.dumps(listing.json()) + json.dumps(mine.json())
    assert "0123456789" not in history


@pytest.mark.parametrize(
    "body",
    [
        {"amountMinor": -5_000, "currency": "NGN"},
        {"amountMinor": 0, "currency": "NGN"},
        {"amountMinor": 5_000.5, "currency": "NGN"},
        {"amountMinor": 10**30, "currency": "NGN"},
        {"amountMinor": 5_000, "currency": "XYZ"},
        {"amountMinor": 5_000, "currency": "NGN", "extra": True},
        {"amountMinor": 5_000, "currency": "NGN", "destinationId": "not-a-uuid"},
        {"amountMinor": 500_000, "currency": "NGN"},
    ],
)
async def test_bad_input_is_a_4xx_problem_and_holds_nothing(
    client, container, paystack_server, body
):
    member = await member_with_money(client, container, paystack_server, 100_000)
    answer = await client.post(
        "/monetization/payout",
        json=body,
        headers={**member.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["code"]
    assert (await member.balance())["onHoldMinor"] == 0
    assert await count(container, "SELECT count(*) FROM payouts") == 0


async def test_someone_elses_destination_is_not_found(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, 100_000)
    other = await member_with_money(client, container, paystack_server, 100_000)
    answer = await member.pay_out(5_000, "k", destinationId=other.destination_id)
    assert (answer.status_code, answer.json()["code"]) == (404, "destination_not_found")
    assert await count(container, "SELECT count(*) FROM payouts") == 0
    gone = await client.delete(
        f"/monetization/payout-destinations/{other.destination_id}", headers=member.headers
    )
    assert gone.status_code == 404


async def test_destination_name_must_be_confirmed(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, 100_000)
    wrong = await client.post(
        "/monetization/payout-destinations",
        json={
            "kind": "bank_account",
            "currency": "NGN",
            "accountNumber": "0123456789",
            "bankCode": "058",
            "accountName": "MALLORY",
        },
        headers=member.headers,
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "account_name_mismatch")
    listed = await client.get("/monetization/payout-destinations", headers=member.headers)
    [only] = listed.json()["items"]
    assert (only["last4"], only["isDefault"]) == ("6789", True)
    assert "0123456789" not in listed.text
    unknown = await client.post(
        "/monetization/payout-destinations/resolve",
        json={
            "kind": "bank_account",
            "currency": "NGN",
            "accountNumber": "9999999999",
            "bankCode": "058",
        },
        headers=member.headers,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "account_unresolvable")


async def _written(container) -> tuple[int, ...]:
    return (
        await count(container, "SELECT count(*) FROM payout_webhook_events"),
        await count(container, "SELECT count(*) FROM transactions"),
        await count(container, "SELECT count(*) FROM payouts WHERE status = 'pending'"),
    )


async def test_forged_replayed_and_unsigned_webhooks_are_401_and_write_nothing(
    client, container, paystack_server, stripe_server
):
    member = await member_with_money(client, container, paystack_server, 100_000)
    payout = (await member.pay_out(40_000, "k")).json()
    await container.send_payout().advance(uuid.UUID(payout["id"]))
    before = await _written(container)
    body, signature = paystack_server.webhook("transfer.success", payout["id"], status="success")
    forged = sign(body, "sk_test_attacker")
    other_body = body.replace(b'"success"', b'"reversed"')
    for content, headers in (
        (body, {"x-paystack-signature": forged}),
        (other_body, {"x-paystack-signature": signature}),
        (body, {}),
    ):
        answer = await client.post(
            "/monetization/webhooks/paystack",
            content=content,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
    transfer = {
        "id": "tr_1",
        "object": "transfer",
        "amount": 40_000,
        "currency": "usd",
        "destination": "acct_x",
        "transfer_group": payout["id"],
    }
    stale_body, stale = stripe_server.webhook(
        "transfer.reversed", transfer, at=int(time.time()) - 301
    )
    fresh_body, fresh = stripe_server.webhook("transfer.reversed", transfer)
    for content, header in ((stale_body, stale), (fresh_body + b" ", fresh), (fresh_body, "")):
        answer = await client.post(
            "/monetization/webhooks/stripe",
            content=content,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        assert answer.status_code == 401, answer.text
    assert await _written(container) == before


async def test_transfer_approval(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, 100_000)
    payout = (await member.pay_out(40_000, "k")).json()
    async with container.unit_of_work() as uow:
        stored = await uow.payouts.get(uuid.UUID(payout["id"]))
    recipient = {"recipient_code": stored.recipient_code}

    async def ask(**transfer: object) -> int:
        body = json.dumps(
            {
                "reference": payout["id"],
                "amount": 40_000,
                "currency": "NGN",
                "recipient": recipient,
                **transfer,
            }
        ).encode()
        answer = await client.post(
            "/monetization/webhooks/paystack/approval",
            content=body,
            headers={"x-paystack-signature": sign(body), "Content-Type": "application/json"},
        )
        return answer.status_code

    assert await ask() == 400  # not being sent yet
    await count(container, "SELECT 1")
    async with container.unit_of_work() as uow:
        from core.domain.payouts import mark_sending

        await uow.payouts.save(mark_sending(stored, container.clock().now()))
        await uow.commit()
    assert await ask() == 200
    assert await ask(reference=str(uuid.uuid4())) == 400
    assert await ask(amount=40_001) == 400
    assert await ask(recipient={"recipient_code": "RCP_attacker"}) == 400


async def test_admins_list_payouts_and_members_cannot(client, container, paystack_server):
    member = await member_with_money(client, container, paystack_server, 100_000)
    await member.pay_out(40_000, "k")
    refused = await client.get("/admin/payouts", headers=member.headers)
    assert refused.status_code == 403
