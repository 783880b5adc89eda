"""One contract, two implementations: the in-memory fakes used by the unit tests must keep
the same promises as the Postgres adapters."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import (
    AudioInfo,
    Clip,
    ClipStatus,
    ClipTally,
    Verdict,
    Visibility,
    VoteOutcome,
)
from core.domain.dawid_skene import ConfusionCounts, CrowdModel
from core.domain.validation import VoteRecord
from tests.integration.ports.members import T0, member

NOW_CAP = {"now": T0 + timedelta(hours=1), "vote_cap": 5}


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
            1.25,
            0.8,
            False,
            True,
            T0 + timedelta(seconds=at),
        )

    first = vote(1)
    async with uow_factory() as uow:
        assert await uow.votes.add_if_absent(first)
        assert not await uow.votes.add_if_absent(vote(2))
        assert list(await uow.votes.for_clip(target.id)) == [first]
        assert list(await uow.votes.for_clip(target.id, after=T0)) == [first]
        assert list(await uow.votes.for_clip(target.id, after=first.created_at)) == []
        await uow.commit()


async def test_validator_stats_add_up(uow_factory):
    validator = await member(uow_factory)
    soft = ConfusionCounts(said_valid_on_valid=0.75, said_valid_on_invalid=0.25)
    async with uow_factory() as uow:
        assert await uow.validator_stats.get(validator) == ValidatorRecord()
        record, model = await uow.validator_stats.get_with_model(validator)
        assert (record, model) == (ValidatorRecord(), CrowdModel())
        await uow.validator_stats.add({validator: ValidatorAccuracy(confusion=soft, gold_right=2)})
        await uow.validator_stats.add(
            {validator: ValidatorAccuracy(confusion=soft, gold_right=1, gold_wrong=1)}
        )
        history = (await uow.validator_stats.get(validator)).history
        assert (history.gold_right, history.gold_wrong) == (3, 1)
        assert history.confusion.as_tuple() == pytest.approx((1.5, 0.0, 0.0, 0.5))
        await uow.commit()


async def test_servings_keep_the_first_time_and_reach_the_vote(uow_factory):
    owner, me = await member(uow_factory), await member(uow_factory)
    target, other = clip(owner), clip(owner)
    await add(uow_factory, target, other)
    async with uow_factory() as uow:
        await uow.servings.record(me, [target.id], T0)
        await uow.servings.record(me, [target.id, other.id], T0 + timedelta(minutes=1))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.clips.get_for_vote(target.id, me)
        assert found is not None
        assert found.serving is not None
        assert found.serving.served_at == T0
        assert found.language_has_gold is False
        unseen = await uow.clips.get_for_vote(target.id, owner)
        assert unseen is not None
        assert unseen.serving is None
        assert await uow.clips.get_for_vote(uuid.uuid4(), me) is None


async def test_a_gold_clip_keeps_its_shadow_and_leaves_the_queue_of_those_served_before(
    uow_factory,
):
    owner, early, late = [await member(uow_factory) for _ in range(3)]
    gold = clip(owner, rank=0)
    await add(uow_factory, gold)
    async with uow_factory() as uow:
        await uow.clips.save_tally(gold.id, ClipTally.gold(Verdict.VALID), 0, T0)
        await uow.servings.record(early, [gold.id], T0)
        shadow = ClipTally(valid_votes=1, log_odds_sum=1.5, prior_log_odds=0.5)
        await uow.clips.save_shadow(gold.id, shadow, None)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.clips.get(gold.id)
        assert stored is not None
        assert stored.status is ClipStatus.ACCEPTED
        assert stored.tally.is_gold
        assert stored.shadow.valid_votes == 1
        assert stored.shadow.log_odds == 2.0
        assert (await uow.clips.get_for_vote(gold.id, late)).language_has_gold
        await uow.clips.save_shadow(
            gold.id, shadow.reset_counts(), (ClipStatus.ACCEPTED, T0 + timedelta(minutes=1))
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.clips.get(gold.id)
        assert stored is not None
        assert stored.shadow.counted_votes == 0
        assert stored.shadow_status is ClipStatus.ACCEPTED
        assert await uow.clip_queue.gold(early, "yo", 5, pivot=uuid.uuid4(), **NOW_CAP) == []
        served_after = await uow.clip_queue.gold(late, "yo", 5, pivot=gold.id, **NOW_CAP)
        assert [c.id for c in served_after] == [gold.id]


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
                uuid.uuid4(),
                voted.id,
                me,
                Verdict.VALID,
                VoteOutcome.COUNTED,
                1.0,
                0.8,
                False,
                True,
                T0,
            )
        )
        await uow.skips.add(me, skipped.id, T0)
        await uow.skips.add(me, skipped.id, T0)
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.clip_queue.pending(me, "yo", 10, **NOW_CAP)
        golden = await uow.clip_queue.gold(me, "yo", 5, pivot=uuid.uuid4(), **NOW_CAP)
    assert [c.id for c in pending] == [closest.id, old.id, newer.id]
    assert [c.id for c in golden] == [gold.id]
