"""POST /sync/push on real PostgreSQL: each operation applied on its own and exactly once,
with the online endpoints' results and problem codes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.events import DomainEvent
from entrypoints.container import Container
from tests.integration.clips.helpers import execute, scalar
from tests.integration.http.test_auth import assert_problem
from tests.integration.money.helpers import insert_clip
from tests.integration.sync.helpers import (
    bulk_clips,
    clips_of_new_members,
    count,
    op,
    push,
    serve_in_sql,
    skip_op,
    vote_op,
)
from tests.tokens import member_headers

pytestmark = pytest.mark.integration

CREATED = ("validations", "clip_skips", "outbox", "sync_ops", "transactions", "notifications")


async def counts(engine) -> dict[str, int]:
    return {table: await count(engine, table) for table in CREATED}


async def member(client) -> tuple[uuid.UUID, dict[str, str]]:
    subject = uuid.uuid4()
    headers = member_headers(subject)
    assert (await client.get("/me", headers=headers)).status_code == 200
    return subject, headers


async def notification_for(settings, engine, profile_id: uuid.UUID) -> str:
    """A feed notification for the member, made as the worker makes them."""
    container = Container(settings=settings)
    event = DomainEvent(
        uuid.uuid4(), "badge.awarded", datetime.now(UTC), {"profileId": str(profile_id)}
    )
    try:
        await container.notify_member()(event)
    finally:
        await container.engine().dispose()
    return str(
        await scalar(engine, "SELECT id FROM notifications WHERE profile_id = :p", p=profile_id)
    )


async def test_a_mixed_batch_gets_one_result_per_operation(client, engine, settings):
    me, headers = await member(client)
    clip_a, clip_b, decided = (str(c) for c in await clips_of_new_members(engine, 3))
    own = str(await insert_clip(engine, me))
    await serve_in_sql(engine, me, [clip_a, clip_b, decided])
    await execute(
        engine,
        "UPDATE voice_clips SET status = 'accepted', decided_at = now() WHERE id = :id",
        id=decided,
    )
    mine = await notification_for(settings, engine, me)
    other, _ = await member(client)
    theirs = await notification_for(settings, engine, other)

    first = vote_op(clip_a)
    ops = [
        first,
        op("clip.teleport", {"clipId": clip_a}),
        op("flag.create", {"targetType": "clip", "targetId": clip_b, "reason": "spam"}),
        op("flag.create", {"targetType": "clip", "targetId": clip_b, "reason": "offensive"}),
        op("validation.submit", {"verdict": "valid"}),
        op("validation.submit", "valid"),
        vote_op(own),
        vote_op(decided),
        skip_op(clip_b),
        op("notification.read", {"notificationId": mine}),
        op("notification.read", {"notificationId": theirs}),
        op("profile.update", {"displayName": "   "}),
        op("profile.update", {"displayName": "Ada"}),
        vote_op(clip_a, "invalid"),
        {**first},
        vote_op(uuid.uuid4()),
    ]
    results = await push(client, headers, ops)

    def summary(result: dict) -> tuple:
        body = result.get("problem") or {}
        return result["status"], body.get("code"), body.get("status")

    assert [summary(r) for r in results] == [
        ("applied", None, None),
        ("rejected", "unsupported_op", 422),
        ("rejected", "invalid_reason", 422),
        ("applied", None, None),
        ("rejected", "validation_failed", 422),
        ("rejected", "validation_failed", 422),
        ("rejected", "own_clip", 403),
        ("applied", None, None),
        ("applied", None, None),
        ("applied", None, None),
        ("rejected", "notification_not_found", 404),
        ("rejected", "invalid_display_name", 422),
        ("applied", None, None),
        ("rejected", "already_voted", 409),
        ("duplicate", None, None),
        ("rejected", "clip_not_found", 404),
    ]
    assert results[0]["result"] == {
        "clipId": clip_a, "outcome": "counted", "late": False, "decided": False,
        "clipStatus": "pending",
    }  # fmt: skip
    assert results[3]["result"]["targetId"] == clip_b  # the flag, as POST /moderation/flags
    assert results[7]["result"]["outcome"] == "late"
    assert results[8]["result"] == {}
    assert results[9]["result"]["readAt"] is not None
    assert results[12]["result"]["displayName"] == "Ada"
    assert results[14] == {
        "opId": first["opId"], "status": "duplicate", "original": "applied",
        "result": results[0]["result"], "problem": None,
    }  # fmt: skip
    # The same codes as online.
    online = await client.post(
        "/monetization/validate", json={"clipId": own, "verdict": "valid"}, headers=headers
    )
    assert_problem(online, 403, "own_clip")

    assert await count(engine, "validations") == 2
    assert await count(engine, "clip_skips") == 1
    assert await scalar(engine, "SELECT read_at IS NOT NULL FROM notifications WHERE id = :i",
                        i=mine)  # fmt: skip
    assert await scalar(engine, "SELECT display_name FROM profiles WHERE id = :i", i=me) == "Ada"
    assert await count(engine, "outbox WHERE name = 'validation.submitted'") == 2
    # Remembered: everything applied or refused by a use case; not unsupported types.
    assert await count(engine, "sync_ops") == 14
    assert await count(engine, "sync_ops WHERE status = 'claimed'") == 0


async def test_replaying_a_500_operation_push_creates_nothing(client, engine):
    me, headers = await member(client)
    clips = await bulk_clips(engine, 500)
    await serve_in_sql(engine, me, clips[:250])
    ops = [vote_op(c, "valid" if n % 3 else "invalid") for n, c in enumerate(clips[:250])]
    ops += [skip_op(c) for c in clips[250:]]
    first = await push(client, headers, ops)
    assert {r["status"] for r in first} == {"applied"}
    before = await counts(engine)
    assert before["validations"] == 250
    assert before["clip_skips"] == 250
    assert before["sync_ops"] == 500

    again = await push(client, headers, ops, device="phone-1-after-a-timeout")
    assert [r["status"] for r in again] == ["duplicate"] * 500
    assert [r["original"] for r in again] == ["applied"] * 500
    assert [r["result"] for r in again] == [r["result"] for r in first]
    assert await counts(engine) == before


async def test_the_same_push_on_two_connections_applies_each_operation_once(client, engine):
    me, headers = await member(client)
    clips = await bulk_clips(engine, 60)
    await serve_in_sql(engine, me, clips[:30])
    ops = [vote_op(c) for c in clips[:30]] + [skip_op(c) for c in clips[30:]]
    one, two = await asyncio.gather(push(client, headers, ops), push(client, headers, ops))
    for mine, theirs in zip(one, two, strict=True):
        assert sorted([mine["status"], theirs["status"]]) == ["applied", "duplicate"]
        applied = mine if mine["status"] == "applied" else theirs
        duplicate = theirs if applied is mine else mine
        assert duplicate.get("result") == applied.get("result")
    assert await count(engine, "validations") == 30
    assert await count(engine, "clip_skips") == 30
    assert await count(engine, "sync_ops") == 60


async def test_occurred_at_is_recorded_and_one_in_the_future_clamped(client, engine, clock):
    _, headers = await member(client)
    (clip,) = await clips_of_new_members(engine, 1)
    past = clock.now() - timedelta(hours=5)
    future = clock.now() + timedelta(days=2)
    earlier, later = (
        skip_op(clip, occurredAt=past.isoformat()),
        skip_op(clip, occurredAt=future.isoformat()),
    )
    await push(client, headers, [earlier, later])
    recorded = await scalar(
        engine, "SELECT occurred_at FROM sync_ops WHERE op_id = :o", o=earlier["opId"]
    )
    assert recorded == past
    clamped = await scalar(
        engine, "SELECT occurred_at = received_at FROM sync_ops WHERE op_id = :o", o=later["opId"]
    )
    assert clamped is True


async def test_an_op_id_reused_for_another_operation_is_refused(client, engine):
    _, headers = await member(client)
    clip_a, clip_b = await clips_of_new_members(engine, 2)
    first = skip_op(clip_a)
    reused = skip_op(clip_b, op_id=first["opId"])
    results = await push(client, headers, [first, reused])
    assert results[1]["status"] == "rejected"
    assert results[1]["problem"]["code"] == "op_id_reused"
    assert await count(engine, "clip_skips") == 1


async def test_operations_are_each_members_own(client, engine):
    (clip,) = await clips_of_new_members(engine, 1)
    shared = skip_op(clip)
    for _ in range(2):
        _, headers = await member(client)
        (result,) = await push(client, headers, [shared])
        assert result["status"] == "applied"  # the same opId from another member is new
    assert await count(engine, "clip_skips") == 2


async def test_suspended_members_push_what_they_may_still_do(client, engine, settings):
    me, headers = await member(client)
    (clip,) = await clips_of_new_members(engine, 1)
    await serve_in_sql(engine, me, [clip])
    notification = await notification_for(settings, engine, me)
    await execute(engine, "UPDATE profiles SET status = 'suspended' WHERE id = :i", i=me)
    results = await push(
        client, headers, [vote_op(clip), op("notification.read", {"notificationId": notification})]
    )
    assert results[0]["problem"]["code"] == "account_suspended"
    assert results[1]["status"] == "applied"


@pytest.mark.parametrize(
    "body",
    [
        {"ops": []},
        {"deviceId": "", "ops": []},
        {"deviceId": "p", "ops": [{"opId": "nope", "type": "clip.skip", "payload": {}}]},
        {"deviceId": "p", "ops": [{"opId": str(uuid.uuid4()), "payload": {}}]},
        {"deviceId": "p", "ops": [{"opId": str(uuid.uuid4()), "type": "clip.skip",
                                   "occurredAt": "2026-01-01T10:00:00"}]},  # no UTC offset
        {"deviceId": "p", "ops": [vote_op(uuid.uuid4())] * 501},
    ],
)  # fmt: skip
async def test_malformed_pushes_are_400_and_change_nothing(client, engine, body):
    response = await client.post("/sync/push", json=body, headers=member_headers())
    assert_problem(response, 422)
    assert await count(engine, "sync_ops") == 0


async def test_a_push_over_the_body_limit_is_413(client):
    payload = {"clipId": str(uuid.uuid4()), "verdict": "valid", "pad": "x" * 4000}
    body = {"deviceId": "p", "ops": [op("validation.submit", payload) for _ in range(300)]}
    response = await client.post("/sync/push", json=body, headers=member_headers())
    assert_problem(response, 413)


async def test_an_empty_push_answers_nothing(client):
    response = await client.post(
        "/sync/push", json={"deviceId": "p", "ops": []}, headers=member_headers()
    )
    assert response.status_code == 200
    assert response.json() == {"results": []}


async def test_answers_are_gzipped_for_clients_that_accept_it(client, engine):
    _, headers = await member(client)
    clips = await bulk_clips(engine, 40)
    ops = [skip_op(c) for c in clips]
    response = await client.post(
        "/sync/push",
        json={"deviceId": "p", "ops": ops},
        headers={**headers, "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["results"]) == 40
