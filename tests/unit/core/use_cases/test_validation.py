from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import ClipStatus, Verdict, VoteOutcome
from core.domain.consensus import ConsensusConfig, MajorityPolicy, policy_named
from core.domain.dawid_skene import ConfusionCounts
from core.domain.identity import Principal, Profile, ProfileStatus
from core.domain.validation import ValidationRules, gold_slots
from core.errors import Conflict, NotFound, PermissionDenied
from core.use_cases.clips import ClipUpload, SubmitClip
from core.use_cases.gold import MarkGold
from core.use_cases.validation import NextQueuePage, SkipClip, SubmitVote
from entrypoints.http.schemas.clips import ClipOut, VoteOut
from tests.fake_clips import FakeAudioInspector, InMemoryBlobStore, fake_audio
from tests.fakes import FakeTextScreener, FakeUnitOfWork, FixedClock, InMemoryStore, SequentialIds

CLIP_MS = 3000
LISTENED = timedelta(milliseconds=CLIP_MS)


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
        self.service = Principal(profile=None, is_service=True)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def member(self, status: ProfileStatus = ProfileStatus.ACTIVE) -> Principal:
        profile = replace(Profile.new(uuid.uuid4(), self.clock.now()), status=status)
        self.store.profiles[profile.id] = profile
        return Principal(profile=profile)

    def established(self, gold_answers: int = 3) -> Principal:
        """A member with enough right gold answers to be established."""
        member = self.member()
        history = ValidatorAccuracy(
            confusion=ConfusionCounts(said_valid_on_valid=gold_answers), gold_right=gold_answers
        )
        self.store.clips.stats[member.profile_id] = ValidatorRecord(history=history)
        return member

    async def clip(self, language: str = "yo") -> tuple[uuid.UUID, Principal]:
        owner = self.member()
        submit = SubmitClip(
            uow_factory=self.uow,
            blobs=self.blobs,
            inspector=FakeAudioInspector(),
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
            screener=FakeTextScreener(),
        )
        upload = ClipUpload(uuid.uuid4(), language, "Hello", fake_audio(CLIP_MS))
        submitted = await submit(owner, upload)
        self.clock.advance(seconds=1)
        return submitted.clip.id, owner

    async def gold(self, verdict: Verdict, language: str = "yo") -> uuid.UUID:
        clip_id, _ = await self.clip(language)
        await MarkGold(uow_factory=self.uow, clock=self.clock, ids=self.ids, rules=self.rules)(
            self.service, clip_id, verdict, decide=True
        )
        return clip_id

    def serve(self, member: Principal, clip_id: uuid.UUID) -> None:
        """As if the queue had handed the clip over long enough ago to have heard it."""
        key = (member.profile_id, clip_id)
        self.store.clips.servings.setdefault(key, self.clock.now() - 2 * LISTENED)

    def queue(self, random: float = 0.0) -> NextQueuePage:
        return NextQueuePage(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            random=FixedRandom(random),
            rules=self.rules,
        )

    def submit(self) -> SubmitVote:
        return SubmitVote(uow_factory=self.uow, clock=self.clock, ids=self.ids, rules=self.rules)

    async def vote(self, member: Principal, clip_id: uuid.UUID, verdict: Verdict):
        self.serve(member, clip_id)
        return await self.submit()(member, clip_id, verdict)

    def decided_events(self) -> list:
        return [e for e in self.store.outbox if e.name == "clip.decided"]

    def history(self, member: Principal) -> ValidatorAccuracy:
        return self.store.clips.stats.get(member.profile_id, ValidatorRecord()).history


MAJORITY = ValidationRules(policy=MajorityPolicy())


