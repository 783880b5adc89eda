"""Any interleaving of requests, replays (same key, other body), worker attempts with lost
answers and outages, provider outcomes, duplicated and reordered webhooks and reconciliation
conserves money, never sends a second transfer for one payout, and ends each payout in
exactly one final state."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core.domain.ledger import (
    TransactionKind,
    payout_failed_reference,
    payout_reversed_reference,
    payout_settled_reference,
)
from core.domain.payouts import IN_FLIGHT, PayoutStatus, TransferState
from core.errors import DomainError
from core.ports.payouts import TransferOrder
from tests.fake_payouts import FakePayoutGateway
from tests.payout_world import PayoutWorld

FUNDS = 10_000
KEYS = ("a", "b", "c", "d")
AMOUNTS = st.sampled_from([100, 1_500, 4_000, 9_000, 12_000])
FINISHES = st.sampled_from([TransferState.SUCCESS, TransferState.FAILED, TransferState.REVERSED])


class CountingGateway(FakePayoutGateway):
    """Counts requests sent for a reference the provider already had: must stay zero."""

    def __init__(self) -> None:
        super().__init__()
        self.second_sends = 0

    async def send_transfer(self, order: TransferOrder):
        if order.reference in self.transfers:
            self.second_sends += 1
        return await super().send_transfer(order)


class PayoutMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world = PayoutWorld()
        self.world.gateway = CountingGateway()
        self.world.gateways.by_name["paystack"] = self.world.gateway
        self.bodies: dict[str, int] = {}
        self.deliveries: list[tuple[str, TransferState]] = []
        self.history: dict[str, list[PayoutStatus]] = {}

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.settle_everything()
        finally:
            self.loop.close()

    @initialize()
    def member_with_money(self) -> None:
        self.member = self.world.member()
        self.run(self.world.fund(self.member, FUNDS))
        self.run(self.world.destination(self.member))

    # -- the member ----------------------------------------------------------------------

    @rule(key=st.sampled_from(KEYS), amount=AMOUNTS)
    def request(self, key: str, amount: int) -> None:
        try:
            receipt = self.run(self.world.ask(self.member, amount, key))
        except DomainError as error:
            refused = error.code
        else:
            refused = None
        if refused is not None:
            if key in self.bodies and self.bodies[key] != amount:
                assert refused == "idempotency_key_reused"
            else:
                assert refused in {"insufficient_funds", "payout_in_flight"}, refused
            return
        if key in self.bodies:
            assert receipt.replayed
            assert self.bodies[key] == amount
        else:
            assert not receipt.replayed
            self.bodies[key] = amount

    # -- the worker and the provider ------------------------------------------------------

    @rule(lose=st.booleans(), down=st.booleans())
    def worker_attempt(self, lose: bool, down: bool) -> None:
        gateway = self.world.gateway
        gateway.lose_answers, gateway.down = int(lose), down
        for payout in self.in_flight():
            try:
                self.run(self.world.sender.advance(payout.id))
            except DomainError as error:
                trouble = error.code
            else:
                trouble = None
            assert trouble in {None, "provider_unreachable", "transfer_outcome_unknown"}
        gateway.lose_answers, gateway.down = 0, False

    @rule(state=FINISHES, data=st.data())
    def provider_finishes(self, state: TransferState, data: st.DataObject) -> None:
        references = sorted(self.world.gateway.transfers)
        if not references:
            return
        reference = data.draw(st.sampled_from(references))
        transfer = self.world.gateway.transfers[reference]
        if transfer.state is TransferState.REVERSED:
            return
        if state is TransferState.REVERSED and transfer.state is not TransferState.SUCCESS:
            return  # only a paid transfer is reversed
        if transfer.state is TransferState.FAILED or (
            transfer.state is TransferState.SUCCESS and state is not TransferState.REVERSED
        ):
            return  # providers do not change a final answer
        self.world.gateway.finish(reference, state)
        self.deliveries.append((reference, state))

    @rule(data=st.data())
    def deliver_webhook(self, data: st.DataObject) -> None:
        """Any earlier notification, again or out of order."""
        if not self.deliveries:
            return
        reference, state = data.draw(st.sampled_from(self.deliveries))
        payout = next(p for p in self.world.payouts() if str(p.id) == reference)
        self.run(self.world.deliver(payout, state))

    @rule()
    def reconcile(self) -> None:
        self.run(self.world.reconcile())

    # -- invariants ----------------------------------------------------------------------

    def in_flight(self):
        return [p for p in self.world.payouts() if p.status in IN_FLIGHT]

    @invariant()
    def money_is_conserved(self) -> None:
        if not hasattr(self, "member"):
            return
        balance = self.run(self.world.balance(self.member))
        paid = sum(
            p.amount.amount_minor for p in self.world.payouts() if p.status is PayoutStatus.PAID
        )
        held = sum(p.amount.amount_minor for p in self.in_flight())
        assert balance.available.amount_minor >= 0
        assert balance.on_hold.amount_minor == held
        assert balance.available.amount_minor + held + paid == FUNDS
        ledger = self.world.store.ledger
        assert sum(p.amount.amount_minor for tx in ledger.transactions for p in tx.postings) == 0

    @invariant()
    def each_payout_moves_money_once_and_only_forward(self) -> None:
        kinds = Counter(tx.kind for tx in self.world.store.ledger.transactions)
        assert kinds[TransactionKind.PAYOUT_HELD] == len(self.world.payouts())
        references = {tx.reference for tx in self.world.store.ledger.transactions}
        for payout in self.world.payouts():
            seen = self.history.setdefault(str(payout.id), [])
            if not seen or seen[-1] is not payout.status:
                seen.append(payout.status)
            settled = payout_settled_reference(payout.id) in references
            failed = payout_failed_reference(payout.id) in references
            reversed_ = payout_reversed_reference(payout.id) in references
            assert not (settled and failed)
            if payout.status is PayoutStatus.PAID:
                assert settled
                assert not reversed_
            elif payout.status is PayoutStatus.FAILED:
                assert failed
            elif payout.status is PayoutStatus.REVERSED:
                assert (settled and reversed_) or failed
            else:
                assert not settled
                assert not failed
                assert not reversed_
            finals = [s for s in seen if s in {PayoutStatus.FAILED, PayoutStatus.REVERSED}]
            assert len(finals) <= 1
            assert not finals or seen[-1] is finals[0]
        assert self.world.gateway.second_sends == 0

    def settle_everything(self) -> None:
        """The provider finishes every transfer and reconciliation catches up: every payout
        ends in exactly one final state."""
        gateway = self.world.gateway
        gateway.down, gateway.lose_answers = False, 0
        for _ in range(3):
            for reference, transfer in gateway.transfers.items():
                if transfer.state in {TransferState.PENDING, TransferState.OTP}:
                    gateway.finish(reference, TransferState.SUCCESS)
            self.run(self.world.reconcile())
        assert self.in_flight() == []
        self.money_is_conserved()
        self.each_payout_moves_money_once_and_only_forward()
        assert len(gateway.transfers) <= len(self.world.payouts())


PayoutMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPayoutMachine = PayoutMachine.TestCase


def test_the_machine_can_reach_every_final_state() -> None:
    """A guard against a machine that never gets anywhere."""
    machine = PayoutMachine()
    machine.member_with_money()
    machine.request("a", 1_500)
    machine.worker_attempt(lose=False, down=False)
    reference = next(iter(machine.world.gateway.transfers))
    machine.world.gateway.finish(reference, TransferState.SUCCESS)
    machine.deliveries.append((reference, TransferState.SUCCESS))
    payout = machine.world.payouts()[0]
    machine.run(machine.world.deliver(payout, TransferState.SUCCESS))
    assert machine.world.payouts()[0].status is PayoutStatus.PAID
    machine.teardown()
