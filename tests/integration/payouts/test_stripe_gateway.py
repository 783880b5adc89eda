"""The Stripe adapter with the official SDK against the Stripe contract server: account
resolution, one transfer per reference (idempotency key and lookup by transfer group), and
the SDK's webhook signature check."""

from __future__ import annotations

import time

import pytest

from adapters.stripe.payouts import StripePayoutGateway, StripeWebhookVerifier
from core.domain.money import Money
from core.domain.payouts import TransferState, account_details
from core.errors import InvalidInput, NotAuthenticated
from core.ports.payouts import TransferOrder, TransferRefused
from tests.contracts.stripe_server import StripeContractServer, stripe_server

__all__ = ["stripe_server"]


@pytest.fixture
def gateway(stripe_server: StripeContractServer) -> StripePayoutGateway:
    return StripePayoutGateway(secret_key=stripe_server.secret_key, base_url=stripe_server.base_url)


async def test_resolve_send_and_find_one_transfer(gateway, stripe_server):
    stripe_server.add_account("acct_1Chorus0001", "Ada's Studio")
    details = account_details("stripe_account", "USD", "acct_1Chorus0001")
    assert (await gateway.resolve_account(details)).account_name == "Ada's Studio"
    with pytest.raises(InvalidInput):
        await gateway.resolve_account(account_details("stripe_account", "USD", "acct_missing00"))
    order = TransferOrder("7d1c4c52-0c4c-4c4c-8c4c-0c4c4c4c4c4c", Money(2_500, "USD"),
                          "acct_1Chorus0001", "Chorus earnings")  # fmt: skip
    assert await gateway.find_transfer(order.reference) is None
    first = await gateway.send_transfer(order)
    again = await gateway.send_transfer(order)  # same idempotency key: the same transfer
    assert first == again
    assert first.state is TransferState.SUCCESS
    assert len(stripe_server.transfers) == 1
    assert (await gateway.find_transfer(order.reference)) == first
    stripe_server.reverse(first.transfer_code)
    assert (await gateway.find_transfer(order.reference)).state is TransferState.REVERSED
    stripe_server.balance_minor = 0
    other = TransferOrder("8d1c4c52-0c4c-4c4c-8c4c-0c4c4c4c4c4c", Money(2_500, "USD"),
                          "acct_1Chorus0001", "Chorus earnings")  # fmt: skip
    with pytest.raises(TransferRefused) as refused:
        await gateway.send_transfer(other)
    assert not refused.value.permanent  # our balance: an operator tops it up, the payout waits


def test_webhook_signatures(stripe_server):
    verifier = StripeWebhookVerifier(webhook_secret=stripe_server.webhook_secret)
    transfer = {"id": "tr_1", "object": "transfer", "amount": 2_500, "currency": "usd",
                "destination": "acct_1", "transfer_group": "ref-1", "reversed": True,
                "amount_reversed": 2_500}  # fmt: skip
    body, signature = stripe_server.webhook("transfer.reversed", transfer)
    [event] = verifier.verify(body, signature)
    assert (event.reference, event.observation.state) == ("ref-1", TransferState.REVERSED)
    assert event.amount == Money(2_500, "USD")
    stale_body, stale = stripe_server.webhook(
        "transfer.reversed", transfer, at=int(time.time()) - 301
    )
    for content, header in ((stale_body, stale), (body + b" ", signature), (body, "")):
        with pytest.raises(NotAuthenticated):
            verifier.verify(content, header)
