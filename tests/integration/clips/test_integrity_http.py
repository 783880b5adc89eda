"""The two attacks found on consensus v1, replayed over HTTP against real PostgreSQL.

(a) Accuracy farming: fresh accounts cast late ``valid`` votes on clips already accepted
    (ids seen earlier in their queues) to look accurate, then accept a junk clip together.
(b) Gold recognition: a throwaway account tells gold clips apart by the vote's reply or by
    watching its own standing move after one answer.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.clips.helpers import cast, execute, new_clip, scalar, serve, upload, vote
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers

JUNK_RATE = 5_000


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, blob_dir=tmp_path / "blobs")


async def make_admin(client, engine) -> dict[str, str]:
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=subject)
    return member_headers(subject)


async def make_established(client, engine) -> dict[str, str]:
    """A validator with a track record of right gold answers."""
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(
        engine,
        "INSERT INTO validator_stats (validator_id, gold_right, n11, n00, updated_at) "
        "VALUES (:id, 6, 3, 3, now())",
        id=subject,
    )
    return member_headers(subject)


async def mark_gold(client, admin, verdict: str) -> str:
    clip_id, _ = await new_clip(client)
    response = await client.put(
        f"/admin/clips/{clip_id}/gold", json={"verdict": verdict, "decide": True}, headers=admin
    )
    assert response.status_code == 200, response.text
    return clip_id


async def member_id(client, headers) -> str:
    return (await client.get("/me", headers=headers)).json()["id"]


async def test_late_vote_farming_no_longer_raises_accuracy_nor_accepts_junk(client, engine):
    admin = await make_admin(client, engine)
    rate = await client.post(
        "/monetization/rates",
        json={"kind": "clip_accepted", "amountMinor": JUNK_RATE, "currency": "NGN"},
        headers=admin,
    )
    assert rate.status_code == 201, rate.text
    await mark_gold(client, admin, "valid")  # the language has gold, as a live one does
    farmers = [member_headers(), member_headers()]
    farmed = [(await new_clip(client))[0] for _ in range(12)]
    for farmer in farmers:  # the farmers see the ids in their queues …
        assert set(farmed) <= set(await serve(client, farmer))
    for clip_id in farmed:  # … honest, established validators accept the clips …
        for _ in range(2):
            assert (await vote(client, await make_established(client, engine), clip_id)).json()[
                "clipStatus"
            ] in {"pending", "accepted"}
    assert (
        await scalar(
            engine, "SELECT count(*) FROM voice_clips WHERE status = 'accepted' AND NOT is_gold"
        )
        == 12
    )
    for farmer in farmers:  # … and the farmers vote "valid" on all of them, late
        for clip_id in farmed:
            assert (await cast(client, farmer, clip_id)).json()["outcome"] == "late"
        standing = await client.get(
            f"/admin/validators/{await member_id(client, farmer)}/standing", headers=admin
        )
        body = standing.json()
        assert (body["n11"], body["n01"], body["n00"], body["n10"]) == (0, 0, 0, 0)
        assert body["established"] is False

    accomplice = member_headers()
    junk = (await upload(client, accomplice)).json()["id"]
    impatient = member_headers()  # knows the id, votes without being served it
    assert (await cast(client, impatient, junk)).json()["outcome"] == "unsolicited"
    assert_problem(await vote(client, impatient, junk), 409, "already_voted")
    for farmer in farmers:
        assert junk in await serve(client, farmer)
        reply = await cast(client, farmer, junk)
        assert reply.json()["outcome"] == "counted"
        assert reply.json()["clipStatus"] == "pending"  # newcomers alone cannot decide
    status = await scalar(engine, "SELECT status FROM voice_clips WHERE id = :id", id=junk)
    assert status == "pending"
    earned = await client.get("/monetization/balance", headers=accomplice)
    assert earned.json()["pendingMinor"] == 0


async def test_gold_clips_answer_like_any_clip_and_standing_shows_no_single_answer(
    make_app, settings, engine
):
    app = make_app(replace(settings, gold_rate=0.5, newcomer_gold_rate=0.5))
    async with AsyncTestClient(app=app) as client:
        admin = await make_admin(client, engine)
        gold = await mark_gold(client, admin, "invalid")
        regular, _ = await new_clip(client)
        spy = member_headers()
        page = await serve(client, spy)
        assert set(page) == {gold, regular}
        before = (await client.get("/me/standing", headers=spy)).json()
        on_gold = (await cast(client, spy, gold, "valid")).json()  # a wrong gold answer
        on_regular = (await cast(client, spy, regular, "valid")).json()
        assert on_gold == {**on_regular, "clipId": gold}
        assert on_gold == {
            "clipId": gold,
            "outcome": "counted",
            "late": False,
            "decided": False,
            "clipStatus": "pending",
        }
        after = (await client.get("/me/standing", headers=spy)).json()
        assert after == before == {"accuracy": None, "onProbation": False, "asOf": None}
        me = await member_id(client, spy)
        assert_problem(await client.get(f"/admin/validators/{me}/standing", headers=spy), 403)
        live = await client.get(f"/admin/validators/{me}/standing", headers=admin)
        assert live.json()["goldWrong"] == 1  # the admin sees it at once


async def test_a_gold_clip_settles_and_leaves_queues_like_a_decided_clip(
    make_app, settings, engine
):
    app = make_app(replace(settings, gold_rate=0.5, newcomer_gold_rate=0.5))
    async with AsyncTestClient(app=app) as client:
        admin = await make_admin(client, engine)
        gold = await mark_gold(client, admin, "valid")
        waiting = await make_established(client, engine)
        assert gold in await serve(client, waiting)
        first, second = (
            await make_established(client, engine),
            await make_established(client, engine),
        )
        assert (await vote(client, first, gold)).json()["decided"] is False
        settling = (await vote(client, second, gold)).json()
        assert (settling["decided"], settling["clipStatus"]) == (True, "accepted")
        assert gold not in await serve(client, waiting)  # as a decided clip leaves queues
        late = (await cast(client, waiting, gold)).json()
        assert (late["outcome"], late["clipStatus"]) == ("late", "accepted")
        assert gold in await serve(client, member_headers())  # still gold for others
        row = await scalar(
            engine,
            "SELECT status || ':' || is_gold || ':' || shadow_status FROM voice_clips "
            "WHERE id = :id",
            id=gold,
        )
        assert row == "accepted:true:accepted"
