"""One contract, two implementations: the fakes of the sync ports (remembered operations,
reservations, listening clocks, the queue's slot filter, savepoints) keep the promises of
the Postgres adapters."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from core.domain.clips import ClipStatus, ClipTally, Verdict, Visibility
from core.domain.events import DomainEvent
from core.domain.reservations import Reservation
from core.domain.sync_ops import OpClaim, OpOutcome, OpStatus
from tests.integration.ports.test_clip_ports_contract import T0, add, clip, member

pytestmark = pytest.mark.integration

LATER = T0 + timedelta(hours=1)
TTL = timedelta(hours=24)


@pytest.fixture(params=["fake", "postgres"])
def uow_factory(request):
    return request.getfixturevalue("uow_factory_of_" + request.param)


@pytest.fixture
def uow_factory_of_fake():
    from tests.fakes import FakeUnitOfWork, InMemoryStore

    store = InMemoryStore()
    factory = lambda: FakeUnitOfWork(store)  # noqa: E731
    factory.store = store  # type: ignore[attr-defined]
    return factory


@pytest.fixture
def uow_factory_of_postgres(engine):
    from adapters.postgres.unit_of_work import PostgresUnitOfWork

    return lambda: PostgresUnitOfWork(engine)


def claim(op_id: uuid.UUID, fingerprint: str = "f") -> OpClaim:
    return OpClaim(op_id, "phone", "clip.skip", fingerprint, T0, T0)


async def test_an_operation_is_claimed_once_and_remembered_with_its_outcome(uow_factory):
    me = await member(uow_factory)
    op_id = uuid.uuid4()
    async with uow_factory() as uow:
        assert await uow.sync_ops.claim(me, claim(op_id)) is None
    async with uow_factory() as uow:  # rolled back: not remembered
        assert await uow.sync_ops.claim(me, claim(op_id)) is None
        await uow.sync_ops.finish(me, op_id, OpOutcome(OpStatus.APPLIED, {"n": 1}))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.sync_ops.claim(me, claim(op_id))
        assert stored is not None
        assert (stored.op_id, stored.fingerprint, stored.outcome) == (
            op_id,
            "f",
            OpOutcome(OpStatus.APPLIED, {"n": 1}),
        )
        other = await member(uow_factory)
        assert await uow.sync_ops.claim(other, claim(op_id)) is None  # per member
    async with uow_factory() as uow:
        assert await uow.sync_ops.prune(received_before=T0, limit=10) == 0
        assert await uow.sync_ops.prune(received_before=LATER, limit=10) == 1
        await uow.commit()


async def test_a_savepoint_keeps_or_undoes_only_its_own_changes(uow_factory):
    owner, me = await member(uow_factory), await member(uow_factory)
    kept, undone = clip(owner), clip(owner, minutes=1)
    await add(uow_factory, kept, undone)
    event = DomainEvent(uuid.uuid4(), "test.kept", T0, {})
    async with uow_factory() as uow:
        async with uow.savepoint() as inner:
            await inner.skips.add(me, kept.id, T0)
            inner.record(event)
            await inner.commit()
        async with uow.savepoint() as inner:
            await inner.skips.add(me, undone.id, T0)
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.clip_queue.pending(me, "yo", 10, now=LATER, vote_cap=5)
        assert [c.id for c in pending] == [undone.id]


async def test_reservations_hold_slots_until_used_or_expired(uow_factory):
    owner = await member(uow_factory)
    first, second, third = [await member(uow_factory) for _ in range(3)]
    target = clip(owner)
    await add(uow_factory, target)
    batch = uuid.uuid4()

    def reserving(who: uuid.UUID) -> Reservation:
        return Reservation(who, target.id, batch, T0, T0 + TTL)

    async with uow_factory() as uow:
        slots = await uow.reservations.lock_for_batch([target.id, uuid.uuid4()], T0)
        assert list(slots) == [target.id]
        assert (slots[target.id].servable, slots[target.id].holding_reservations) == (True, 0)
        await uow.reservations.add([reserving(first), reserving(second)])
        await uow.commit()
    async with uow_factory() as uow:
        seen = await uow.clips.get_for_vote(target.id, third)
        assert seen is not None
        assert seen.reserved_until == T0 + TTL
        assert seen.may_be_reserved(LATER)
        mine = await uow.reservations.for_vote(target.id, first, LATER)
        assert mine.own == reserving(first)
        assert mine.others == 1
        assert (await uow.reservations.for_vote(target.id, third, LATER)).others == 2
        assert await uow.reservations.holding_count(first, LATER) == 1
        # Cap 3: two held, one counted would fill it; the queue then leaves the clip out.
        assert [c.id for c in await uow.clip_queue.pending(third, "yo", 5, now=LATER, vote_cap=3)]
        await uow.clips.save_tally(target.id, ClipTally(valid_votes=1), 1, None)
        assert await uow.clip_queue.pending(third, "yo", 5, now=LATER, vote_cap=3) == []
        assert await uow.clip_queue.pending(first, "yo", 5, now=LATER, vote_cap=9) == []
        await uow.reservations.mark_used(first, target.id, LATER)
        assert (await uow.reservations.for_vote(target.id, third, LATER)).others == 1
        slots = await uow.reservations.lock_for_batch([target.id], LATER)
        assert (slots[target.id].counted_votes, slots[target.id].holding_reservations) == (1, 1)
        await uow.commit()
    expired = T0 + TTL
    async with uow_factory() as uow:
        assert (await uow.reservations.for_vote(target.id, third, expired)).others == 0
        assert await uow.reservations.holding_count(second, expired) == 0
        renewed = replace(reserving(second), reserved_at=expired, expires_at=expired + TTL)
        held_again = replace(reserving(third), reserved_at=expired, expires_at=expired + TTL)
        await uow.reservations.add([renewed, held_again])
        unused_first = replace(reserving(first), reserved_at=expired, expires_at=expired + TTL)
        await uow.reservations.add([unused_first])  # first used theirs: not renewed
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.reservations.for_vote(target.id, second, expired)).own == renewed
        first_now = (await uow.reservations.for_vote(target.id, first, expired)).own
        assert first_now is not None
        assert first_now.used_at == LATER
        assert await uow.reservations.prune(expired_before=LATER + TTL, limit=10) == 1
        await uow.commit()


async def test_a_listening_clock_starts_unset_and_keeps_what_is_set(uow_factory):
    me = await member(uow_factory)
    async with uow_factory() as uow:
        assert await uow.reservations.lock_listening_clock(me) is None
        await uow.reservations.set_listening_clock(me, LATER)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.reservations.lock_listening_clock(me) == LATER


async def test_a_settled_or_hidden_clip_is_not_servable_to_a_batch(uow_factory):
    owner = await member(uow_factory)
    gold = replace(clip(owner), tally=ClipTally.gold(Verdict.VALID), decided_at=T0)
    decided, hidden = clip(owner, minutes=1), clip(owner, minutes=2)
    hidden = replace(hidden, visibility=Visibility.HIDDEN)
    await add(uow_factory, gold, decided, hidden)
    async with uow_factory() as uow:
        await uow.clips.save_tally(decided.id, ClipTally(status=ClipStatus.ACCEPTED), 0, T0)
        slots = await uow.reservations.lock_for_batch([gold.id, decided.id, hidden.id], T0)
        assert slots[gold.id].servable  # gold: served like any clip
        assert not slots[decided.id].servable
        assert not slots[hidden.id].servable
