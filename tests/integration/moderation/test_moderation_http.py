"""SPEC §13 over HTTP on real PostgreSQL: flags and the threshold, the queue, decisions and
their effects on money, roles, feedback to contributors, screening on write and repeated
audio."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.clips.helpers import execute, scalar, serve, upload, vote
from tests.integration.http.test_auth import assert_problem
from tests.integration.moderation.helpers import (
    CLIP_RATE,
    add_rates,
    clip_by,
    decide,
    distinct_audio,
    flag,
    member,
)
from tests.integration.money.helpers import ledger_totals
from tests.tokens import member_headers


async def balance(client, headers) -> tuple[int, int]:
    body = (await client.get("/monetization/balance", headers=headers)).json()
    return body["pendingMinor"], body["availableMinor"]


async def queue(client, headers) -> list[dict]:
    response = await client.get("/moderation/queue", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_three_reporters_hide_a_clip_from_every_queue_and_restore_puts_it_back(
    client, engine
):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    validators = [member_headers() for _ in range(4)]
    for headers in validators:
        assert clip_id in await serve(client, headers)
    for n in range(3):
        response = await flag(client, member_headers(), clip_id, "noise_or_silence",
                              note=f"hiss {n}")  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["hidTarget"] is (n == 2)
    for headers in validators:  # at once, from every queue
        assert clip_id not in await serve(client, headers)
    assert_problem(await vote(client, validators[0], clip_id), 404, "clip_not_found")
    assert (await client.get(f"/clips/{clip_id}", headers=owner)).json()["visibility"] == "hidden"

    _, moderator = await member(client, engine, "moderator")
    (item,) = await queue(client, moderator)
    assert item["targetId"] == clip_id
    assert (item["visibility"], item["hiddenByFlags"], item["openFlags"]) == ("hidden", True, 3)
    assert (item["countingReporters"], item["reasons"]) == (3, {"noise_or_silence": 3})
    assert item["notes"] == ["hiss 2", "hiss 1", "hiss 0"]

    restored = await decide(client, moderator, clip_id, "restore", "report_unfounded")
    assert restored.status_code == 201, restored.text
    assert restored.json()["summary"]["visibility"] == ["hidden", "visible"]
    assert clip_id in await serve(client, validators[0])
    assert await queue(client, moderator) == []


async def test_a_hidden_clips_rewards_stay_pending_until_remove_reverses_them(
    client, engine, container
):
    await add_rates(client, engine)
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    voters = [member_headers(), member_headers()]
    for headers in voters:
        assert (await vote(client, headers, clip_id)).json()["outcome"] == "counted"
    assert await balance(client, owner) == (CLIP_RATE, 0)
    for _ in range(3):
        assert (await flag(client, member_headers(), clip_id)).status_code == 201

    released = await container.release_earnings()()
    assert released.released == 0  # held back while the clip is hidden
    assert await balance(client, owner) == (CLIP_RATE, 0)

    _, moderator = await member(client, engine, "moderator")
    removed = await decide(client, moderator, clip_id, "remove", "offensive", note="slurs")
    assert removed.status_code == 201, removed.text
    assert removed.json()["summary"]["earningsReversed"] == 3
    for headers in (owner, *voters):
        assert await balance(client, headers) == (0, 0)
    assert await ledger_totals(engine) == {"NGN": 0}
    assert await scalar(engine, "SELECT count(*) FROM open_earnings") == 0
    assert await scalar(
        engine, "SELECT count(*) FROM flags WHERE status = 'upheld'"
    ) == 3  # fmt: skip
    told = await scalar(
        engine,
        "SELECT payload->>'reason' FROM outbox WHERE name = 'moderation.decided' "
        "AND payload->>'action' = 'remove'",
    )
    assert told == "offensive"
    assert (await client.get(f"/clips/{clip_id}", headers=owner)).status_code == 404

    _, admin = await member(client, engine, "admin")
    restored = await decide(client, admin, clip_id, "restore", "mistake")
    assert restored.status_code == 201
    assert (await client.get(f"/clips/{clip_id}", headers=owner)).json()["visibility"] == "visible"
    assert await balance(client, owner) == (0, 0)  # a reversal is not undone


async def test_members_cannot_see_the_queue_decide_or_read_the_audit_log(client, engine):
    owner_id, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    someone = member_headers()
    assert_problem(await client.get("/moderation/queue", headers=someone), 403, "role_required")
    assert_problem(await decide(client, someone, clip_id, "hide"), 403, "role_required")
    assert_problem(await client.get("/moderation/audit", headers=someone), 403)
    _, moderator = await member(client, engine, "moderator")
    assert_problem(await client.get("/moderation/audit", headers=moderator), 403)
    admin_id, admin = await member(client, engine, "admin")
    banned_admin = await decide(client, moderator, str(admin_id), "ban_user", "spam",
                                target_type="profile")  # fmt: skip
    assert_problem(banned_admin, 403, "target_is_admin")
    assert await scalar(engine, "SELECT status FROM profiles WHERE id = :id", id=admin_id) == (
        "active"
    )
    hidden = await decide(client, moderator, clip_id, "hide", "spam")
    assert hidden.status_code == 201
    log = await client.get(f"/moderation/audit?targetType=clip&targetId={clip_id}",
                           headers=admin)  # fmt: skip
    assert log.status_code == 200, log.text
    (entry,) = log.json()["items"]
    assert (entry["action"], entry["actorKind"], entry["ownerId"]) == (
        "hide", "moderator", str(owner_id)
    )  # fmt: skip
    assert_problem(
        await client.get("/moderation/audit?targetType=clip", headers=admin), 422, "invalid_target"
    )


async def test_the_audit_log_is_append_only(client, engine):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    _, moderator = await member(client, engine, "moderator")
    assert (await decide(client, moderator, clip_id, "hide", "spam")).status_code == 201
    for statement in ("UPDATE moderation_decisions SET reason = 'other'",
                      "DELETE FROM moderation_decisions"):  # fmt: skip
        with pytest.raises(Exception, match="never updated or deleted"):
            await execute(engine, statement)
    assert await scalar(engine, "SELECT reason FROM moderation_decisions") == "spam"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"targetType": "song", "reason": "offensive"}, 422, None),
        ({"targetType": "clip", "reason": "harassment"}, 422, "invalid_reason"),
        ({"targetType": "clip", "reason": "other", "note": "x" * 501}, 422, "invalid_note"),
        ({"targetType": "clip", "reason": "other", "alsoVote": "valid"}, 422, None),
        ({"targetType": "clip", "reason": "other", "extra": 1}, 422, None),
        ({"targetType": "live_message", "reason": "other", "alsoVote": "invalid"}, 422,
         "invalid_also_vote"),
    ],
)  # fmt: skip
async def test_bad_flags_are_refused_and_nothing_is_written(client, engine, body, status, code):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    response = await client.post(
        "/moderation/flags", json={"targetId": clip_id, **body}, headers=member_headers()
    )
    assert_problem(response, status, code)
    assert await scalar(engine, "SELECT count(*) FROM flags") == 0


async def test_no_and_report_votes_and_flags_in_one_request(client, engine):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    reporter = member_headers()
    await serve(client, reporter)
    response = await flag(client, reporter, clip_id, "does_not_match_prompt", alsoVote="invalid")
    assert response.status_code == 201, response.text
    assert response.json()["vote"]["outcome"] == "counted"
    assert await scalar(engine, "SELECT invalid_votes FROM voice_clips") == 1
    again = await flag(client, reporter, clip_id, "other", alsoVote="invalid")
    assert_problem(again, 409, "already_flagged")
    assert await scalar(engine, "SELECT count(*) FROM validations") == 1
    assert_problem(await flag(client, owner, clip_id), 403, "own_content")


async def test_contributors_learn_why_a_clip_was_rejected_or_removed(client, engine):
    _, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    for _ in range(2):
        await vote(client, member_headers(), clip_id, "invalid")
    await flag(client, member_headers(), clip_id, "wrong_language")
    mine = (await client.get("/clips/mine", headers=owner)).json()["items"]
    assert mine[0]["status"] == "rejected"
    assert mine[0]["feedback"] == {
        "validVotes": 0,
        "invalidVotes": 2,
        "flagReasons": {"wrong_language": 1},
        "action": None,
        "reason": None,
        "decidedAt": None,
    }
    _, moderator = await member(client, engine, "moderator")
    await decide(client, moderator, clip_id, "hide", "wrong_language")
    one = (await client.get(f"/clips/{clip_id}", headers=owner)).json()
    assert (one["feedback"]["action"], one["feedback"]["reason"]) == ("hide", "wrong_language")
    fine = await clip_by(client, owner)
    assert (await client.get(f"/clips/{fine}", headers=owner)).json()["feedback"] is None
    assert (await client.get(f"/clips/{fine}", headers=member_headers())).json()["feedback"] is None


async def live_stream(engine, host_id: uuid.UUID) -> str:
    stream_id = uuid.uuid4()
    await execute(
        engine,
        "INSERT INTO live_streams (id, host_id, title, language, room_name, status, started_at, "
        "viewer_sessions, peak_viewers) VALUES (:id, :host, 'Evening', 'ar', :room, 'live', "
        "now(), '{}', 0)",
        id=stream_id,
        host=host_id,
        room=f"live-{stream_id}",
    )
    return str(stream_id)


@pytest.mark.parametrize(
    ("body", "category"),
    [
        ("انت شرموطة", "blocked_word"),
        ("call me +234 803 123 4567", "phone_number"),
        ("ada@example.com", "email"),
    ],
)
async def test_chat_messages_are_screened_on_write(client, engine, body, category):
    host_id, _ = await member(client, engine)
    stream_id = await live_stream(engine, host_id)
    response = await client.post(
        f"/live/{stream_id}/messages", json={"body": body}, headers=member_headers()
    )
    assert_problem(response, 422, "content_blocked")
    assert response.json()["extra"]["category"] == category
    assert await scalar(engine, "SELECT count(*) FROM live_messages") == 0
    fine = await client.post(
        f"/live/{stream_id}/messages", json={"body": "مرحبا"}, headers=member_headers()
    )
    assert fine.status_code == 201, fine.text


async def test_prompts_and_display_names_are_screened_on_write(client, engine):
    headers = member_headers()
    prompt = await upload(client, headers, language="hi", prompt="तुम चूतिया हो",
                          audio=distinct_audio())  # fmt: skip
    assert_problem(prompt, 422, "content_blocked")
    assert prompt.json()["extra"]["category"] == "blocked_word"
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 0
    name = await client.patch("/me", json={"displayName": "call 08031234567"}, headers=headers)
    assert_problem(name, 422, "content_blocked")
    assert (await client.patch("/me", json={"displayName": "Ada"}, headers=headers)).json()[
        "displayName"
    ] == "Ada"


async def test_repeated_audio_from_two_members_is_flagged_for_review(client, engine):
    audio = distinct_audio()
    _, first = await member(client, engine)
    _, second = await member(client, engine)
    original = await upload(client, first, audio=audio)
    copy = await upload(client, second, audio=audio)
    assert (original.status_code, copy.status_code) == (201, 201)
    _, moderator = await member(client, engine, "moderator")
    (item,) = await queue(client, moderator)
    assert (item["targetId"], item["reasons"]) == (copy.json()["id"], {"repeated_audio": 1})
    assert item["visibility"] == "visible"  # flagged for review, not hidden
    assert original.json()["id"] in item["notes"][0]
    kinds = await scalar(engine, "SELECT string_agg(kind, ',') FROM fraud_signals")
    assert kinds == "repeated_audio"
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'fraud.signal'") == 1
