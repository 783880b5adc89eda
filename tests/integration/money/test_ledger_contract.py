"""LedgerRepository and RewardRateRepository: one contract, kept by the fakes and by
PostgreSQL alike (the ``world`` fixture runs each test on both)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core.domain.ledger import (
    AlreadyClosed,
    DuplicateReference,
    InsufficientFunds,
    JournalTransaction,
    UnknownTransaction,
    payout_held,
    reward_earned,
    reward_released,
    reward_reversed,
)
from core.domain.money import Money
from core.domain.rewards import RewardKind, RewardRate
from core.ports.ledger import RateRecord
from tests.integration.money.helpers import NOW
from tests.integration.money.worlds import World


def ngn(minor: int) -> Money:
    return Money(minor, "NGN")


def earning(
    member: uuid.UUID, clip: uuid.UUID, minor: int = 1000, *, at=NOW, kind="clip_accepted"
) -> JournalTransaction:
    return reward_earned(
        transaction_id=uuid.uuid4(),
        profile_id=member,
        clip_id=clip,
        reward_kind=kind,
        amount=ngn(minor),
        occurred_at=at,
    )


def release(of: JournalTransaction, at=NOW) -> JournalTransaction:
    return reward_released(transaction_id=uuid.uuid4(), earning=of, occurred_at=at)


def reversal(of: JournalTransaction, at=NOW) -> JournalTransaction:
    return reward_reversed(transaction_id=uuid.uuid4(), earning=of, occurred_at=at, memo="removed")


async def post(world: World, *transactions: JournalTransaction) -> tuple[bool, ...]:
    async with world.uow() as uow:
        flags = await uow.ledger.post_all(list(transactions))
        await uow.commit()
    return flags


async def setup(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    member = await world.member()
    clip = await world.clip(await world.member())
    return member, clip


async def test_a_post_is_recorded_once_and_a_replay_changes_nothing(world):
    member, clip = await setup(world)
    first = earning(member, clip)
    assert await post(world, first) == (True,)
    again = earning(member, clip)  # same movement, another id: a replay
    assert await post(world, again, again) == (False, False)
    async with world.uow() as uow:
        assert await uow.ledger.by_reference(first.reference) == first
        balance = await uow.ledger.member_balance(member, "NGN")
    assert (balance.pending, balance.available, balance.lifetime_earned) == (
        ngn(1000),
        ngn(0),
        ngn(1000),
    )


async def test_a_repeat_within_one_call_is_a_replay(world):
    member, clip = await setup(world)
    tx = earning(member, clip)
    assert await post(world, tx, tx) == (True, False)


async def test_another_movement_under_a_used_reference_is_refused(world):
    member, clip = await setup(world)
    await post(world, earning(member, clip, 1000))
    with pytest.raises(DuplicateReference):
        await post(world, earning(member, clip, 1500))
    async with world.uow() as uow:
        assert (await uow.ledger.member_balance(member, "NGN")).pending == ngn(1000)


async def test_an_earning_is_released_or_reversed_once(world):
    member, clip = await setup(world)
    earned = earning(member, clip)
    await post(world, earned)
    assert await post(world, release(earned)) == (True,)
    assert await post(world, release(earned)) == (False,)  # replayed release
    with pytest.raises(AlreadyClosed):
        await post(world, reversal(earned))
    async with world.uow() as uow:
        balance = await uow.ledger.member_balance(member, "NGN")
    assert (balance.pending, balance.available, balance.lifetime_earned) == (
        ngn(0),
        ngn(1000),
        ngn(1000),
    )


async def test_reversal_takes_back_pending_and_lifetime(world):
    member, clip = await setup(world)
    earned = earning(member, clip, 700)
    await post(world, earned, earning(member, clip, 300, kind="validation_agreed"))
    await post(world, reversal(earned))
    async with world.uow() as uow:
        balance = await uow.ledger.member_balance(member, "NGN")
    assert (balance.pending, balance.lifetime_earned) == (ngn(300), ngn(300))


async def test_overdrafts_and_unknown_closings_are_refused(world):
    member, clip = await setup(world)
    await post(world, earning(member, clip, 1000))
    hold = payout_held(
        transaction_id=uuid.uuid4(),
        payout_id=uuid.uuid4(),
        profile_id=member,
        amount=ngn(1),
        occurred_at=NOW,
    )
    with pytest.raises(InsufficientFunds):
        await post(world, hold)  # the money is still pending, nothing is available
    with pytest.raises(UnknownTransaction):
        await post(world, release(earning(member, clip, 5)))
    async with world.uow() as uow:
        balance = await uow.ledger.member_balance(member, "NGN")
    assert (balance.available, balance.on_hold, balance.pending) == (ngn(0), ngn(0), ngn(1000))


async def test_due_earnings_oldest_first_closed_and_hidden_ones_left_out(world):
    member = await world.member()
    contributor = await world.member()
    clips = [await world.clip(contributor) for _ in range(4)]
    earnings = [earning(member, clip, at=NOW + timedelta(hours=n)) for n, clip in enumerate(clips)]
    await post(world, *reversed(earnings))
    await post(world, release(earnings[1]))
    await world.set_visibility(clips[2], "hidden")
    async with world.uow() as uow:
        due = await uow.ledger.lock_due_earnings(earned_up_to=NOW + timedelta(hours=3), limit=10)
        assert [tx.id for tx in due] == [earnings[0].id, earnings[3].id]
        limited = await uow.ledger.lock_due_earnings(earned_up_to=NOW + timedelta(hours=3), limit=1)
        assert [tx.id for tx in limited] == [earnings[0].id]
        early = await uow.ledger.lock_due_earnings(
            earned_up_to=NOW - timedelta(seconds=1), limit=10
        )
        assert early == []
        assert [tx.id for tx in await uow.ledger.lock_open_earnings_of_clip(clips[2])] == [
            earnings[2].id
        ]
        assert await uow.ledger.lock_open_earnings_of_clip(clips[1]) == []
        assert [tx.id for tx in await uow.ledger.earnings_of_clip(clips[1])] == [earnings[1].id]


async def test_history_newest_first_with_what_each_entry_was_for(world):
    member, clip = await setup(world)
    other = await world.member()
    first = earning(member, clip, 500, at=NOW)
    second = earning(member, clip, 200, at=NOW + timedelta(minutes=1), kind="validation_agreed")
    await post(world, first, second, earning(other, clip, 999))
    await post(world, release(first, at=NOW + timedelta(minutes=2)))
    async with world.uow() as uow:
        page = await uow.ledger.history(member, before=None, limit=2)
        last = page[-1].transaction
        rest = await uow.ledger.history(member, before=(last.occurred_at, last.id), limit=2)
    entries = [*page, *rest]
    assert [e.transaction.kind.value for e in entries] == [
        "reward_released",
        "reward_earned",
        "reward_earned",
    ]
    assert [e.transaction.amount.amount_minor for e in entries] == [500, 200, 500]
    assert [(e.clip_id, e.reward_kind) for e in entries] == [
        (clip, "clip_accepted"),
        (clip, "validation_agreed"),
        (clip, "clip_accepted"),
    ]


async def test_a_member_without_accounts_has_zero_everywhere(world):
    async with world.uow() as uow:
        balance = await uow.ledger.member_balance(uuid.uuid4(), "GHS")
        assert await uow.ledger.history(uuid.uuid4(), before=None, limit=5) == []
    assert balance.available == balance.pending == balance.on_hold == Money(0, "GHS")


# -- reward rates --------------------------------------------------------------------------


def rate(kind=RewardKind.CLIP_ACCEPTED, minor=1000, currency="NGN", language=None, **when):
    return RewardRate(
        id=uuid.uuid4(),
        kind=kind,
        amount=Money(minor, currency),
        valid_from=when.get("valid_from", NOW),
        valid_to=when.get("valid_to"),
        language=language,
    )


async def test_rates_in_force_and_their_slots(world):
    admin = await world.member()
    rates = [
        rate(minor=1000),
        rate(minor=1500, language="yo", valid_from=NOW + timedelta(days=1)),
        rate(minor=900, valid_to=NOW + timedelta(days=2)),  # ends
        rate(RewardKind.VALIDATION_AGREED, minor=100, valid_from=NOW - timedelta(days=1)),
        rate(minor=4, currency="USD"),
        rate(minor=1200, language="ha"),
    ]
    async with world.uow() as uow:
        for r in rates[:3]:  # two share a slot: same kind, currency, language and start
            added = await uow.reward_rates.add_if_absent(RateRecord(r, admin, NOW))
            assert added is (r is not rates[2])
        for r in rates[3:]:
            assert await uow.reward_rates.add_if_absent(RateRecord(r, None, NOW))
        await uow.commit()
    async with world.uow() as uow:
        at_day_one = await uow.reward_rates.in_force(
            currency="NGN", language="yo", at=NOW + timedelta(days=1)
        )
        listed = await uow.reward_rates.list_rates(currency="NGN", kind=RewardKind.CLIP_ACCEPTED)
        everything = await uow.reward_rates.list_rates()
    assert {r.id for r in at_day_one} == {rates[0].id, rates[1].id, rates[3].id}
    same_start = sorted([rates[0].id, rates[5].id])  # ties: by id
    assert [r.rate.id for r in listed] == [rates[1].id, *same_start]
    assert listed[0].created_by == admin
    assert len(everything) == 5
    paged: list = []
    after = None
    async with world.uow() as uow:
        while True:  # two at a time, through the ties (same start and creation: by id)
            page = await uow.reward_rates.list_rates(after=after, limit=2)
            paged += page
            if len(page) < 2:
                break
            last = page[-1]
            after = (last.rate.valid_from, last.created_at, last.rate.id)
    assert [r.rate.id for r in paged] == [r.rate.id for r in everything]
