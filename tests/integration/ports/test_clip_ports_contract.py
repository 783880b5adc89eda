"""One contract, two implementations: the in-memory fakes used by the unit tests must keep
the same promises as the Postgres adapters."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import (
    AudioInfo,
    Clip,
    ClipStatus,
    ClipTally,
    Verdict,
    Visibility,
    VoteOutcome,
)
from core.domain.identity import Profile
from core.domain.validation import VoteRecord
from tests.fakes import FakeUnitOfWork, InMemoryStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["fake", "postgres"])
def uow_factory(request):
    if request.param == "fake":
        store = InMemoryStore()
        return lambda: FakeUnitOfWork(store)
    engine = request.getfixturevalue("engine")
    return lambda: PostgresUnitOfWork(engine)


async def member(uow_factory) -> uuid.UUID:
    profile = Profile.new(uuid.uuid4(), T0)
    async with uow_factory() as uow:
        await uow.profiles.add_if_absent(profile)
        await uow.commit()
    return profile.id


def clip(contributor: uuid.UUID, *, rank: int = 3, minutes: int = 0, language: str = "yo") -> Clip:
    clip_id = uuid.uuid4()
    return Clip(
        id=clip_id,
        contributor_id=contributor,
        client_id=uuid.uuid4(),
        language=language,
        prompt="hello",
        audio_key=f"clips/{clip_id}.wav",
        audio=AudioInfo("wav", "audio/wav", 2000, 1000),
        tally=ClipTally(),
        visibility=Visibility.VISIBLE,
        queue_rank=rank,
        created_at=T0 + timedelta(minutes=minutes),
    )


async def add(uow_factory, *clips: Clip) -> None:
    async with uow_factory() as uow:
        for item in clips:
            assert await uow.clips.add_if_absent(item)
        await uow.commit()


async def test_client_id_is_unique_per_contributor(uow_factory):
    owner = await member(uow_factory)
    first = clip(owner)
    await add(uow_factory, first)
    duplicate = (
        Clip(**{**first.__dict__, "id": uuid.uuid4()}) if hasattr(first, "__dict__") else None
    )

    duplicate = replace(first, id=uuid.uuid4())
    async with uow_factory() as uow:
        assert not await uow.clips.add_if_absent(duplicate)
        assert await uow.clips.by_client_id(owner, first.client_id) == first


async def test_nothing_is_kept_without_commit(uow_factory):
    owner = await member(uow_factory)
    async with uow_factory() as uow:
        await uow.clips.add_if_absent(clip(owner))
    async with uow_factory() as uow:
        assert await uow.clips.list_by_contributor(owner, before=None, limit=10) == []


async def test_votes_are_one_per_validator_and_listed_in_order(uow_factory):
    owner, validator = await member(uow_factory), await member(uow_factory)
    target = clip(owner)
    await add(uow_factory, target)

    def vote(at: int) -> VoteRecord:
        return VoteRecord(
            uuid.uuid4(),
            target.id,
            validator,
            Verdict.VALID,
            VoteOutcome.COUNTED,
            0.8,
            False,
            T0 + timedelta(seconds=at),
        )

    async with uow_factory() as uow:
        assert await uow.votes.add_if_absent(vote(1))
        assert not await uow.votes.add_if_absent(vote(2))
        assert [v.validator_id for v in await uow.votes.for_clip(target.id)] == [validator]
        await uow.commit()


async def test_validator_stats_add_up(uow_factory):
    validator = await member(uow_factory)
    async with uow_factory() as uow:
        assert await uow.validator_stats.get(validator) == ValidatorAccuracy()
        await uow.validator_stats.add({validator: ValidatorAccuracy(gold_right=2)})
        await uow.validator_stats.add({validator: ValidatorAccuracy(gold_right=1, gold_wrong=1)})
        assert await uow.validator_stats.get(validator) == ValidatorAccuracy(3, 1, 0, 0)
        await uow.commit()


async def test_queue_order_and_exclusions(uow_factory):
    owner, me = await member(uow_factory), await member(uow_factory)
    old = clip(owner, rank=3, minutes=0)
    newer = clip(owner, rank=3, minutes=5)
    closest = clip(owner, rank=1, minutes=9)
    mine = clip(me, rank=0)
    other_language = clip(owner, language="ha")
    voted, skipped = clip(owner, rank=0), clip(owner, rank=0)
    await add(uow_factory, old, newer, closest, mine, other_language, voted, skipped)
    decided = clip(owner, rank=0)
    gold = clip(owner, rank=0)
    await add(uow_factory, decided, gold)
    async with uow_factory() as uow:
        await uow.clips.save_tally(decided.id, ClipTally(status=ClipStatus.ACCEPTED), 0, T0)
        await uow.clips.save_tally(
            gold.id, ClipTally(status=ClipStatus.REJECTED, is_gold=True), 0, T0
        )
        await uow.votes.add_if_absent(
            VoteRecord(
                uuid.uuid4(), voted.id, me, Verdict.VALID, VoteOutcome.COUNTED, 0.8, False, T0
            )
        )
        await uow.skips.add(me, skipped.id, T0)
        await uow.skips.add(me, skipped.id, T0)
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.clip_queue.pending(me, "yo", 10)
        golden = await uow.clip_queue.gold(me, "yo", 5, pivot=uuid.uuid4())
    assert [c.id for c in pending] == [closest.id, old.id, newer.id]
    assert [c.id for c in golden] == [gold.id]