async def test_two_agreeing_votes_decide_under_majority_and_teach_their_voters():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    first, second = world.member(), world.member()
    assert (await world.vote(first, clip_id, Verdict.VALID)).decided_now is False
    receipt = await world.vote(second, clip_id, Verdict.VALID)
    assert receipt.decided_now
    assert receipt.clip_status is ClipStatus.ACCEPTED
    assert len(world.decided_events()) == 1
    for voter in (first, second):
        history = world.history(voter)
        assert history.consensus_agreed == 1
        counts = history.confusion
        assert counts.said_valid_on_valid > 0.9  # q = P(valid) of the settled tally
        assert counts.said_valid_on_valid + counts.said_valid_on_invalid == pytest.approx(1.0)


async def test_a_late_vote_changes_nothing_and_teaches_nothing():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    latecomer = world.member()
    world.serve(latecomer, clip_id)  # served while pending …
    for _ in range(2):
        await world.vote(world.member(), clip_id, Verdict.VALID)
    receipt = await world.submit()(latecomer, clip_id, Verdict.INVALID)  # … decided meanwhile
    assert receipt.outcome is VoteOutcome.LATE
    assert receipt.clip_status is ClipStatus.ACCEPTED
    assert world.store.clips.clips[clip_id].tally.valid_votes == 2
    assert world.history(latecomer) == ValidatorAccuracy()
    assert len(world.decided_events()) == 1


async def test_an_unsolicited_vote_is_recorded_but_changes_and_reveals_nothing():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    stranger = world.member()
    receipt = await world.submit()(stranger, clip_id, Verdict.VALID)
    assert receipt.outcome is VoteOutcome.UNSOLICITED
    assert receipt.clip_status is None
    assert world.store.clips.clips[clip_id].tally.counted_votes == 0
    assert world.store.clips.votes[(stranger.profile_id, clip_id)].outcome is (
        VoteOutcome.UNSOLICITED
    )
    assert world.history(stranger) == ValidatorAccuracy()


async def test_a_vote_sooner_than_the_clip_can_be_heard_counts_against_the_voter():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    rusher = world.member()
    page = await world.queue()(rusher, "yo", 5)
    assert [c.id for c in page] == [clip_id]
    world.clock.advance(seconds=1)  # 1 s of a 3 s clip: under 0.8 of it
    receipt = await world.submit()(rusher, clip_id, Verdict.VALID)
    assert receipt.outcome is VoteOutcome.TOO_FAST
    assert world.store.clips.clips[clip_id].tally.counted_votes == 0
    history = world.history(rusher)
    assert history.rushed_votes == 1
    assert history.confusion == ConfusionCounts(said_valid_on_invalid=1.0)


async def test_a_vote_after_listening_to_a_served_clip_counts():
    world = World(MAJORITY)
    clip_id, _ = await world.clip()
    voter = world.member()
    await world.queue()(voter, "yo", 5)
    world.clock.advance(seconds=3)
    receipt = await world.submit()(voter, clip_id, Verdict.VALID)
    assert receipt.outcome is VoteOutcome.COUNTED


async def test_rules_refuse_own_twice_unknown_suspended():
    world = World()
    clip_id, owner = await world.clip()
    with pytest.raises(PermissionDenied):
        await world.vote(owner, clip_id, Verdict.VALID)
    voter = world.member()
    await world.vote(voter, clip_id, Verdict.VALID)
    with pytest.raises(Conflict):
        await world.vote(voter, clip_id, Verdict.VALID)
    with pytest.raises(NotFound):
        await world.vote(voter, uuid.uuid4(), Verdict.VALID)
    with pytest.raises(PermissionDenied):
        await world.vote(world.member(ProfileStatus.SUSPENDED), clip_id, Verdict.VALID)


