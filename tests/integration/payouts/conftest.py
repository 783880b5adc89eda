"""Payout fixtures: real PostgreSQL, the real Paystack and Stripe clients against contract
servers on 127.0.0.1, members with money and a confirmed destination."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from core.domain.ledger import reward_earned, reward_released
from core.domain.money import Money
from entrypoints.container import Container
from entrypoints.settings import Secret, Settings
from tests.contracts.paystack_server import PaystackContractServer, paystack_server
from tests.contracts.stripe_server import StripeContractServer, stripe_server
from tests.tokens import member_headers

__all__ = ["paystack_server", "stripe_server"]

ACCOUNT, BANK, NAME = "0123456789", "058", "ADA LOVELACE"


@pytest.fixture
def settings(
    settings: Settings, paystack_server: PaystackContractServer, stripe_server: StripeContractServer
) -> Settings:
    payouts = replace(
        settings.payouts,
        provider="paystack",
        paystack_api_base=paystack_server.base_url,
        stripe_secret_key=Secret(stripe_server.secret_key),
        stripe_webhook_secret=Secret(stripe_server.webhook_secret),
        stripe_api_base=stripe_server.base_url,
        minimums={"NGN": 100, "USD": 100},
        daily_caps={"NGN": 10**12, "USD": 10**12},
        timeout_seconds=5.0,
    )
    return replace(
        settings,
        paystack_secret_key=Secret(paystack_server.secret_key),
        payouts=payouts,
        write_rate_limit_per_minute=100_000,
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """A container of the test's own (the app under ``AsyncTestClient`` runs elsewhere)."""
    built = Container(settings=settings)
    yield built
    await built.payout_gateways().aclose()
    await built.engine().dispose()


async def fund(container: Container, member_id: uuid.UUID, minor: int) -> None:
    """Earned and released: ``minor`` kobo available."""
    clock, ids = container.clock(), container.ids()
    async with container.unit_of_work() as uow:
        await uow.connection.execute(
            sa.text(
                "INSERT INTO profiles (id, role, status, created_at, updated_at) "
                "VALUES (:id, 'member', 'active', now(), now()) ON CONFLICT DO NOTHING"
            ),
            {"id": member_id},
        )
        clip_id = uuid.uuid4()
        await uow.connection.execute(
            sa.text(
                "INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, "
                "audio_key, audio_format, mime_type, duration_ms, size_bytes, queue_rank, "
                "created_at) VALUES (:id, :member, :client, 'yo', 'p', 'k', 'wav', "
                "'audio/wav', 2000, 100, 0, now())"
            ),
            {"id": clip_id, "member": member_id, "client": uuid.uuid4()},
        )
        earned = reward_earned(
            transaction_id=ids.new_id(),
            profile_id=member_id,
            clip_id=clip_id,
            reward_kind="clip_accepted",
            amount=Money(minor, "NGN"),
            occurred_at=clock.now(),
        )
        await uow.ledger.post(earned)
        await uow.ledger.post(
            reward_released(transaction_id=ids.new_id(), earning=earned, occurred_at=clock.now())
        )
        await uow.commit()


class Member:
    """A member with money and a confirmed Paystack destination, acting over HTTP."""

    def __init__(self, client: AsyncTestClient, member_id: uuid.UUID) -> None:
        self.client = client
        self.id = member_id
        self.headers = member_headers(member_id)
        self.destination_id: str | None = None

    async def add_destination(self, paystack: PaystackContractServer) -> dict:
        paystack.accounts[ACCOUNT, BANK] = NAME
        account = {"kind": "bank_account", "currency": "NGN", "accountNumber": ACCOUNT,
                   "bankCode": BANK}  # fmt: skip
        resolved = await self.client.post(
            "/monetization/payout-destinations/resolve", json=account, headers=self.headers
        )
        assert resolved.status_code == 200, resolved.text
        saved = await self.client.post(
            "/monetization/payout-destinations",
            json={**account, "accountName": resolved.json()["accountName"]},
            headers=self.headers,
        )
        assert saved.status_code == 201, saved.text
        self.destination_id = saved.json()["id"]
        return saved.json()

    async def pay_out(self, minor: int, key: str | None, **body: object):
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.client.post(
            "/monetization/payout",
            json={"amountMinor": minor, "currency": "NGN", **body},
            headers=headers,
        )

    async def balance(self) -> dict:
        answer = await self.client.get("/monetization/balance", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


async def member_with_money(
    client: AsyncTestClient, container: Container, paystack: PaystackContractServer, minor: int
) -> Member:
    member = Member(client, uuid.uuid4())
    await fund(container, member.id, minor)
    await member.add_destination(paystack)
    return member


async def count(container: Container, sql: str, **params: object) -> int:
    async with container.engine().connect() as connection:
        return int((await connection.execute(sa.text(sql), params)).scalar_one())
