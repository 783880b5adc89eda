"""Concurrent flags on real PostgreSQL: 20 members flag one clip at the same moment — the
clip is hidden exactly once, with one audit entry; flags after the hide find nothing to
flag; flags from members on probation never count."""

from __future__ import annotations

import asyncio

from tests.integration.clips.helpers import execute, scalar
from tests.integration.moderation.helpers import clip_by, flag, member


async def test_twenty_concurrent_flags_hide_the_clip_exactly_once(client, engine):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    reporters = [await member(client, engine) for _ in range(20)]
    on_probation = [reporter_id for reporter_id, _ in reporters[:5]]
    for reporter_id in on_probation:
        await execute(
            engine,
            "INSERT INTO validator_stats (validator_id, on_probation) VALUES (:id, true)",
            id=reporter_id,
        )

    responses = await asyncio.gather(
        *(flag(client, headers, clip_id, "offensive") for _, headers in reporters)
    )

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 404}, [r.text for r in responses if r.status_code >= 500]
    created = [r.json() for r in responses if r.status_code == 201]
    assert sum(1 for f in created if f["hidTarget"]) == 1
    counting = [f for f in created if f["counts"]]
    assert len(counting) == 3  # the third counting reporter hid it; later flags found nothing
    assert all(r.json()["code"] == "target_not_found" for r in responses if r.status_code == 404)
    assert await scalar(engine, "SELECT visibility FROM voice_clips") == "hidden"
    assert await scalar(engine, "SELECT count(*) FROM moderation_decisions") == 1
    assert await scalar(engine, "SELECT action || '/' || reason FROM moderation_decisions") == (
        "hide/flag_threshold"
    )
    assert await scalar(engine, "SELECT count(*) FROM flags") == len(created)
    assert await scalar(engine, "SELECT count(*) FROM moderation_cases WHERE is_open") == 1
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'flag.created'") == (
        len(created)
    )
