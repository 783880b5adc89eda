"""Member statistics on a real PostgreSQL: streaks in Lagos, Nairobi and New York across a
daylight-saving change and a missed day; a moderation reversal taking an accepted clip and
its earnings back; accuracy badges following the standing each refit publishes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.badges import BadgeDraft, Criterion
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Role
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.fakes import FixedClock
from tests.integration.badges.support import (
    count_facts,
    count_outbox,
    pending_events,
    worker_container,
)
from tests.integration.clips.helpers import execute, scalar, upload, vote
from tests.integration.worker.support import add_members
from tests.tokens import member_headers

SERVICE = Principal(profile=None, is_service=True)


@pytest.fixture
def settings(settings, tmp_path):
    return replace(
        settings, blob_dir=tmp_path / "blobs", consensus_policy="majority", reward_holding_hours=0
    )


def local(zone: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, ZoneInfo(zone)).astimezone(UTC)


async def my_stats(container: Container, member: uuid.UUID, now: datetime):
    container.clock.override(providers.Object(FixedClock(now)))
    async with container.unit_of_work() as uow:
        profile = await uow.profiles.get(member)
    assert profile is not None
    return await container.my_stats()(Principal(profile=profile))


@pytest.mark.parametrize("zone", ["Africa/Lagos", "Africa/Nairobi", "America/New_York"])
async def test_streaks_count_local_days_across_dst_and_end_on_a_missed_day(
    engine: AsyncEngine, settings: Settings, zone: str
):
    [member] = await add_members(engine, 1)
    await execute(
        engine, "UPDATE profiles SET time_zone = :zone WHERE id = :id", zone=zone, id=member
    )
    # Every evening at 23:50 local time from 5 to 10 March 2026 (New York springs forward on
    # the 8th: that day has 23 hours), a recording; at 00:10 local on the 11th… nothing: the
    # next one comes on the 12th at 00:10 — the 11th was missed.
    days = [date(2026, 3, 5) + timedelta(days=n) for n in range(6)]
    instants = [local(zone, day, time(23, 50)) for day in days]
    instants.append(local(zone, date(2026, 3, 12), time(0, 10)))
    events = [
        DomainEvent(
            uuid.uuid4(), "clip.submitted", at, {"profileId": str(member), "language": "yo"}
        )
        for at in instants
    ]
    async with worker_container(settings) as container:
        # Out of order, and the first one twice: a retried job.
        await count_facts(container, [events[3], *events[:6], events[0]])
        on_the_10th = await my_stats(container, member, local(zone, days[-1], time(23, 55)))
        on_the_11th = await my_stats(container, member, local(zone, date(2026, 3, 11), time(23)))
        await count_facts(container, events[6:])
        on_the_12th = await my_stats(container, member, local(zone, date(2026, 3, 12), time(9)))
    assert on_the_10th.clips_submitted == 6
    assert (on_the_10th.current_streak, on_the_10th.longest_streak) == (6, 6)
    assert on_the_11th.current_streak == 6  # the 11th is not over yet
    assert (on_the_12th.current_streak, on_the_12th.longest_streak) == (1, 6)
    assert on_the_12th.last_active_day == date(2026, 3, 12)
    assert on_the_12th.time_zone == zone
    # The same instants in UTC would have split differently: the zone decides.
    utc_days = {at.date() for at in instants}
    if zone != "Africa/Lagos":
        assert utc_days != set(days) | {date(2026, 3, 12)}


async def test_a_moderation_reversal_takes_back_the_accepted_clip_and_its_earnings(
    client, engine: AsyncEngine, settings: Settings
):
    admin_id = uuid.uuid4()
    admin = member_headers(admin_id)
    await client.get("/me", headers=admin)
    await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=admin_id)
    for kind, amount in (("clip_accepted", 50_000), ("validation_agreed", 2_000)):
        rate = {"kind": kind, "amountMinor": amount, "currency": "NGN"}
        assert (
            await client.post("/monetization/rates", json=rate, headers=admin)
        ).status_code == 201
    contributor_id = uuid.uuid4()
    contributor = member_headers(contributor_id)
    clip_id = (await upload(client, contributor, language="ha")).json()["id"]
    for _ in range(2):
        await vote(client, member_headers(), clip_id, language="ha")
    async with worker_container(settings) as container:
        await count_outbox(container, engine)
        before = await my_stats(container, contributor_id, datetime.now(UTC))
        assert (before.clips_accepted, before.lifetime_earnings) == (1, {"NGN": 50_000})

        await execute(
            engine, "UPDATE voice_clips SET visibility = 'removed' WHERE id = :id", id=clip_id
        )
        async with container.unit_of_work() as uow:
            admin_profile = await uow.profiles.get(admin_id)
        assert admin_profile is not None
        assert admin_profile.role is Role.ADMIN
        reversed_ = await container.reverse_clip_earnings()(
            Principal(profile=admin_profile), uuid.UUID(clip_id), "spam"
        )
        assert len(reversed_) == 3
        [reversal] = [
            e
            for e in await pending_events(engine, "reward.reversed")
            if e.payload["profileId"] == str(contributor_id)
        ]
        assert reversal.payload["rewardKind"] == "clip_accepted"
        await count_outbox(container, engine)
        await count_outbox(container, engine)  # handled again: nothing changes
        after = await my_stats(container, contributor_id, datetime.now(UTC))
    assert after.clips_accepted == 0
    assert after.clips_submitted == 1
    assert after.lifetime_earnings == {"NGN": 0}
    assert [item.clips_accepted for item in after.languages] == [0]


async def test_accuracy_badges_follow_the_standing_each_refit_publishes(
    engine: AsyncEngine, settings: Settings
):
    sharp, sampled = await add_members(engine, 2)
    contributor, *_ = await add_members(engine, 1)
    await _gold_answers(engine, contributor, sharp, right=210)
    await _gold_answers(engine, contributor, sampled, right=150)
    async with worker_container(settings) as container:
        criterion = Criterion.parse(metric="accuracy", threshold=0.95, min_sample=200)
        await container.create_badge()(SERVICE, BadgeDraft("sharp-ear", "Sharp ear", criterion))
        assert (await container.award_standing_badges()()).awarded == 0  # nothing published
        await container.refit_consensus_model()()
        published = await scalar(
            engine,
            "SELECT published_gold_answers FROM validator_stats WHERE validator_id = :id",
            id=sharp,
        )
        assert published == 210
        summary = await container.award_standing_badges()()
        assert (summary.awarded, summary.badges) == (1, 1)
        assert (await container.award_standing_badges()()).awarded == 0
    awarded = await pending_events(engine, "badge.awarded")
    assert [event.payload["profileId"] for event in awarded] == [str(sharp)]


async def _gold_answers(
    engine: AsyncEngine, contributor: uuid.UUID, validator: uuid.UUID, right: int
) -> None:
    """``right`` answers on gold clips, half valid and half invalid, all right."""
    await execute(
        engine,
        """
        WITH clips AS (
            INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, audio_key,
                audio_format, mime_type, duration_ms, size_bytes, status, is_gold, queue_rank,
                created_at, decided_at)
            SELECT gen_random_uuid(), :contributor, gen_random_uuid(), 'yo', 'p', 'k', 'wav',
                   'audio/wav', 2000, 100,
                   CASE WHEN n % 2 = 1 THEN 'accepted' ELSE 'rejected' END, true, 0, now(), now()
              FROM generate_series(1, :right) AS n
            RETURNING id, status
        )
        INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy,
                                 on_probation, created_at)
        SELECT gen_random_uuid(), id, :validator,
               CASE status WHEN 'accepted' THEN 'valid' ELSE 'invalid' END, 'gold', 0.8, false,
               now()
          FROM clips
        """,
        contributor=contributor,
        validator=validator,
        right=right,
    )
    await execute(
        engine,
        "INSERT INTO validator_stats (validator_id, gold_right, updated_at) "
        "VALUES (:id, :n, now())",
        id=validator,
        n=right,
    )
