"""Offline sync use cases over the fakes: pushes applied exactly once in savepoints, offline
batches, votes within reservations, pruning, pulls' checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from core.domain.clips import ClipStatus, Verdict, VoteOutcome
from core.domain.consensus import ConsensusConfig, MajorityPolicy
from core.domain.events import DomainEvent
from core.domain.identity import Principal
from core.domain.reservations import OfflineRules
from core.domain.sync_cursor import SyncCursor
from core.domain.sync_ops import OpStatus, SyncOp
from core.domain.validation import ValidationRules
from core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    PermissionDenied,
    StorageUnavailable,
)
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.gold import MarkGold
from core.use_cases.sync import (
    OpHandlers,
    PruneSyncState,
    PullChanges,
    PushOps,
    ReserveOfflineBatch,
)
from core.use_cases.validation import SkipClip, SubmitVote
from tests.unit.core.use_cases.test_rewards import AGREED_RATE, World

CAP3 = ValidationRules(
    policy=MajorityPolicy(ConsensusConfig(vote_cap=3, require_established=False))
)


def problem_of(error: BaseException) -> Mapping[str, Any]:
    code = error.code if isinstance(error, DomainError) else "internal_error"
    return {"code": code}


class SyncWorld(World):
    def __init__(self, rules: ValidationRules = CAP3) -> None:
        super().__init__(rules)
        self.service = Principal(profile=None, is_service=True)
        self.handlers = OpHandlers()
        self.handlers.register("clip.skip", self._skip)
        self.handlers.register("validation.submit", self._vote)

    async def _skip(
        self, principal: Principal, payload: Any, uow_factory: Callable[[], UnitOfWork]
    ) -> Mapping[str, Any]:
        await SkipClip(uow_factory=uow_factory, clock=self.clock)(
            principal, uuid.UUID(payload["clipId"])
        )
        return {}

    async def _vote(
        self, principal: Principal, payload: Any, uow_factory: Callable[[], UnitOfWork]
    ) -> Mapping[str, Any]:
        if not isinstance(payload, dict):
            raise DomainError("bad payload", code="validation_failed")
        receipt = await self.submit(uow_factory)(
            principal, uuid.UUID(payload["clipId"]), Verdict(payload["verdict"])
        )
        return {"outcome": receipt.outcome.value}

    def submit(self, uow_factory: Callable[[], UnitOfWork] | None = None) -> SubmitVote:
        return SubmitVote(
            uow_factory=uow_factory or self.uow,
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
            rewards=self.rewards,
        )

    def push(self) -> PushOps:
        return PushOps(
            uow_factory=self.uow, clock=self.clock, handlers=self.handlers, problem_of=problem_of
        )

    def reserve(self, offline: OfflineRules | None = None) -> ReserveOfflineBatch:
        return ReserveOfflineBatch(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            random=_Draw(),
            rules=self.rules,
            offline=offline or OfflineRules(),
        )

    async def cast(self, voter: Principal, clip_id: uuid.UUID, verdict: Verdict = Verdict.VALID):
        return await self.submit()(voter, clip_id, verdict)


class _Draw:
    def random(self) -> float:
        return 0.99  # no fractional gold slot


def vote(clip_id: uuid.UUID, verdict: str = "valid", op_id: uuid.UUID | None = None) -> SyncOp:
    payload = {"clipId": str(clip_id), "verdict": verdict}
    return SyncOp(op_id or uuid.uuid4(), "validation.submit", payload)


# -- push ----------------------------------------------------------------------------------


async def test_each_operation_is_applied_once_and_remembered():
    world = SyncWorld()
    clip_id, _ = await world.clip()
    me = world.member()
    world.serve(me, clip_id)
    ops = [vote(clip_id), SyncOp(uuid.uuid4(), "clip.skip", {"clipId": str(clip_id)})]
    first = (await world.push()(me, "phone", ops)).results
    assert [r.status for r in first] == [OpStatus.APPLIED, OpStatus.APPLIED]
    assert first[0].body == {"outcome": "counted"}
    again = (await world.push()(me, "phone", ops)).results
    assert [(r.status, r.original) for r in again] == [(OpStatus.DUPLICATE, OpStatus.APPLIED)] * 2
    assert [r.body for r in again] == [r.body for r in first]
    assert len(world.store.clips.votes) == 1
    assert len(world.events("validation.submitted")) == 1


async def test_a_refused_operation_is_remembered_and_undoes_only_itself():
    world = SyncWorld()
    clip_id, owner = await world.clip()
    other_id, _ = await world.clip()
    world.serve(owner, other_id)
    writes_then_fails = SyncOp(uuid.uuid4(), "half", {})

    async def half(principal, payload, uow_factory):
        async with uow_factory() as uow:
            await uow.skips.add(owner.profile_id, other_id, world.clock.now())
            uow.record(DomainEvent(uuid.uuid4(), "half.done", world.clock.now(), {}))
            raise Conflict("no", code="nope")

    world.handlers.register("half", half)
    results = (
        await world.push()(owner, "phone", [vote(clip_id), writes_then_fails, vote(other_id)])
    ).results
    assert [r.status for r in results] == [OpStatus.REJECTED, OpStatus.REJECTED, OpStatus.APPLIED]
    assert results[0].body == {"code": "own_clip"}
    assert world.store.clips.skips == set()
    assert world.events("half.done") == []
    assert len(world.events("validation.submitted")) == 1
    assert len(world.store.sync.ops) == 3
    replay = (await world.push()(owner, "phone", [vote(clip_id, op_id=results[0].op_id)])).results
    assert replay[0].original is OpStatus.REJECTED


async def test_unknown_types_and_server_faults_are_not_remembered():
    world = SyncWorld()
    me = world.member()

    async def broken(principal, payload, uow_factory):
        raise RuntimeError("a bug")

    world.handlers.register("broken", broken)
    results = (
        await world.push()(
            me,
            "phone",
            [SyncOp(uuid.uuid4(), "clip.teleport", {}), SyncOp(uuid.uuid4(), "broken", {})],
        )
    ).results
    assert [(r.status, r.body["code"]) for r in results] == [
        (OpStatus.REJECTED, "unsupported_op"),
        (OpStatus.FAILED, "internal_error"),
    ]
    assert world.store.sync.ops == {}


async def test_a_reused_op_id_is_refused_and_changes_nothing():
    world = SyncWorld()
    clip_a, _ = await world.clip()
    clip_b, _ = await world.clip()
    me = world.member()
    op_id = uuid.uuid4()
    skip_a = SyncOp(op_id, "clip.skip", {"clipId": str(clip_a)})
    skip_b = SyncOp(op_id, "clip.skip", {"clipId": str(clip_b)})
    results = (await world.push()(me, "phone", [skip_a, skip_b])).results
    assert results[1].status is OpStatus.REJECTED
    assert results[1].body == {"code": "op_id_reused"}
    assert world.store.clips.skips == {(me.profile_id, clip_a)}


async def test_a_lost_database_stops_the_push():
    world = SyncWorld()
    me = world.member()

    async def unreachable(principal, payload, uow_factory):
        raise StorageUnavailable("down")

    world.handlers.register("down", unreachable)
    with pytest.raises(StorageUnavailable):
        await world.push()(me, "phone", [SyncOp(uuid.uuid4(), "down", {})])


async def test_occurred_at_is_never_later_than_reception():
    world = SyncWorld()
    clip_id, _ = await world.clip()
    me = world.member()
    now = world.clock.now()
    past = SyncOp(uuid.uuid4(), "clip.skip", {"clipId": str(clip_id)}, now - timedelta(hours=1))
    future = SyncOp(uuid.uuid4(), "clip.skip", {"clipId": str(clip_id)}, now + timedelta(days=1))
    report = await world.push()(me, "phone", [past, future])
    assert [(c.op_id, c.sent, c.recorded) for c in report.clamped] == [
        (future.op_id, future.occurred_at, now)
    ]


async def test_at_most_500_operations_and_members_only():
    world = SyncWorld()
    me = world.member()
    ops = [SyncOp(uuid.uuid4(), "clip.skip", {}) for _ in range(501)]
    with pytest.raises(InvalidInput) as refused:
        await world.push()(me, "phone", ops)
    assert refused.value.code == "too_many_ops"
    with pytest.raises(PermissionDenied):
        await world.push()(Principal(profile=None, is_service=True), "x", [])


# -- offline batches and votes within reservations -----------------------------------------


async def test_a_batch_reserves_free_slots_and_serves_its_clips():
    world = SyncWorld()
    clips = [(await world.clip())[0] for _ in range(3)]
    offline = world.member()
    batch = await world.reserve()(offline, "yo", 10)
    assert sorted(c.id for c in batch.clips) == sorted(clips)
    assert batch.expires_at - batch.reserved_at == timedelta(hours=24)
    held = world.store.clips.reservations
    assert {clip for (_, clip) in held} == set(clips)
    assert all((offline.profile_id, c) in world.store.clips.servings for c in clips)
    assert (await world.reserve()(offline, "yo", 10)).clips == []  # already reserved


async def test_late_votes_within_reservations_earn_when_they_agree():
    world = SyncWorld()
    clip_id, _ = await world.clip()
    agree, disagree = world.member(), world.member()
    for offline in (agree, disagree):
        assert len((await world.reserve()(offline, "yo", 5)).clips) == 1
    world.clock.advance(seconds=5)  # the offline phones listen
    online = world.member()
    await world.vote(online, clip_id)  # cap 3, two slots reserved: one left, taken
    latecomer = world.member()
    world.serve(latecomer, clip_id)
    crowded = await world.cast(latecomer, clip_id)
    assert crowded.outcome is VoteOutcome.CROWDED_OUT
    deciding = await world.cast(agree, clip_id)
    assert (deciding.outcome, deciding.decided_now) == (VoteOutcome.COUNTED, True)
    late = await world.cast(disagree, clip_id, Verdict.INVALID)
    assert (late.outcome, late.clip_status) == (VoteOutcome.LATE_RESERVED, ClipStatus.ACCEPTED)
    earned = world.earned()
    assert earned[(agree.profile_id, "validation_agreed")] == AGREED_RATE
    assert earned[(online.profile_id, "validation_agreed")] == AGREED_RATE
    assert (disagree.profile_id, "validation_agreed") not in earned
    assert (latecomer.profile_id, "validation_agreed") not in earned


async def test_a_late_reserved_vote_that_agrees_is_paid_at_once_and_teaches_nothing():
    world = SyncWorld()
    clip_id, _ = await world.clip()
    offline = world.member()
    await world.reserve()(offline, "yo", 5)
    for _ in range(2):
        await world.vote(world.member(), clip_id)
    world.clock.advance(hours=3)
    late = await world.cast(offline, clip_id)
    assert late.outcome is VoteOutcome.LATE_RESERVED
    (earning,) = [
        tx for tx in world.store.ledger.transactions if tx.member_id == offline.profile_id
    ]
    assert earning.occurred_at == world.clock.now()  # its holding period starts now
    assert offline.profile_id not in world.store.clips.stats
    used = world.store.clips.reservations[(offline.profile_id, clip_id)]
    assert used.used_at == world.clock.now()


async def test_batch_votes_draw_on_the_listening_clock():
    rules = ValidationRules(
        policy=MajorityPolicy(ConsensusConfig(require_established=False)), min_listen_fraction=0.5
    )
    world = SyncWorld(rules)
    clips = [(await world.clip())[0] for _ in range(3)]  # 2 s each: 1 s of listening
    offline = world.member()
    await world.reserve()(offline, "yo", 5)
    world.clock.advance(seconds=2.5)
    outcomes = [(await world.cast(offline, clip)).outcome for clip in clips]
    assert outcomes == [VoteOutcome.COUNTED, VoteOutcome.COUNTED, VoteOutcome.TOO_FAST]
    assert world.store.clips.stats[offline.profile_id].history.rushed_votes == 1


async def test_a_member_holds_at_most_max_reserved():
    world = SyncWorld()
    for _ in range(4):
        await world.clip()
    offline = world.member()
    few = OfflineRules(max_reserved=3)
    assert len((await world.reserve(few)(offline, "yo", 2)).clips) == 2
    assert len((await world.reserve(few)(offline, "yo", 5)).clips) == 1
    with pytest.raises(Conflict) as refused:
        await world.reserve(few)(offline, "yo", 1)
    assert refused.value.code == "too_many_reserved"
    world.clock.advance(hours=25)
    assert len((await world.reserve(few)(offline, "yo", 5)).clips) == 3


@pytest.mark.parametrize("size", [0, 101])
async def test_batch_sizes_are_1_to_100(size):
    world = SyncWorld()
    with pytest.raises(InvalidInput):
        await world.reserve()(world.member(), "yo", size)


async def test_a_gold_clip_in_a_batch_answers_and_pays_like_a_pending_one():
    world = SyncWorld()
    gold_id, _ = await world.clip()
    await MarkGold(uow_factory=world.uow, clock=world.clock, ids=world.ids, rules=world.rules)(
        world.service, gold_id, Verdict.VALID, decide=True
    )
    offline = world.member()
    newcomer = OfflineRules()
    batch = await world.reserve(newcomer)(offline, "yo", 5)
    assert [c.id for c in batch.clips] == [gold_id]  # newcomers get gold; it is all there is
    for _ in range(2):  # two others settle the shadow round
        voter = world.member()
        world.serve(voter, gold_id)
        world.clock.advance(minutes=1)
        await world.cast(voter, gold_id)
    world.clock.advance(minutes=5)
    late = await world.cast(offline, gold_id)
    assert (late.outcome, late.clip_status) == (VoteOutcome.LATE_RESERVED, ClipStatus.ACCEPTED)
    assert world.earned()[(offline.profile_id, "validation_agreed")] == AGREED_RATE
    assert world.store.clips.stats[offline.profile_id].history.gold_right == 1


# -- housekeeping and pulls ----------------------------------------------------------------


async def test_pruning_keeps_operations_at_least_30_days():
    world = SyncWorld()
    clip_id, _ = await world.clip()
    me = world.member()
    await world.push()(me, "phone", [SyncOp(uuid.uuid4(), "clip.skip", {"clipId": str(clip_id)})])
    await world.reserve()(world.member(), "yo", 5)
    prune = PruneSyncState(uow_factory=world.uow, clock=world.clock)
    world.clock.advance(days=29)
    assert await prune() == 1  # the expired reservation only
    world.clock.advance(days=2)
    assert await prune() == 1
    assert world.store.sync.ops == {}
    with pytest.raises(InvalidInput):
        await PruneSyncState(
            uow_factory=world.uow, clock=world.clock, retention=timedelta(days=7)
        )()


class _RecordingFeed:
    def __init__(self) -> None:
        self.asked: list[tuple[Any, ...]] = []

    async def page(self, member_id, cursor, limit, *, currency, now):
        self.asked.append((member_id, cursor, limit, currency))
        return "page"


async def test_pulls_check_their_limit_and_cursor_and_read_the_callers_feed():
    world = SyncWorld()
    feed = _RecordingFeed()
    pull = PullChanges(feed=feed, clock=world.clock, rewards=world.rewards)
    me = world.member()
    assert await pull(me, None, 50) == "page"
    assert feed.asked == [(me.profile_id, SyncCursor(), 50, "NGN")]
    for limit in (0, 501):
        with pytest.raises(InvalidInput):
            await pull(me, None, limit)
    with pytest.raises(InvalidInput) as bad:
        await pull(me, "garbage", 10)
    assert bad.value.code == "invalid_cursor"


def test_an_operation_type_is_registered_once():
    handlers = OpHandlers()

    async def handler(principal, payload, uow_factory):
        return {}

    handlers.register("clip.skip", handler)
    with pytest.raises(ValueError, match="already registered"):
        handlers.register("clip.skip", handler)
    assert handlers.types == frozenset({"clip.skip"})
