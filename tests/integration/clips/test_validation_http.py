"""SPEC §5 over HTTP on real PostgreSQL: votes, late votes, concurrency, the queue, gold.
The integrity attacks (accuracy farming, gold recognition) are in test_integrity_http.py."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.clips.helpers import (
    cast,
    execute,
    new_clip,
    scalar,
    serve,
    upload,
    vote,
)
from tests.integration.http.test_auth import assert_problem
from tests.integration.money.test_money_http import add_rates
from tests.tokens import bearer, member_headers, service_token


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, blob_dir=tmp_path / "blobs")


@pytest.fixture
async def majority(make_app, settings):
    """Common Voice's rule: two agreeing votes decide, which keeps these tests short."""
    async with AsyncTestClient(app=make_app(replace(settings, consensus_policy="majority"))) as c:
        yield c


async def test_a_vote_is_counted(client, engine):
    clip_id, _ = await new_clip(client)
    response = await vote(client, member_headers(), clip_id)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "clipId": clip_id,
        "outcome": "counted",
        "late": False,
        "decided": False,
        "clipStatus": "pending",
    }
    assert await scalar(engine, "SELECT valid_votes FROM voice_clips") == 1


async def test_two_average_validators_decide_under_dawid_skene(client):
    clip_id, owner = await new_clip(client)
    statuses = [(await vote(client, member_headers(), clip_id)).json() for _ in range(2)]
    assert [s["decided"] for s in statuses] == [False, True]
    assert statuses[-1]["clipStatus"] == "accepted"
    assert (await client.get(f"/clips/{clip_id}", headers=owner)).json()["status"] == "accepted"


async def test_a_vote_on_a_clip_never_served_is_unsolicited_and_changes_nothing(client, engine):
    clip_id, _ = await new_clip(client)
    response = await cast(client, member_headers(), clip_id)
    assert response.json() == {
        "clipId": clip_id,
        "outcome": "unsolicited",
        "late": False,
        "decided": False,
        "clipStatus": None,
    }
    assert await scalar(engine, "SELECT valid_votes FROM voice_clips") == 0
    assert await scalar(engine, "SELECT outcome FROM validations") == "unsolicited"


async def test_a_vote_sooner_than_the_clip_lasts_is_too_fast(make_app, settings, engine):
    app = make_app(replace(settings, min_listen_fraction=0.8))
    async with AsyncTestClient(app=app) as client:
        clip_id, _ = await new_clip(client)  # a 2 s clip
        validator = member_headers()
        assert await serve(client, validator) == [clip_id]
        rushed = await cast(client, validator, clip_id)
        assert rushed.json()["outcome"] == "too_fast"
        assert rushed.json()["clipStatus"] == "pending"
        assert await scalar(engine, "SELECT valid_votes FROM voice_clips") == 0
        assert await scalar(engine, "SELECT rushed_votes FROM validator_stats") == 1
        patient = member_headers()
        await serve(client, patient)
        await asyncio.sleep(1.7)
        assert (await cast(client, patient, clip_id)).json()["outcome"] == "counted"


async def test_own_clip_second_vote_unknown_and_hidden(client, engine):
    clip_id, owner = await new_clip(client)
    assert_problem(await vote(client, owner, clip_id), 403, "own_clip")
    validator = member_headers()
    assert (await vote(client, validator, clip_id)).status_code == 200
    assert_problem(await vote(client, validator, clip_id, "invalid"), 409, "already_voted")
    assert_problem(await vote(client, validator, str(uuid.uuid4())), 404, "clip_not_found")
    await execute(engine, "UPDATE voice_clips SET visibility = 'hidden' WHERE id = :id", id=clip_id)
    assert_problem(await vote(client, member_headers(), clip_id), 404, "clip_not_found")
    assert await scalar(engine, "SELECT count(*) FROM validations") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"clipId": "not-a-uuid", "verdict": "valid"},
        {"clipId": str(uuid.uuid4()), "verdict": "maybe"},
        {"clipId": str(uuid.uuid4())},
        {"verdict": "valid"},
    ],
)
async def test_malformed_votes_are_400(client, engine, body):
    response = await client.post("/monetization/validate", json=body, headers=member_headers())
    assert_problem(response, 422)
    assert await scalar(engine, "SELECT count(*) FROM validations") == 0


