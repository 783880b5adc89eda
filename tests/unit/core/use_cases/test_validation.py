from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import ClipStatus, Verdict, VoteOutcome
from core.domain.consensus import MajorityPolicy
from core.domain.identity import Principal, Profile, ProfileStatus
from core.domain.validation import ValidationRules, gold_slots
from core.errors import Conflict, NotFound, PermissionDenied
from core.use_cases.clips import ClipUpload, SubmitClip
from core.use_cases.gold import MarkGold
from core.use_cases.validation import NextQueuePage, SkipClip, SubmitVote
from tests.fake_clips import FakeAudioInspector, InMemoryBlobStore, fake_audio
from tests.fakes import FakeUnitOfWork, FixedClock, InMemoryStore, SequentialIds


class FixedRandom:
    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


class World:
    """Use cases over one in-memory store."""

    def __init__(self, rules: ValidationRules | None = None) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.rules = rules or ValidationRules()
        self.blobs = InMemoryBlobStore()

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def member(self, status: ProfileStatus = ProfileStatus.ACTIVE) -> Principal:
        profile = replace(Profile.new(uuid.uuid4(), self.clock.now()), status=status)
        self.store.profiles[profile.id] = profile
        return Principal(profile=profile)

    async def clip(self, language: str = "yo") -> tuple[uuid.UUID, Principal]:
        owner = self.member()
        submit = SubmitClip(
            uow_factory=self.uow,
            blobs=self.blobs,
            inspector=FakeAudioInspector(),
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
        )
        upload = ClipUpload(uuid.uuid4(), language, "Hello", fake_audio(3000))
        submitted = await submit(owner, upload)
        self.clock.advance(seconds=1)
        return submitted.clip.id, owner

    def vote(self) -> SubmitVote:
        return SubmitVote(uow_factory=self.uow, clock=self.clock, ids=self.ids, rules=self.rules)

    def decided_events(self) -> list:
        return [e for e in self.store.outbox if e.name == "clip.decided"]


MAJORITY = ValidationRules(policy=MajorityPolicy())


async def test_two_agreeing_votes_decide_under_majority_and_score_voters():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    first, second = world.member(), world.member()
    assert (await world.vote()(first, clip_id, Verdict.VALID)).decided_now is False
    receipt = await world.vote()(second, clip_id, Verdict.VALID)
    assert receipt.decided_now
    assert receipt.clip_status is ClipStatus.ACCEPTED
    assert len(world.decided_events()) == 1
    stats = world.store.clips.stats
    assert stats[first.profile_id] == ValidatorAccuracy(consensus_agreed=1)
    assert stats[second.profile_id] == ValidatorAccuracy(consensus_agreed=1)


async def test_late_vote_changes_nothing_but_scores_the_voter():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    for _ in range(2):
        await world.vote()(world.member(), clip_id, Verdict.VALID)
    latecomer = world.member()
    receipt = await world.vote()(latecomer, clip_id, Verdict.INVALID)
    assert receipt.outcome is VoteOutcome.LATE
    assert world.store.clips.clips[clip_id].tally.valid_votes == 2
    assert world.store.clips.stats[latecomer.profile_id].consensus_disagreed == 1
    assert len(world.decided_events()) == 1


async def test_rules_refuse_own_twice_unknown_suspended():
    world = World()
    clip_id, owner = await world.clip()
    with pytest.raises(PermissionDenied):
        await world.vote()(owner, clip_id, Verdict.VALID)
    voter = world.member()
    await world.vote()(voter, clip_id, Verdict.VALID)
    with pytest.raises(Conflict):
        await world.vote()(voter, clip_id, Verdict.VALID)
    with pytest.raises(NotFound):
        await world.vote()(voter, uuid.uuid4(), Verdict.VALID)
    with pytest.raises(PermissionDenied):
        await world.vote()(world.member(ProfileStatus.SUSPENDED), clip_id, Verdict.VALID)


async def test_gold_votes_score_against_the_known_verdict_and_never_change_the_clip():
    world = World()
    clip_id, _ = await world.clip()
    admin = Principal(profile=None, is_service=True)
    await MarkGold(uow_factory=world.uow, clock=world.clock, ids=world.ids, rules=world.rules)(
        admin, clip_id, Verdict.INVALID
    )
    right, wrong = world.member(), world.member()
    assert (await world.vote()(right, clip_id, Verdict.INVALID)).clip_status is None
    await world.vote()(wrong, clip_id, Verdict.VALID)
    stats = world.store.clips.stats
    assert stats[right.profile_id] == ValidatorAccuracy(gold_right=1)
    assert stats[wrong.profile_id] == ValidatorAccuracy(gold_wrong=1)
    clip = world.store.clips.clips[clip_id]
    assert clip.status is ClipStatus.REJECTED
    assert clip.tally.counted_votes == 0


async def test_queue_excludes_seen_clips_and_mixes_in_gold():
    world = World(ValidationRules(policy=MajorityPolicy(), gold_rate=0.5))
    regular = [(await world.clip())[0] for _ in range(4)]
    gold, _ = await world.clip()
    await MarkGold(uow_factory=world.uow, clock=world.clock, ids=world.ids, rules=world.rules)(
        Principal(profile=None, is_service=True), gold, Verdict.VALID
    )
    me = world.member()
    await world.vote()(me, regular[0], Verdict.VALID)
    await SkipClip(uow_factory=world.uow, clock=world.clock)(me, regular[1])
    queue = NextQueuePage(
        uow_factory=world.uow, ids=world.ids, random=FixedRandom(0.0), rules=world.rules
    )
    page = await queue(me, "yo", 4)
    assert page[0].id == gold  # random 0.0 puts gold first
    assert [c.id for c in page[1:]] == regular[2:]


@given(
    verdicts=st.lists(st.sampled_from(list(Verdict)), min_size=1, max_size=12),
    policy=st.sampled_from(["majority", "weighted"]),
)
@settings(max_examples=60, deadline=None)
def test_any_vote_sequence_decides_at_most_once_and_never_loses_a_vote(verdicts, policy):
    from core.domain.consensus import policy_named

    async def scenario() -> None:
        world = World(ValidationRules(policy=policy_named(policy)))
        clip_id, _ = await world.clip()
        statuses = []
        for verdict in verdicts:
            receipt = await world.vote()(world.member(), clip_id, verdict)
            statuses.append(receipt.clip_status)
        assert len(world.store.clips.votes) == len(verdicts)
        assert len(world.decided_events()) <= 1
        settled = [s for s in statuses if s is not ClipStatus.PENDING]
        assert len(set(settled)) <= 1  # once decided, the status never changes
        clip = world.store.clips.clips[clip_id]
        assert clip.tally.counted_votes <= world.rules.policy.config.vote_cap
        if len(verdicts) >= world.rules.policy.config.vote_cap:
            assert clip.status is not ClipStatus.PENDING

    asyncio.run(scenario())


@given(
    size=st.integers(1, 50),
    rate=st.floats(0, 0.99),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_gold_slots_stay_within_the_page_and_near_the_rate(size, rate, draw):
    slots = gold_slots(size, rate, draw)
    assert 0 <= slots <= size
    assert int(size * rate) <= slots <= int(size * rate) + 1
