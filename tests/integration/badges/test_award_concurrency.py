"""Awards are idempotent under concurrency, on a real PostgreSQL: 20 concurrent events that
each cross the same threshold give one award and one push."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.badges import BadgeDraft, Criterion
from core.domain.events import DomainEvent
from core.domain.identity import Principal
from entrypoints.settings import Settings
from tests.contracts.expo_server import expo_server
from tests.integration.badges.support import worker_container
from tests.integration.clips.helpers import execute
from tests.integration.worker.support import (
    add_events,
    add_members,
    add_tokens,
    eventually,
    fast_worker_settings,
    rows,
    running_worker,
    scalar,
)

__all__ = ["expo_server"]

SERVICE = Principal(profile=None, is_service=True)
CONCURRENT = 20


async def add_badge(settings: Settings, code: str, **criterion: object) -> uuid.UUID:
    criterion.setdefault("threshold", None)
    async with worker_container(settings) as container:
        badge = await container.create_badge()(
            SERVICE,
            BadgeDraft(code, code.title(), Criterion.parse(**criterion)),  # type: ignore[arg-type]
        )
    return badge.id


async def test_twenty_concurrent_events_crossing_one_threshold_award_once_and_push_once(
    engine: AsyncEngine, settings: Settings, expo_server
) -> None:
    """Twenty clips the same validator agreed on are decided at once; each decision finds the
    validator past the agreement threshold, so each of the twenty handlers, running at the same
    time in a real worker, tries to award the badge."""
    badge = await add_badge(settings, "agreeable", metric="validations_agreed", threshold=50)
    validator, *contributors = await add_members(engine, CONCURRENT + 1)
    await execute(
        engine,
        "INSERT INTO validator_stats (validator_id, consensus_agreed, updated_at) "
        "VALUES (:id, 50, now())",
        id=validator,
    )
    device = "ExponentPushToken[validator-phone]"
    await add_tokens(engine, {device: validator})
    vote = {"validatorId": str(validator), "verdict": "valid", "outcome": "counted"}
    await add_events(
        engine,
        [
            (
                "clip.decided",
                {
                    "clipId": str(uuid.uuid4()),
                    "contributorId": str(contributor),
                    "status": "accepted",
                    "language": "yo",
                    "votes": [vote],
                },
            )
            for contributor in contributors
        ],
    )
    tuned = fast_worker_settings(settings, expo_server.base_url, concurrency=CONCURRENT)
    async with running_worker(tuned):

        async def settled() -> bool:
            open_jobs = await scalar(engine, "SELECT count(*) FROM outbox WHERE status <> 'done'")
            queued = await scalar(
                engine, "SELECT count(*) FROM push_deliveries WHERE state IN ('queued', 'sending')"
            )
            awarded = await scalar(
                engine, "SELECT count(*) FROM outbox WHERE name = 'badge.awarded'"
            )
            return bool(open_jobs == 0 and queued == 0 and awarded >= 1)

        await eventually(settled, within=60)

    awards = await rows(
        engine, "SELECT profile_id, badge_id FROM user_badges WHERE badge_id = :id", id=badge
    )
    assert [(row.profile_id, row.badge_id) for row in awards] == [(validator, badge)]
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'badge.awarded'") == 1
    assert await scalar(engine, "SELECT max(attempts) FROM outbox") == 1  # no retry needed
    assert await scalar(engine, "SELECT count(*) FROM notifications WHERE category = 'badge'") == 1
    badge_pushes = [
        message
        for message in expo_server.deliveries[device]
        if message.get("data", {}).get("category") == "badge"
    ]
    assert len(badge_pushes) == 1
    assert badge_pushes[0]["data"]["badgeCode"] == "agreeable"
    # Every decision was counted once for its contributor.
    assert await scalar(engine, "SELECT sum(clips_accepted) FROM member_language_stats") == 20


async def test_one_event_handled_twenty_times_at_once_counts_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    badge = await add_badge(settings, "first-accepted", metric="clips_accepted", threshold=1)
    [member] = await add_members(engine, 1)
    decided = DomainEvent(
        uuid.uuid4(),
        "clip.decided",
        datetime.now(UTC),
        {"clipId": str(uuid.uuid4()), "contributorId": str(member), "status": "accepted",
         "language": "ig", "votes": []},
    )  # fmt: skip
    async with worker_container(settings) as container:
        handlers = [container.record_member_activity() for _ in range(CONCURRENT)]
        await asyncio.gather(*(handle(decided) for handle in handlers))
    assert (
        await scalar(
            engine,
            "SELECT clips_accepted FROM member_language_stats WHERE profile_id = :id",
            id=member,
        )
        == 1
    )
    assert (
        await scalar(engine, "SELECT count(*) FROM user_badges WHERE badge_id = :id", id=badge) == 1
    )
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'badge.awarded'") == 1


async def test_twenty_concurrent_manual_awards_make_one(engine: AsyncEngine, settings: Settings):
    await add_badge(settings, "hero", metric="manual")
    [member] = await add_members(engine, 1)
    async with worker_container(settings) as container:
        results = await asyncio.gather(
            *(
                container.award_badge()(
                    SERVICE, profile_id=member, badge_code="hero", reason=f"attempt {n}"
                )
                for n in range(CONCURRENT)
            )
        )
    assert sum(result.created for result in results) == 1
    assert len({result.award.id for result in results}) == 1
    assert await scalar(engine, "SELECT count(*) FROM user_badges") == 1
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'badge.awarded'") == 1


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, db_pool_size=30, db_max_overflow=10)