async def test_a_vote_after_the_decision_is_late_and_changes_nothing(majority, engine):
    clip_id, _ = await new_clip(majority)
    latecomer = member_headers()
    assert await serve(majority, latecomer) == [clip_id]
    for _ in range(2):
        await vote(majority, member_headers(), clip_id)
    late = await cast(majority, latecomer, clip_id, "invalid")
    assert late.json()["outcome"] == "late"
    assert late.json()["late"] is True
    assert late.json()["clipStatus"] == "accepted"
    row = await scalar(
        engine, "SELECT status || ':' || valid_votes || ':' || invalid_votes FROM voice_clips"
    )
    assert row == "accepted:2:0"
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'clip.decided'") == 1
    taught = "SELECT count(*) FROM validator_stats WHERE n11 + n01 + n00 + n10 > 0"
    assert await scalar(engine, taught) == 2  # the two deciders, not the latecomer


async def test_two_validators_at_the_same_instant_decide_exactly_once(majority, engine):
    for _ in range(10):
        clip_id, _ = await new_clip(majority)
        responses = await asyncio.gather(
            *(vote(majority, member_headers(), clip_id) for _ in range(2))
        )
        assert [r.status_code for r in responses] == [200, 200]
        assert sorted(r.json()["decided"] for r in responses) == [False, True]
    assert await scalar(engine, "SELECT count(*) FROM validations") == 20
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'clip.decided'") == 10
    assert await scalar(engine, "SELECT count(*) FROM voice_clips WHERE valid_votes = 2") == 10


