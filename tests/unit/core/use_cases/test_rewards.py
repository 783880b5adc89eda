"""Rewards on consensus, release, reversal, balances and rates — use cases over the fakes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import ClipStatus, Verdict, Visibility, VoteOutcome
from core.domain.consensus import MajorityPolicy
from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.ledger import TransactionKind, reward_released
from core.domain.money import Money
from core.domain.rewards import InvalidRewardRate, RewardKind, RewardRate, RewardRules
from core.domain.validation import ValidationRules, VoteRecord
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.ports.ledger import RateRecord
from core.use_cases.clips import ClipUpload, SubmitClip
from core.use_cases.gold import MarkGold
from core.use_cases.reward_rates import AddRewardRate, ListRewardRates, NewRewardRate
from core.use_cases.rewards import (
    ReleaseMaturedEarnings,
    ReverseClipEarnings,
    post_decision_rewards,
)
from core.use_cases.validation import SubmitVote
from core.use_cases.wallet import GetMyBalance, ListMyTransactions
from tests.fake_clips import FakeAudioInspector, InMemoryBlobStore, fake_audio
from tests.fakes import (
    FakeBalanceLookup,
    FakeTextScreener,
    FakeUnitOfWork,
    FixedClock,
    InMemoryStore,
    SequentialIds,
)

MAJORITY = ValidationRules(policy=MajorityPolicy())
CLIP_RATE, AGREED_RATE, YORUBA_CLIP_RATE = 5_000, 1_000, 7_500


def ngn(minor: int) -> Money:
    return Money(minor, "NGN")


class World:
    """Use cases over one in-memory store, with rates in force from the start."""

    def __init__(self, rules: ValidationRules = MAJORITY) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.rules = rules
        self.rewards = RewardRules()
        start = self.clock.now() - timedelta(days=1)
        for kind, minor, language in [
            (RewardKind.CLIP_ACCEPTED, CLIP_RATE, None),
            (RewardKind.VALIDATION_AGREED, AGREED_RATE, None),
            (RewardKind.CLIP_ACCEPTED, YORUBA_CLIP_RATE, "yo"),
            (RewardKind.CLIP_ACCEPTED, 99, "ha"),  # another language: never used here
            (RewardKind.VALIDATION_AGREED, 3, None),  # an older generic rate, superseded
        ]:
            valid_from = start - timedelta(days=1) if minor == 3 else start
            rate = RewardRate(uuid.uuid4(), kind, ngn(minor), valid_from, language=language)
            self.store.ledger.rates.append(RateRecord(rate, None, start))

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def member(self, role: Role = Role.MEMBER) -> Principal:
        profile = replace(Profile.new(uuid.uuid4(), self.clock.now()), role=role)
        self.store.profiles[profile.id] = profile
        return Principal(profile=profile)

    def set_status(self, principal: Principal, status: ProfileStatus) -> None:
        profile = self.store.profiles[principal.profile_id]
        self.store.profiles[profile.id] = replace(profile, status=status)

    async def clip(self, language: str = "yo") -> tuple[uuid.UUID, Principal]:
        owner = self.member()
        submit = SubmitClip(
            uow_factory=self.uow,
            blobs=InMemoryBlobStore(),
            inspector=FakeAudioInspector(),
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
            screener=FakeTextScreener(),
        )
        submitted = await submit(owner, ClipUpload(uuid.uuid4(), language, "Hi", fake_audio(2000)))
        self.clock.advance(seconds=1)
        return submitted.clip.id, owner

    def serve(self, voter: Principal, clip_id: uuid.UUID) -> None:
        """As if the queue had served the clip a while ago."""
        key = (voter.profile_id, clip_id)
        self.store.clips.servings.setdefault(key, self.clock.now() - timedelta(minutes=1))

    async def vote(self, voter: Principal, clip_id: uuid.UUID, verdict: Verdict = Verdict.VALID):
        self.serve(voter, clip_id)
        vote = SubmitVote(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
            rewards=self.rewards,
        )
        return await vote(voter, clip_id, verdict)

    def release(self, batch_size: int = 200) -> ReleaseMaturedEarnings:
        return ReleaseMaturedEarnings(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            rules=self.rewards,
            batch_size=batch_size,
        )

    def earned(self) -> dict[tuple[uuid.UUID, str], int]:
        return {
            (tx.member_id, tx.metadata["reward_kind"]): tx.amount.amount_minor
            for tx in self.store.ledger.transactions
            if tx.kind is TransactionKind.REWARD_EARNED
        }

    def set_visibility(self, clip_id: uuid.UUID, visibility: Visibility) -> None:
        clips = self.store.clips.clips
        clips[clip_id] = replace(clips[clip_id], visibility=visibility)

    def events(self, name: str) -> list:
        return [e for e in self.store.outbox if e.name == name]

    async def balance(self, principal: Principal):
        return await GetMyBalance(balances=FakeBalanceLookup(self.store), rules=self.rewards)(
            principal
        )


# -- earning on a decision -----------------------------------------------------------------


async def test_an_accepted_clip_pays_its_contributor_and_the_agreeing_validators():
    world = World()
    clip_id, owner = await world.clip("yo")
    first, second = world.member(), world.member()
    await world.vote(first, clip_id)
    assert world.earned() == {}
    assert (await world.vote(second, clip_id)).decided_now
    assert world.earned() == {
        (owner.profile_id, "clip_accepted"): YORUBA_CLIP_RATE,  # language-specific wins
        (first.profile_id, "validation_agreed"): AGREED_RATE,  # the latest generic rate
        (second.profile_id, "validation_agreed"): AGREED_RATE,
    }
    balance = await world.balance(owner)
    assert (balance.pending, balance.available, balance.lifetime_earned) == (
        ngn(YORUBA_CLIP_RATE),
        ngn(0),
        ngn(YORUBA_CLIP_RATE),
    )
    events = world.events("reward.earned")
    assert len(events) == 3
    assert {e.payload["clipId"] for e in events} == {str(clip_id)}
    assert events[0].payload["amountMinor"] == YORUBA_CLIP_RATE


async def test_a_rejected_clip_pays_only_the_validators_who_said_invalid():
    world = World()
    clip_id, _ = await world.clip("ha")
    losing, first, second = world.member(), world.member(), world.member()
    await world.vote(losing, clip_id, Verdict.VALID)
    await world.vote(first, clip_id, Verdict.INVALID)
    receipt = await world.vote(second, clip_id, Verdict.INVALID)
    assert receipt.clip_status is ClipStatus.REJECTED
    assert world.earned() == {
        (first.profile_id, "validation_agreed"): AGREED_RATE,
        (second.profile_id, "validation_agreed"): AGREED_RATE,
    }


async def test_late_votes_probation_and_inactive_members_earn_nothing():
    world = World()
    clip_id, owner = await world.clip()
    on_probation = world.member()
    world.store.clips.stats[on_probation.profile_id] = ValidatorRecord(on_probation=True)
    suspended_later = world.member()
    assert (await world.vote(on_probation, clip_id)).outcome is VoteOutcome.IGNORED_PROBATION
    await world.vote(suspended_later, clip_id)
    world.set_status(suspended_later, ProfileStatus.SUSPENDED)
    world.set_status(owner, ProfileStatus.BANNED)
    decider, late = world.member(), world.member()
    world.serve(late, clip_id)
    assert (await world.vote(decider, clip_id)).decided_now
    assert (await world.vote(late, clip_id)).outcome is VoteOutcome.LATE
    assert world.earned() == {(decider.profile_id, "validation_agreed"): AGREED_RATE}


async def test_no_rate_in_force_means_no_earning_but_the_clip_is_still_decided():
    world = World()
    world.store.ledger.rates.clear()
    clip_id, _ = await world.clip()
    await world.vote(world.member(), clip_id)
    assert (await world.vote(world.member(), clip_id)).decided_now
    assert world.earned() == {}
    assert world.events("reward.earned") == []


async def test_replaying_a_decision_posts_nothing_new():
    world = World()
    clip_id, _ = await world.clip()
    for _ in range(2):
        await world.vote(world.member(), clip_id)
    before = list(world.store.ledger.transactions)
    clip = world.store.clips.clips[clip_id]
    votes = [v for v in world.store.clips.votes.values() if v.clip_id == clip_id]
    for _ in range(2):
        async with world.uow() as uow:
            posted = await post_decision_rewards(
                uow,
                clip=clip,
                status=clip.status,
                votes=votes,
                decided_at=clip.decided_at,
                ids=world.ids,
                rules=world.rewards,
            )
            await uow.commit()
        assert posted == ()
    assert world.store.ledger.transactions == before
    assert len(world.events("reward.earned")) == 3


async def test_a_disputed_clip_earns_nothing():
    world = World()
    clip_id, _ = await world.clip()
    async with world.uow() as uow:
        clip = await uow.clips.get(clip_id)
        assert clip is not None
        posted = await post_decision_rewards(
            uow,
            clip=clip,
            status=ClipStatus.DISPUTED,
            votes=[],
            decided_at=world.clock.now(),
            ids=world.ids,
            rules=world.rewards,
        )
    assert posted == ()


async def test_an_admin_deciding_a_clip_as_gold_pays_as_a_consensus_would():
    world = World()
    clip_id, owner = await world.clip("ig")
    voter, dissenter = world.member(), world.member()
    await world.vote(voter, clip_id, Verdict.VALID)
    await world.vote(dissenter, clip_id, Verdict.INVALID)
    mark = MarkGold(
        uow_factory=world.uow,
        clock=world.clock,
        ids=world.ids,
        rules=world.rules,
        rewards=world.rewards,
    )
    admin = world.member(Role.ADMIN)
    with pytest.raises(Conflict) as refused:  # pending: never decided (nor paid) by accident
        await mark(admin, clip_id, Verdict.VALID)
    assert refused.value.code == "clip_not_decided"
    assert world.earned() == {}
    await mark(admin, clip_id, Verdict.VALID, decide=True)
    await mark(admin, clip_id, Verdict.VALID)  # again: decided already, nothing more
    assert world.earned() == {
        (owner.profile_id, "clip_accepted"): CLIP_RATE,
        (voter.profile_id, "validation_agreed"): AGREED_RATE,
    }


async def test_a_gold_clip_pays_the_right_answers_when_its_shadow_settles():
    world = World()
    clip_id, owner = await world.clip("ig")
    admin = world.member(Role.ADMIN)
    await MarkGold(
        uow_factory=world.uow,
        clock=world.clock,
        ids=world.ids,
        rules=world.rules,
        rewards=world.rewards,
    )(admin, clip_id, Verdict.VALID, decide=True)
    paid_for_decision = world.earned()
    assert paid_for_decision == {(owner.profile_id, "clip_accepted"): CLIP_RATE}
    right, wrong, decider = world.member(), world.member(), world.member()
    for voter in (right, wrong, decider):  # established: the language has gold now
        history = ValidatorAccuracy(gold_right=3)
        world.store.clips.stats[voter.profile_id] = ValidatorRecord(history=history)
    await world.vote(right, clip_id, Verdict.VALID)
    await world.vote(wrong, clip_id, Verdict.INVALID)
    assert world.earned() == paid_for_decision  # nothing until the shadow settles
    receipt = await world.vote(decider, clip_id, Verdict.VALID)
    assert receipt.decided_now
    assert receipt.clip_status is ClipStatus.ACCEPTED
    assert world.earned() == {
        **paid_for_decision,
        (right.profile_id, "validation_agreed"): AGREED_RATE,
        (decider.profile_id, "validation_agreed"): AGREED_RATE,
    }


verdicts = st.lists(
    st.tuples(st.sampled_from(list(Verdict)), st.sampled_from(list(VoteOutcome)), st.booleans()),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(votes=verdicts, accepted=st.booleans())
async def test_exactly_the_counted_agreeing_votes_and_an_accepted_contributor_earn(votes, accepted):
    world = World()
    clip_id, owner = await world.clip("ig")
    status = ClipStatus.ACCEPTED if accepted else ClipStatus.REJECTED
    records = []
    for verdict, outcome, probation in votes:
        voter = world.member()
        records.append(
            VoteRecord(
                world.ids.new_id(),
                clip_id,
                voter.profile_id,
                verdict,
                outcome,
                0.0,
                0.8,
                probation and outcome is not VoteOutcome.COUNTED,
                True,
                world.clock.now(),
            )
        )
    clip = world.store.clips.clips[clip_id]
    for _ in range(2):  # the second time is a replay
        async with world.uow() as uow:
            await post_decision_rewards(
                uow,
                clip=clip,
                status=status,
                votes=records,
                decided_at=world.clock.now(),
                ids=world.ids,
                rules=world.rewards,
            )
            await uow.commit()
    expected = {
        (r.validator_id, "validation_agreed"): AGREED_RATE
        for r in records
        if r.outcome is VoteOutcome.COUNTED and r.verdict is status.verdict
    }
    if accepted:
        expected[owner.profile_id, "clip_accepted"] = CLIP_RATE
    assert world.earned() == expected
    assert len(world.store.ledger.transactions) == len(expected)


# -- release -------------------------------------------------------------------------------


async def decided_clip(world: World, language: str = "yo") -> tuple[uuid.UUID, Principal]:
    clip_id, owner = await world.clip(language)
    for _ in range(2):
        await world.vote(world.member(), clip_id)
    return clip_id, owner


async def test_earnings_are_released_after_the_holding_period_once():
    world = World()
    _, owner = await decided_clip(world)
    world.clock.advance(hours=71, minutes=59)
    assert (await world.release()()).released == 0
    world.clock.advance(minutes=1)
    summary = await world.release()()
    assert (summary.released, summary.totals) == (3, {"NGN": YORUBA_CLIP_RATE + 2 * AGREED_RATE})
    assert (await world.release()()).released == 0
    balance = await world.balance(owner)
    assert (balance.pending, balance.available, balance.lifetime_earned) == (
        ngn(0),
        ngn(YORUBA_CLIP_RATE),
        ngn(YORUBA_CLIP_RATE),
    )
    released = world.events("reward.released")
    assert len(released) == 3  # one per member and currency in the batch
    mine = next(e for e in released if e.payload["profileId"] == str(owner.profile_id))
    assert mine.payload == {
        "profileId": str(owner.profile_id),
        "amountMinor": YORUBA_CLIP_RATE,
        "currency": "NGN",
        "earnings": 1,
    }


async def test_release_runs_in_batches_and_holds_back_hidden_clips():
    world = World()
    hidden, _ = await decided_clip(world)
    for _ in range(3):
        await decided_clip(world)
    world.set_visibility(hidden, Visibility.HIDDEN)
    world.clock.advance(hours=72)
    summary = await world.release(batch_size=4)()
    assert (summary.released, summary.batches) == (9, 3)
    world.set_visibility(hidden, Visibility.VISIBLE)
    assert (await world.release(batch_size=4)(max_batches=1)).released == 3


async def test_the_batch_size_is_bounded():
    with pytest.raises(InvalidInput):
        await World().release(batch_size=0)()


# -- reversal ------------------------------------------------------------------------------


async def test_removing_a_clip_reverses_what_is_still_pending_only():
    world = World()
    clip_id, owner = await decided_clip(world)
    released_validator = next(
        tx.member_id
        for tx in world.store.ledger.transactions
        if tx.metadata.get("reward_kind") == "validation_agreed"
    )
    # release one earning by hand: it stays with its member
    earning = next(
        tx for tx in world.store.ledger.transactions if tx.member_id == released_validator
    )
    async with world.uow() as uow:
        await uow.ledger.post(
            reward_released(
                transaction_id=uuid.uuid4(), earning=earning, occurred_at=world.clock.now()
            )
        )
        await uow.commit()
    reverse = ReverseClipEarnings(uow_factory=world.uow, clock=world.clock, ids=world.ids)
    moderator = world.member(Role.MODERATOR)
    with pytest.raises(Conflict):
        await reverse(moderator, clip_id, "spam")  # still visible
    world.set_visibility(clip_id, Visibility.REMOVED)
    with pytest.raises(PermissionDenied):
        await reverse(world.member(), clip_id, "spam")
    with pytest.raises(NotFound):
        await reverse(moderator, uuid.uuid4(), "spam")
    reversed_ = await reverse(moderator, clip_id, "spam")
    assert len(reversed_) == 2
    assert await reverse(moderator, clip_id, "spam") == ()
    balance = await world.balance(owner)
    assert (balance.pending, balance.lifetime_earned) == (ngn(0), ngn(0))
    kept = await GetMyBalance(balances=FakeBalanceLookup(world.store), rules=world.rewards)(
        Principal(profile=world.store.profiles[released_validator])
    )
    assert kept.available == ngn(AGREED_RATE)
    assert [e.payload["clipId"] for e in world.events("reward.reversed")] == [str(clip_id)] * 2
    world.clock.advance(hours=100)
    assert (await world.release()()).released == 0


# -- balance and history -------------------------------------------------------------------


async def test_members_read_only_their_own_money():
    world = World()
    _, owner = await decided_clip(world)
    stranger = world.member()
    assert (await world.balance(stranger)).pending == ngn(0)
    history = ListMyTransactions(uow_factory=world.uow)
    assert await history(stranger, before=None, limit=10) == []
    entries = await history(owner, before=None, limit=10)
    assert [e.transaction.member_id for e in entries] == [owner.profile_id]
    with pytest.raises(InvalidInput):
        await history(owner, before=None, limit=0)
    with pytest.raises(PermissionDenied):
        await world.balance(Principal(profile=None, is_service=True))
    world.set_status(owner, ProfileStatus.BANNED)
    with pytest.raises(PermissionDenied):
        await world.balance(Principal(profile=world.store.profiles[owner.profile_id]))
    usd = await GetMyBalance(balances=FakeBalanceLookup(world.store), rules=world.rewards)(
        stranger, "usd"
    )
    assert usd.currency == "USD"
    with pytest.raises(InvalidInput):
        await GetMyBalance(balances=FakeBalanceLookup(world.store), rules=world.rewards)(
            stranger, "XXX"
        )


# -- rates ---------------------------------------------------------------------------------


async def test_admins_add_rates_that_start_now_or_later_and_never_twice_at_once():
    world = World()
    add = AddRewardRate(uow_factory=world.uow, clock=world.clock, ids=world.ids)
    admin = world.member(Role.ADMIN)
    later = world.clock.now() + timedelta(days=7)
    record = await add(admin, NewRewardRate("clip_accepted", 6_000, "ngn", "YO", later))
    assert (record.rate.amount, record.rate.language, record.created_by) == (
        ngn(6_000),
        "yo",
        admin.profile_id,
    )
    now_rate = await add(admin, NewRewardRate("streak_bonus", 100, "NGN"))
    assert now_rate.rate.valid_from == world.clock.now()
    with pytest.raises(Conflict) as exists:
        await add(admin, NewRewardRate("clip_accepted", 1, "NGN", "yo", later))
    assert exists.value.code == "rate_exists"
    with pytest.raises(InvalidRewardRate) as past:
        await add(admin, NewRewardRate("clip_accepted", 1, "NGN", None, later - timedelta(days=8)))
    assert past.value.code == "rate_in_past"
    for bad in [
        NewRewardRate("tip", 1, "NGN"),
        NewRewardRate("clip_accepted", 0, "NGN"),
        NewRewardRate("clip_accepted", 1, "EUR"),
        NewRewardRate("clip_accepted", 1, "NGN", "not a language"),
        NewRewardRate("clip_accepted", 1, "NGN", None, later.replace(tzinfo=None)),
        NewRewardRate("clip_accepted", 1, "NGN", None, later, later),
    ]:
        with pytest.raises(InvalidInput):
            await add(admin, bad)
    with pytest.raises(PermissionDenied):
        await add(world.member(Role.MODERATOR), NewRewardRate("clip_accepted", 1, "NGN"))
    listed = await ListRewardRates(uow_factory=world.uow)(admin, kind="clip_accepted")
    assert listed.items[0].rate.id == record.rate.id
    everything = await ListRewardRates(uow_factory=world.uow)(admin)
    paged, cursor = [], None
    while True:  # one at a time, the same rates in the same order
        page = await ListRewardRates(uow_factory=world.uow)(admin, cursor=cursor, limit=1)
        paged += [r.rate.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == [r.rate.id for r in everything.items]
    assert len(paged) >= 2
    with pytest.raises(InvalidInput):
        await ListRewardRates(uow_factory=world.uow)(admin, cursor="bm90LW91cnM")
    with pytest.raises(PermissionDenied):
        await ListRewardRates(uow_factory=world.uow)(world.member())
