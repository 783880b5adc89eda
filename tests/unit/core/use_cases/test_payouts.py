"""Payout requests, transfers, notifications and approval — use cases over the fakes."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from core.domain.accuracy import ValidatorRecord
from core.domain.identity import Principal, ProfileStatus
from core.domain.ledger import InsufficientFunds
from core.domain.money import Money
from core.domain.payouts import (
    AccountNameMismatch,
    DestinationNotFound,
    IdempotencyKeyInUse,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    PayoutNotAllowed,
    PayoutRefused,
    PayoutRequest,
    PayoutStatus,
    TransferNotApproved,
    TransferState,
    account_details,
)
from core.errors import InvalidInput, NotAuthenticated, PermissionDenied
from core.ports.payouts import (
    ApprovalRequest,
    ProviderUnreachable,
    TransferOutcomeUnknown,
    TransferRefused,
)
from core.use_cases.payout_transfers import ApproveTransfer, NotificationOutcome, RetryPayout
from tests.payout_world import PayoutWorld

SERVICE = Principal(profile=None, is_service=True)


@pytest.fixture
def world() -> PayoutWorld:
    return PayoutWorld()


async def funded(world: PayoutWorld, minor: int = 10_000):
    member = world.member()
    await world.fund(member, minor)
    await world.destination(member)
    return member


async def test_a_request_holds_the_amount_and_queues_the_transfer(world):
    member = await funded(world)
    receipt = await world.ask(member, 4_000, "k1")
    assert receipt.payout.status is PayoutStatus.REQUESTED
    assert not receipt.replayed
    balance = await world.balance(member)
    assert (balance.available.amount_minor, balance.on_hold.amount_minor) == (6_000, 4_000)
    assert [e.name for e in world.store.outbox] == ["payout.requested"]
    assert "recipient" not in json.dumps(world.store.outbox[0].payload).lower()


async def test_idempotency_keys(world):
    member = await funded(world)
    first = await world.ask(member, 1_000, "k")
    again = await world.ask(member, 1_000, "k")
    assert again.replayed
    assert again.payout == first.payout
    with pytest.raises(IdempotencyKeyReused):
        await world.ask(member, 2_000, "k")
    for missing in (None, "", "  "):
        with pytest.raises(IdempotencyKeyRequired):
            await world.request(member, PayoutRequest(1_000, "NGN", ""), missing)
    assert (await world.balance(member)).on_hold.amount_minor == 1_000


async def test_a_key_held_by_a_running_request_is_409(world):
    member = await funded(world)
    async with world.uow() as running:
        assert await running.payouts.lock_request_key(member.profile.id, "k")
        with pytest.raises(IdempotencyKeyInUse):
            await world.ask(member, 1_000, "k")
    assert (await world.ask(member, 1_000, "k")).payout.status is PayoutStatus.REQUESTED


@pytest.mark.parametrize(
    ("minor", "currency", "code"),
    [
        (0, "NGN", "invalid_amount"),
        (-5, "NGN", "invalid_amount"),
        (99, "NGN", "below_minimum"),
        (1_000, "XYZ", "unsupported_currency"),
        (2**63, "NGN", "invalid_amount"),
    ],
)
async def test_bad_amounts_hold_nothing(world, minor, currency, code):
    member = await funded(world)
    with pytest.raises(InvalidInput) as refused:
        await world.request(member, PayoutRequest(minor, currency, "k"), "k")
    assert refused.value.code == code
    assert (await world.balance(member)).on_hold.amount_minor == 0


async def test_member_rules(world):
    member = await funded(world)
    with pytest.raises(InsufficientFunds):
        await world.ask(member, 10_001, "a")
    await world.ask(member, 1_000, "b")
    with pytest.raises(PayoutRefused) as in_flight:
        await world.ask(member, 1_000, "c")
    assert in_flight.value.code == "payout_in_flight"

    other = await funded(world)
    world.store.clips.stats[other.profile.id] = ValidatorRecord(on_probation=True)
    with pytest.raises(PayoutNotAllowed) as probation:
        await world.ask(other, 1_000, "d")
    assert probation.value.code == "on_probation"

    frozen = await funded(world)
    async with world.uow() as uow:
        await uow.payouts.set_frozen(
            frozen.profile.id, frozen=True, reason="x", at=world.clock.now()
        )
        await uow.commit()
    with pytest.raises(PayoutNotAllowed) as freeze:
        await world.ask(frozen, 1_000, "e")
    assert freeze.value.code == "payouts_frozen"

    suspended = await funded(world)
    world.store.profiles[suspended.profile.id] = replace(
        suspended.profile, status=ProfileStatus.SUSPENDED
    )
    with pytest.raises(PayoutNotAllowed):
        await world.ask(suspended, 1_000, "f")


async def test_daily_cap_counts_the_last_24_hours():
    from core.domain.payouts import PayoutRules

    world = PayoutWorld(PayoutRules(minimums={"NGN": 100}, daily_caps={"NGN": 1_500}))
    member = await funded(world)
    first = await world.ask(member, 1_000, "a")
    await world.sender.advance(first.payout.id)
    await world.deliver(world.store.payouts.payouts[first.payout.id], TransferState.SUCCESS)
    with pytest.raises(PayoutRefused) as capped:
        await world.ask(member, 1_000, "b")
    assert capped.value.code == "daily_cap_reached"
    world.clock.advance(hours=24, seconds=1)
    assert (await world.ask(member, 1_000, "b")).payout.status is PayoutStatus.REQUESTED


async def test_someone_elses_destination_is_not_found(world):
    member = await funded(world)
    stranger = await funded(world)
    theirs = next(
        d for d in world.store.payouts.destinations.values() if d.profile_id == stranger.profile.id
    )
    with pytest.raises(DestinationNotFound):
        await world.request(member, PayoutRequest(1_000, "NGN", "k", theirs.id), "k")
    assert (await world.balance(member)).on_hold.amount_minor == 0


async def test_destination_needs_the_resolved_name_confirmed(world):
    member = world.member()
    world.gateway.names["3141592653"] = "ADA LOVELACE"
    details = account_details("bank_account", "NGN", "3141592653", "058")
    with pytest.raises(AccountNameMismatch):
        await world.add_destination(member, details, confirmed_account_name="Mallory")
    saved = await world.add_destination(member, details, confirmed_account_name="ada lovelace")
    assert (saved.last4, saved.is_default, saved.account_name) == ("2653", True, "ADA LOVELACE")
    assert "3141592653" not in repr(saved)
    assert "3141592653" not in repr(details)


async def test_the_happy_path_settles_once(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    assert await world.sender.advance(payout.id) is PayoutStatus.PENDING
    assert [order.reference for order in world.gateway.sent] == [str(payout.id)]
    world.gateway.finish(str(payout.id), TransferState.SUCCESS)
    stored = world.store.payouts.payouts[payout.id]
    assert await world.deliver(stored, TransferState.SUCCESS) == [NotificationOutcome.APPLIED]
    assert await world.deliver(stored, TransferState.SUCCESS) == [NotificationOutcome.DUPLICATE]
    late = await world.deliver(stored, TransferState.PENDING)
    assert late == [NotificationOutcome.UNCHANGED]
    balance = await world.balance(member)
    assert (balance.available.amount_minor, balance.on_hold.amount_minor) == (6_000, 0)
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.PAID
    names = [e.name for e in world.store.outbox]
    assert names.count("payout.paid") == 1


async def test_reversal_after_success_returns_the_money(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    await world.sender.advance(payout.id)
    await world.deliver(payout, TransferState.SUCCESS)
    await world.deliver(payout, TransferState.REVERSED)
    await world.deliver(payout, TransferState.FAILED)
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.REVERSED
    assert (await world.balance(member)).available.amount_minor == 10_000


async def test_a_lost_answer_is_verified_before_anything_is_sent_again(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    world.gateway.lose_answers = 1
    with pytest.raises(TransferOutcomeUnknown):
        await world.sender.advance(payout.id)
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.SENDING
    assert await world.sender.advance(payout.id) is PayoutStatus.PENDING
    assert len(world.gateway.sent) == 1


async def test_provider_down_waits_then_sends(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    world.gateway.down = True
    for _ in range(3):
        with pytest.raises(ProviderUnreachable):
            await world.sender.advance(payout.id)
    stored = world.store.payouts.payouts[payout.id]
    assert stored.status is PayoutStatus.REQUESTED
    assert stored.failure_code == "provider_unreachable"
    world.gateway.down = False
    assert await world.sender.advance(payout.id) is PayoutStatus.PENDING
    assert len(world.gateway.transfers) == 1


async def test_refusals(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    world.gateway.refusals.append(TransferRefused("Your balance is not enough", permanent=False))
    with pytest.raises(TransferRefused):
        await world.sender.advance(payout.id)
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.REQUESTED
    world.gateway.refusals.append(TransferRefused("Invalid recipient", permanent=True))
    assert await world.sender.advance(payout.id) is PayoutStatus.FAILED
    assert (await world.balance(member)).available.amount_minor == 10_000
    assert [e.name for e in world.store.outbox][-1] == "payout.failed"


async def test_otp_waits_with_a_clear_error(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    world.gateway.accepted_state = TransferState.OTP
    assert await world.sender.advance(payout.id) is PayoutStatus.OTP
    assert (await world.balance(member)).on_hold.amount_minor == 4_000
    world.gateway.finish(str(payout.id), TransferState.SUCCESS)
    summary = await world.reconcile()
    assert (summary.checked, summary.settled) == (1, 1)


async def freeze(world, member, frozen=True):
    async with world.uow() as uow:
        await uow.payouts.set_frozen(
            member.profile.id, frozen=frozen, reason="x", at=world.clock.now()
        )
        await uow.commit()


async def test_a_frozen_members_payout_is_held_not_sent_until_unfrozen(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    await freeze(world, member)
    for _ in range(3):  # the job, then reconciliation again and again: still held
        assert await world.sender.advance(payout.id) is PayoutStatus.REQUESTED
        world.clock.advance(minutes=15)
        await world.reconcile()
    assert world.gateway.sent == []
    held = world.store.payouts.payouts[payout.id]
    assert (held.status, held.failure_code, held.attempts) == (
        PayoutStatus.REQUESTED, "payouts_frozen", 0
    )  # fmt: skip
    balance = await world.balance(member)
    assert (balance.available.amount_minor, balance.on_hold.amount_minor) == (6_000, 4_000)

    await freeze(world, member, frozen=False)
    summary = await world.reconcile()
    assert (summary.checked, summary.in_flight) == (1, 1)
    assert len(world.gateway.sent) == 1
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.PENDING


async def test_a_banned_members_payout_is_held_until_an_admin_cancels_it(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    world.store.profiles[member.profile.id] = replace(member.profile, status=ProfileStatus.BANNED)
    assert await world.sender.advance(payout.id) is PayoutStatus.REQUESTED
    assert world.store.payouts.payouts[payout.id].failure_code == "member_not_active"
    with pytest.raises(PermissionDenied):
        await world.cancel(member, payout.id, "banned")
    cancelled = await world.cancel(SERVICE, payout.id, "banned for fraud")
    assert (cancelled.status, cancelled.failure_code) == (PayoutStatus.FAILED, "cancelled")
    assert world.gateway.sent == []
    assert (await world.balance(member)).available.amount_minor == 10_000
    assert [e.name for e in world.store.outbox][-1] == "payout.failed"
    with pytest.raises(PayoutRefused) as again:
        await world.cancel(SERVICE, payout.id, "twice")
    assert again.value.code == "payout_finished"


async def test_a_payout_that_may_be_at_the_provider_is_verified_before_a_cancel(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    assert await world.sender.advance(payout.id) is PayoutStatus.PENDING  # sent
    with pytest.raises(PayoutRefused) as finished:
        await world.cancel(SERVICE, payout.id, "too late")
    assert finished.value.code == "payout_finished"
    # A payout left `sending` (answer lost) that the provider has: applied, cancel refused.
    other = await funded(world)
    sending = (await world.ask(other, 4_000, "k2")).payout
    world.gateway.lose_answers = 1
    with pytest.raises(TransferOutcomeUnknown):
        await world.sender.advance(sending.id)
    assert world.store.payouts.payouts[sending.id].status is PayoutStatus.SENDING
    with pytest.raises(PayoutRefused) as at_provider:
        await world.cancel(SERVICE, sending.id, "late")
    assert at_provider.value.code == "payout_at_provider"
    assert world.store.payouts.payouts[sending.id].status is PayoutStatus.PENDING
    assert len(world.gateway.sent) == 2


async def test_webhooks_refuse_bad_signatures_and_ignore_strangers(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    body = world.verifier.body("e", str(payout.id), TransferState.SUCCESS, payout.amount)
    with pytest.raises(NotAuthenticated):
        await world.webhook(body, "signed:forged")
    other = world.verifier.body("e2", str(payout.id), TransferState.SUCCESS, Money(1, "NGN"))
    assert await world.webhook(other, world.verifier.sign(other)) == [NotificationOutcome.IGNORED]
    stranger = world.verifier.body("e3", str(uuid.uuid4()), TransferState.SUCCESS, payout.amount)
    ignored = await world.webhook(stranger, world.verifier.sign(stranger))
    assert ignored == [NotificationOutcome.IGNORED]
    assert world.store.payouts.payouts[payout.id].status is PayoutStatus.REQUESTED


class FakeApprovals:
    def __init__(self, requests):
        self.requests = requests

    def approval_requests(self, body, signature):
        return self.requests


async def test_approval_only_for_our_payout_being_sent(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout

    async def approve(reference, amount, recipient):
        use_case = ApproveTransfer(
            uow_factory=world.uow,
            verifier=FakeApprovals([ApprovalRequest(reference, amount, recipient)]),
        )
        return await use_case(b"", "")

    ours = (str(payout.id), payout.amount, payout.recipient_code)
    with pytest.raises(TransferNotApproved):
        await approve(*ours)  # not being sent yet
    async with world.uow() as uow:
        from core.domain.payouts import mark_sending

        await uow.payouts.save(mark_sending(payout, world.clock.now()))
        await uow.commit()
    assert await approve(*ours) == 1
    for bad in (
        (str(uuid.uuid4()), payout.amount, payout.recipient_code),
        (str(payout.id), Money(4_001, "NGN"), payout.recipient_code),
        (str(payout.id), payout.amount, "RCP_attacker"),
    ):
        with pytest.raises(TransferNotApproved):
            await approve(*bad)


async def test_retry_refuses_finished_payouts(world):
    member = await funded(world)
    payout = (await world.ask(member, 4_000, "k")).payout
    retry = RetryPayout(uow_factory=world.uow, sender=world.sender)
    assert await retry(payout.id) is PayoutStatus.PENDING
    await world.deliver(payout, TransferState.FAILED)
    with pytest.raises(PayoutRefused):
        await retry(payout.id)