async def test_fifty_concurrent_votes_by_one_validator_record_one(client, engine):
    clip_id, _ = await new_clip(client)
    validator = member_headers()
    responses = await asyncio.gather(*(vote(client, validator, clip_id) for _ in range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49
    assert await scalar(engine, "SELECT count(*) FROM validations") == 1
    assert await scalar(engine, "SELECT valid_votes FROM voice_clips") == 1


async def test_skip_is_recorded_once_and_is_not_a_vote(client, engine):
    clip_id, owner = await new_clip(client)
    validator = member_headers()
    for _ in range(2):
        skip = await client.post("/monetization/skip", json={"clipId": clip_id}, headers=validator)
        assert skip.status_code == 204
    assert await scalar(engine, "SELECT count(*) FROM clip_skips") == 1
    assert await scalar(engine, "SELECT count(*) FROM validations") == 0
    own = await client.post("/monetization/skip", json={"clipId": clip_id}, headers=owner)
    assert_problem(own, 403, "own_clip")


queue_ids = serve


async def test_the_queue_never_returns_own_voted_skipped_hidden_or_decided_clips(majority, engine):
    me = member_headers()
    own = (await upload(majority, me)).json()["id"]
    voted, _ = await new_clip(majority)
    skipped, _ = await new_clip(majority)
    hidden, _ = await new_clip(majority)
    decided, _ = await new_clip(majority)
    other_language, _ = await new_clip(majority, language="ha")
    fresh, _ = await new_clip(majority)
    await vote(majority, me, voted)
    await majority.post("/monetization/skip", json={"clipId": skipped}, headers=me)
    await execute(engine, "UPDATE voice_clips SET visibility = 'hidden' WHERE id = :id", id=hidden)
    for _ in range(2):
        await vote(majority, member_headers(), decided)
    ids = await queue_ids(majority, me)
    assert ids == [fresh]
    assert {own, voted, skipped, hidden, decided, other_language}.isdisjoint(ids)
    assert await queue_ids(majority, me, language="ha") == [other_language]


async def test_the_queue_puts_clips_closest_to_a_decision_first_then_oldest(majority):
    oldest, _ = await new_clip(majority)
    middle, _ = await new_clip(majority)
    newest, _ = await new_clip(majority)
    await vote(majority, member_headers(), newest)  # one more vote decides it
    assert await queue_ids(majority, member_headers()) == [newest, oldest, middle]


async def test_queue_parameters_are_checked(client):
    headers = member_headers()
    for query in ("language=english", "language=yo&limit=0", "language=yo&limit=51", ""):
        response = await client.get(f"/monetization/queue?{query}", headers=headers)
        assert 400 <= response.status_code < 500, query


async def make_admin(client, engine) -> dict[str, str]:
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=subject)
    return member_headers(subject)


async def test_gold_clips_are_mixed_in_and_score_the_validator(make_app, settings, engine):
    app = make_app(
        replace(settings, consensus_policy="majority", gold_rate=0.5, newcomer_gold_rate=0.5)
    )
    async with AsyncTestClient(app=app) as client:
        admin = await make_admin(client, engine)
        gold_ids = []
        for _ in range(3):
            clip_id, _ = await new_clip(client)
            marked = await client.put(
                f"/admin/clips/{clip_id}/gold",
                json={"verdict": "invalid", "decide": True},
                headers=admin,
            )
            assert marked.status_code == 200, marked.text
            gold_ids.append(clip_id)
        regular = [(await new_clip(client))[0] for _ in range(6)]
        validator = member_headers()
        page = await queue_ids(client, validator, limit=6)
        assert len(page) == 6
        assert len(set(page) & set(gold_ids)) == 3
        assert set(page) - set(gold_ids) <= set(regular)
        answer = await cast(client, validator, gold_ids[0], "invalid")
        assert answer.json()["outcome"] == "counted"
        assert answer.json()["clipStatus"] == "pending"
        await cast(client, validator, gold_ids[1], "valid")
        me = (await client.get("/me", headers=validator)).json()["id"]
        standing = await client.get(f"/admin/validators/{me}/standing", headers=admin)
        assert standing.json()["goldRight"] == 1
        assert standing.json()["goldWrong"] == 1
        statuses = await scalar(
            engine, "SELECT string_agg(DISTINCT status, ',') FROM voice_clips WHERE is_gold"
        )
        assert statuses == "rejected"


async def test_gold_admin_endpoints_are_admin_only(client, engine):
    clip_id, _ = await new_clip(client)
    member = await client.put(
        f"/admin/clips/{clip_id}/gold", json={"verdict": "valid"}, headers=member_headers()
    )
    assert_problem(member, 403, "role_required")
    service = await client.put(
        f"/admin/clips/{clip_id}/gold",
        json={"verdict": "valid", "decide": True},
        headers=bearer(service_token()),
    )
    assert service.status_code == 200
    admin = await make_admin(client, engine)
    mismatch = await client.put(
        f"/admin/clips/{clip_id}/gold", json={"verdict": "invalid"}, headers=admin
    )
    assert_problem(mismatch, 409, "verdict_mismatch")
    unmark = await client.delete(f"/admin/clips/{clip_id}/gold", headers=admin)
    assert unmark.status_code == 200
    assert await scalar(engine, "SELECT is_gold FROM voice_clips") is False
    other = (await client.get("/me", headers=member_headers())).json()["id"]
    peek = await client.get(f"/admin/validators/{other}/standing", headers=member_headers())
    assert_problem(peek, 403)


async def test_gold_never_decides_a_pending_clip_by_accident(client, engine):
    """Issue 16 §7: marking a pending clip gold used to accept it with no votes and pay its
    contributor. Now it is 409 ``clip_not_decided`` and nothing changes, unless the admin
    says ``decide``: then the verdict decides the clip, paid as a decision."""
    await add_rates(client, engine)
    admin = await make_admin(client, engine)
    clip_id, contributor = await new_clip(client)
    refused = await client.put(
        f"/admin/clips/{clip_id}/gold", json={"verdict": "valid"}, headers=admin
    )
    assert_problem(refused, 409, "clip_not_decided")
    assert refused.json()["extra"] == {"clip_status": "pending"}
    assert await scalar(engine, "SELECT is_gold FROM voice_clips") is False
    assert await scalar(engine, "SELECT count(*) FROM transactions") == 0
    mine = (await client.get(f"/clips/{clip_id}", headers=contributor)).json()
    assert (mine["status"], mine["decidedAt"]) == ("pending", None)

    decided = await client.put(
        f"/admin/clips/{clip_id}/gold", json={"verdict": "valid", "decide": True}, headers=admin
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "accepted"
    assert decided.json()["decidedAt"] is not None
    assert await scalar(engine, "SELECT count(*) FROM transactions") == 1  # the contributor
    again = await client.put(  # decided now: no flag needed, nothing paid twice
        f"/admin/clips/{clip_id}/gold", json={"verdict": "valid"}, headers=admin
    )
    assert again.status_code == 200, again.text
    assert await scalar(engine, "SELECT count(*) FROM transactions") == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [({"clipId": "nope"}, 422), ({}, 422), ({"clipId": str(uuid.uuid4())}, 404)],
)
async def test_bad_skips_are_refused_and_nothing_is_recorded(client, engine, body, status):
    response = await client.post("/monetization/skip", json=body, headers=member_headers())
    assert_problem(response, status)
    assert await scalar(engine, "SELECT count(*) FROM clip_skips") == 0
