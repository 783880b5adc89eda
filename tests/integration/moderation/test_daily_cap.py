"""The daily earnings cap on real PostgreSQL: decisions paying one member at the same moment
queue on the member's day row, so together they never pass the cap; past it the member's
votes still count but earn nothing more that day."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from core.domain.clips import Verdict, VoteOutcome
from core.domain.identity import Principal
from entrypoints.settings import Settings
from tests.integration.clips.helpers import vote
from tests.integration.moderation.helpers import clip_by, member
from tests.integration.money.helpers import (
    insert_clip,
    insert_profile,
    ledger_totals,
    scalar,
    seed_rates,
)

CLIP_RATE, AGREED_RATE, CAP = 1_000, 500, 2_500


@pytest.fixture
def settings(settings: Settings) -> Settings:
    moderation = replace(settings.moderation, daily_earnings_caps={"NGN": CAP})
    return replace(settings, moderation=moderation)


async def principal(container, profile_id: uuid.UUID) -> Principal:
    async with container.unit_of_work() as uow:
        return Principal(profile=await uow.profiles.get(profile_id))


async def serve(container, validator_id: uuid.UUID, clips: list[uuid.UUID]) -> None:
    async with container.unit_of_work() as uow:
        await uow.servings.record(
            validator_id, clips, container.clock().now() - timedelta(minutes=1)
        )
        await uow.commit()


async def test_concurrent_decisions_never_pay_a_member_past_the_cap(container, engine):
    """A contributor whose clips are decided at the same moment: nothing else serialises
    those decisions (different clips, different voters) but the contributor's day row."""
    await seed_rates(engine, CLIP_RATE, AGREED_RATE)
    busy_id = await insert_profile(engine)
    clips = [await insert_clip(engine, busy_id) for _ in range(9)]
    submit = container.submit_vote()
    deciders = []
    for clip_id in clips:
        first_id, decider_id = await insert_profile(engine), await insert_profile(engine)
        await serve(container, first_id, [clip_id])
        await serve(container, decider_id, [clip_id])
        receipt = await submit(await principal(container, first_id), clip_id, Verdict.VALID)
        assert (receipt.outcome, receipt.decided_now) == (VoteOutcome.COUNTED, False)
        deciders.append((await principal(container, decider_id), clip_id))
    # One decision first, so that the member's row for the day exists (committed) when the
    # others arrive together: only the lock on it keeps them from all reading the same total.
    first, *together = deciders
    assert (await submit(first[0], first[1], Verdict.VALID)).decided_now

    receipts = await asyncio.gather(
        *(container.submit_vote()(who, clip_id, Verdict.VALID) for who, clip_id in together)
    )

    assert [r.decided_now for r in receipts] == [True] * len(together)
    paid = await scalar(
        engine,
        "SELECT count(*) FROM transactions WHERE kind = 'reward_earned' AND member_id = :id",
        id=busy_id,
    )
    assert paid == CAP // CLIP_RATE  # 2 of 9, whatever the interleaving
    day = await scalar(
        engine,
        "SELECT earned_minor || '/' || withheld_minor FROM daily_earnings WHERE profile_id = :id",
        id=busy_id,
    )
    assert day == f"{2 * CLIP_RATE}/{7 * CLIP_RATE}"
    assert await scalar(
        engine, "SELECT count(*) FROM fraud_signals WHERE profile_id = :id", id=busy_id
    ) == 1  # fmt: skip
    # Every validator was paid in full (both agreeing votes of each clip).
    assert await scalar(engine, "SELECT count(*) FROM transactions") == len(clips) * 2 + 2
    assert await ledger_totals(engine) == {"NGN": 0}


async def test_past_the_cap_a_member_keeps_voting_but_earns_nothing_more_that_day(client, engine):
    await seed_rates(engine, CLIP_RATE, AGREED_RATE)
    busy_id, busy = await member(client, engine)
    outcomes = []
    for _ in range(7):
        _, owner = await member(client, engine)
        clip_id = await clip_by(client, owner)
        await vote(client, (await member(client, engine))[1], clip_id)
        response = await vote(client, busy, clip_id)
        outcomes.append((response.json()["outcome"], response.json()["decided"]))
    assert outcomes == [("counted", True)] * 7  # every vote counted and decided a clip
    balance = (await client.get("/monetization/balance", headers=busy)).json()
    assert balance["pendingMinor"] == 5 * AGREED_RATE  # 2500: the sixth and seventh not paid
    signal = await scalar(
        engine, "SELECT detail->>'withheldMinor' FROM fraud_signals WHERE profile_id = :id",
        id=busy_id,
    )  # fmt: skip
    assert signal == str(AGREED_RATE)
