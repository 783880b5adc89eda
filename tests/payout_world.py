"""Payout use cases over the in-memory fakes: members with money, destinations, a provider."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.domain.identity import Principal, Profile
from core.domain.ledger import reward_earned, reward_released
from core.domain.money import Money
from core.domain.payouts import (
    Payout,
    PayoutDestination,
    PayoutRequest,
    PayoutRules,
    TransferState,
    account_details,
)
from core.use_cases.payout_destinations import AddPayoutDestination
from core.use_cases.payout_transfers import (
    CancelHeldPayout,
    HandleTransferWebhook,
    ReconcilePayouts,
    SendPayout,
)
from core.use_cases.payouts import PayoutReceipt, RequestPayout
from tests.fake_payouts import FakeGateways, FakePayoutGateway, FakeTransferVerifier
from tests.fakes import FakeUnitOfWork, FixedClock, InMemoryStore, SequentialIds

RULES = PayoutRules(minimums={"NGN": 100}, daily_caps={"NGN": 10**12})


class PayoutWorld:
    def __init__(self, rules: PayoutRules = RULES) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.gateway = FakePayoutGateway()
        self.gateways = FakeGateways(self.gateway)
        self.verifier = FakeTransferVerifier()
        self.request = RequestPayout(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            rules=rules,
        )
        self.sender = SendPayout(
            uow_factory=self.uow, gateways=self.gateways, clock=self.clock, ids=self.ids
        )
        self.reconcile = ReconcilePayouts(
            uow_factory=self.uow, sender=self.sender, clock=self.clock, older_than=timedelta(0)
        )
        self.webhook = HandleTransferWebhook(
            uow_factory=self.uow, verifier=self.verifier, clock=self.clock, ids=self.ids
        )
        self.cancel = CancelHeldPayout(
            uow_factory=self.uow, gateways=self.gateways, clock=self.clock, ids=self.ids
        )
        self.add_destination = AddPayoutDestination(
            uow_factory=self.uow, gateways=self.gateways, clock=self.clock, ids=self.ids
        )

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def member(self) -> Principal:
        profile = Profile.new(uuid.uuid4(), self.clock.now())
        self.store.profiles[profile.id] = profile
        return Principal(profile=profile)

    async def fund(self, principal: Principal, minor: int) -> None:
        assert principal.profile is not None
        async with self.uow() as uow:
            earned = reward_earned(
                transaction_id=self.ids.new_id(),
                profile_id=principal.profile.id,
                clip_id=uuid.uuid4(),
                reward_kind="clip_accepted",
                amount=Money(minor, "NGN"),
                occurred_at=self.clock.now(),
            )
            await uow.ledger.post(earned)
            await uow.ledger.post(
                reward_released(
                    transaction_id=self.ids.new_id(), earning=earned, occurred_at=self.clock.now()
                )
            )
            await uow.commit()

    async def destination(
        self, principal: Principal, number: str = "0123456789"
    ) -> PayoutDestination:
        self.gateway.names[number] = "ADA LOVELACE"
        details = account_details("bank_account", "NGN", number, "058")
        return await self.add_destination(
            principal, details, confirmed_account_name="Ada  Lovelace"
        )

    async def ask(self, principal: Principal, minor: int, key: str) -> PayoutReceipt:
        return await self.request(principal, PayoutRequest(minor, "NGN", key), key)

    async def deliver(self, payout: Payout, state: TransferState, key: str | None = None) -> object:
        body = self.verifier.body(
            key or f"{payout.id}:{state}", str(payout.id), state, payout.amount
        )
        return await self.webhook(body, self.verifier.sign(body))

    async def balance(self, principal: Principal):
        assert principal.profile is not None
        async with self.uow() as uow:
            return await uow.ledger.member_balance(principal.profile.id, "NGN")

    def payouts(self) -> list[Payout]:
        return list(self.store.payouts.payouts.values())