async def test_gold_answers_score_and_reply_exactly_as_a_pending_clip_would():
    world = World(MAJORITY)
    clip_id = await world.gold(Verdict.INVALID)
    other, _ = await world.clip()
    right, wrong = world.established(), world.established()
    on_gold = await world.vote(right, clip_id, Verdict.INVALID)
    on_other = await world.vote(right, other, Verdict.INVALID)
    assert on_gold == replace(on_other, clip_id=clip_id)  # counted, pending, not decided
    await world.vote(wrong, clip_id, Verdict.VALID)
    assert world.history(right).gold_right == 4
    assert world.history(wrong).gold_wrong == 1
    clip = world.store.clips.clips[clip_id]
    assert clip.status is ClipStatus.REJECTED
    assert clip.tally.is_gold


async def test_a_gold_clip_shadow_settles_like_a_clip_and_pays_the_right_answers():
    world = World(MAJORITY)
    clip_id = await world.gold(Verdict.VALID)
    voters = [world.established() for _ in range(3)]
    late = world.established()
    world.serve(late, clip_id)  # served in this round, answers after it settled
    await world.vote(voters[0], clip_id, Verdict.VALID)
    settling = await world.vote(voters[1], clip_id, Verdict.VALID)
    assert settling.decided_now
    assert settling.clip_status is ClipStatus.ACCEPTED
    world.clock.advance(seconds=1)
    reply = await world.submit()(late, clip_id, Verdict.VALID)
    assert reply.outcome is VoteOutcome.LATE
    assert reply.clip_status is ClipStatus.ACCEPTED
    assert world.history(late).gold_right == 4  # the answer still scores
    stored = world.store.clips.votes[(late.profile_id, clip_id)]
    assert stored.outcome is VoteOutcome.GOLD_LATE  # and earns nothing, as a late vote
    assert clip_id in [c.id for c in await world.queue()(voters[2], "yo", 5)]
    world.clock.advance(seconds=3)
    fresh = await world.submit()(voters[2], clip_id, Verdict.INVALID)  # a new round
    assert fresh.outcome is VoteOutcome.COUNTED
    assert fresh.clip_status is ClipStatus.PENDING
    clip = world.store.clips.clips[clip_id]
    assert clip.status is ClipStatus.ACCEPTED
    assert clip.shadow_status is ClipStatus.ACCEPTED
    assert not world.decided_events()[1:]  # only the admin's decision, no shadow event


async def test_in_a_language_with_gold_newcomers_alone_cannot_decide():
    world = World(MAJORITY)
    await world.gold(Verdict.VALID)
    clip_id, _ = await world.clip()
    for _ in range(2):
        receipt = await world.vote(world.member(), clip_id, Verdict.VALID)
        assert receipt.clip_status is ClipStatus.PENDING
    receipt = await world.vote(world.established(), clip_id, Verdict.VALID)
    assert receipt.decided_now
    assert receipt.clip_status is ClipStatus.ACCEPTED


async def test_newcomers_alone_reach_the_cap_as_disputed_under_dawid_skene():
    world = World(ValidationRules(policy=policy_named("dawid_skene")))
    await world.gold(Verdict.VALID)
    clip_id, _ = await world.clip()
    receipts = [await world.vote(world.member(), clip_id, Verdict.VALID) for _ in range(5)]
    statuses = [receipt.clip_status for receipt in receipts]
    assert statuses[-1] is ClipStatus.DISPUTED
    assert set(statuses[:-1]) == {ClipStatus.PENDING}
    # The last vote ended consensus but decided nothing: the answer must not say decided
    # next to a disputed status (issue 16), and the clip has no decision time.
    assert receipts[-1].decided_now
    assert not receipts[-1].decided
    assert not any(receipt.decided for receipt in receipts)
    clip = world.store.clips.clips[clip_id]
    shown = ClipOut.of(clip, details=True)
    assert (shown.status, shown.decided_at) == ("disputed", None)
    assert VoteOut.of(receipts[-1]).decided is False


async def test_the_queue_records_what_it_serves_and_mixes_in_gold():
    world = World(ValidationRules(policy=MajorityPolicy(), gold_rate=0.5, newcomer_gold_answers=0))
    regular = [(await world.clip())[0] for _ in range(4)]
    gold = await world.gold(Verdict.VALID)
    me = world.member()
    await world.vote(me, regular[0], Verdict.VALID)
    await SkipClip(uow_factory=world.uow, clock=world.clock)(me, regular[1])
    page = await world.queue()(me, "yo", 4)
    assert page[0].id == gold  # random 0.0 puts gold first
    assert [c.id for c in page[1:]] == regular[2:]
    served = {clip for (who, clip) in world.store.clips.servings if who == me.profile_id}
    assert served == {regular[0], *(c.id for c in page)}


async def test_validators_whose_votes_carry_no_information_are_served_only_gold():
    world = World(MAJORITY)
    await world.clip()
    gold = await world.gold(Verdict.VALID)
    coin = world.member()
    history = ValidatorAccuracy(
        confusion=ConfusionCounts(
            said_valid_on_valid=20,
            said_invalid_on_valid=20,
            said_invalid_on_invalid=20,
            said_valid_on_invalid=20,
        ),
        gold_right=10,
        gold_wrong=10,
    )
    world.store.clips.stats[coin.profile_id] = ValidatorRecord(history=history)
    assert [c.id for c in await world.queue()(coin, "yo", 10)] == [gold]


async def test_validators_on_probation_are_served_only_gold():
    world = World(MAJORITY)
    await world.clip()
    gold = await world.gold(Verdict.VALID)
    benched = world.established(gold_answers=10)
    record = world.store.clips.stats[benched.profile_id]
    world.store.clips.stats[benched.profile_id] = replace(record, on_probation=True)
    assert [c.id for c in await world.queue()(benched, "yo", 10)] == [gold]


async def test_newcomers_are_served_more_gold_unless_gold_is_off():
    world = World(ValidationRules(policy=MajorityPolicy(), gold_rate=0.01, newcomer_gold_rate=0.5))
    for _ in range(4):
        await world.clip()
    for _ in range(4):
        await world.gold(Verdict.VALID)
    page = await world.queue(random=0.99)(world.member(), "yo", 4)
    assert sum(world.store.clips.clips[c.id].tally.is_gold for c in page) == 2
    veteran = world.established(gold_answers=5)
    page = await world.queue(random=0.99)(veteran, "yo", 4)
    assert not any(world.store.clips.clips[c.id].tally.is_gold for c in page)
    world.rules = replace(world.rules, gold_rate=0.0)
    page = await world.queue(random=0.0)(world.member(), "yo", 4)
    assert not any(world.store.clips.clips[c.id].tally.is_gold for c in page)


async def test_late_votes_cannot_farm_accuracy():
    """The attack: vote on many clips already decided to look accurate. Nothing moves."""
    world = World(MAJORITY)
    decided = []
    for _ in range(10):
        clip_id, _ = await world.clip()
        for _ in range(2):
            await world.vote(world.established(), clip_id, Verdict.VALID)
        decided.append(clip_id)
    farmer = world.member()
    for clip_id in decided:
        world.serve(farmer, clip_id)  # even served, they are decided by now
        receipt = await world.submit()(farmer, clip_id, Verdict.VALID)
        assert receipt.outcome is VoteOutcome.LATE
    assert world.history(farmer) == ValidatorAccuracy()


@given(
    verdicts=st.lists(st.sampled_from(list(Verdict)), min_size=1, max_size=12),
    policy=st.sampled_from(["majority", "weighted", "dawid_skene"]),
)
@settings(max_examples=60, deadline=None)
def test_any_vote_sequence_decides_at_most_once_and_never_loses_a_vote(verdicts, policy):
    async def scenario() -> None:
        config = ConsensusConfig(require_established=False)
        world = World(ValidationRules(policy=policy_named(policy, config)))
        clip_id, _ = await world.clip()
        statuses = []
        for verdict in verdicts:
            receipt = await world.vote(world.member(), clip_id, verdict)
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
