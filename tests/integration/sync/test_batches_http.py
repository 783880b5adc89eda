"""Offline batches on real PostgreSQL: reservations keep vote slots, a vote within its
reservation is paid when it agrees even after others decided the clip, no clip ever pays
more validators than its cap, and the books balance."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from tests.integration.clips.helpers import AUDIO, cast, execute, scalar, serve, upload
from tests.integration.http.test_auth import assert_problem
from tests.integration.money.helpers import ledger_totals
from tests.integration.money.test_money_http import AGREED_RATE, add_rates, balance
from tests.integration.sync.helpers import clips_of_new_members, push, reserve, vote_op
from tests.tokens import member_headers

pytestmark = pytest.mark.integration


async def agreed_earnings_per_clip(engine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT clip_id::text, count(*) FROM transactions "
                "WHERE reward_kind = 'validation_agreed' GROUP BY clip_id"
            )
        )
        return {clip: int(n) for clip, n in rows}


async def decide_online(client, clip_id: str, verdict: str) -> None:
    """Two online validators agree: the clip is decided (majority)."""
    for _ in range(2):
        validator = member_headers()
        assert clip_id in await serve(client, validator)
        response = await cast(client, validator, clip_id, verdict)
        assert response.json()["outcome"] == "counted", response.text


async def test_an_offline_batch_validated_after_others_decided_its_clips_is_paid(
    client, engine, settings
):
    await add_rates(client, engine)
    clip_ids = [str(c) for c in await clips_of_new_members(engine, 6)]
    offline = member_headers()
    batch = await reserve(client, offline, size=10)
    assert sorted(item["id"] for item in batch["items"]) == sorted(clip_ids)
    assert all(item["audioUrl"] == f"/clips/{item['id']}/audio" for item in batch["items"])

    truths = {clip: ("valid" if n % 2 == 0 else "invalid") for n, clip in enumerate(clip_ids)}
    for clip, truth in truths.items():
        await decide_online(client, clip, truth)

    # The phone syncs after every clip was decided: agrees on four, disagrees on two.
    mine = {
        clip: truth if n < 4 else ("invalid" if truth == "valid" else "valid")
        for n, (clip, truth) in enumerate(truths.items())
    }
    results = await push(client, offline, [vote_op(c, v) for c, v in mine.items()])
    assert [r["status"] for r in results] == ["applied"] * 6
    outcomes = [r["result"]["outcome"] for r in results]
    assert outcomes == ["late_reserved"] * 6
    assert all(r["result"]["late"] for r in results)
    assert [r["result"]["clipStatus"] for r in results] == [
        "accepted" if truths[c] == "valid" else "rejected" for c in mine
    ]

    mine_balance = await balance(client, offline)
    assert mine_balance["pendingMinor"] == 4 * AGREED_RATE
    per_clip = await agreed_earnings_per_clip(engine)
    assert all(n <= settings.vote_cap for n in per_clip.values())
    assert sum(per_clip.values()) == 6 * 2 + 4
    assert set((await ledger_totals(engine)).values()) == {0}
    # Late votes teach nothing, however they were reserved.
    assert await scalar(engine, "SELECT count(*) FROM validator_stats WHERE n11 + n00 > 0 "
                        "AND validator_id NOT IN (SELECT validator_id FROM validations "
                        "WHERE outcome = 'counted')") == 0  # fmt: skip


async def test_reservations_hold_slots_and_the_cap_bounds_who_is_paid(
    clocked_app, engine, settings
):
    """Cap 3: two offline validators reserve the clip, one slot is left online. A validator
    served before the reservations is crowded out; the offline votes count or, after the
    decision, are paid late — three paid validators, never four."""
    async with AsyncTestClient(app=clocked_app(vote_cap=3)) as client:
        await add_rates(client, engine)
        (clip,) = [str(c) for c in await clips_of_new_members(engine, 1)]
        early = member_headers()
        assert await serve(client, early) == [clip]
        first, second = member_headers(), member_headers()
        assert [i["id"] for i in (await reserve(client, first))["items"]] == [clip]
        assert [i["id"] for i in (await reserve(client, second))["items"]] == [clip]

        online = member_headers()
        assert await serve(client, online) == [clip]  # one slot is still free online
        assert (await cast(client, online, clip)).json()["outcome"] == "counted"
        assert await serve(client, member_headers()) == []  # now every slot is taken
        assert (await reserve(client, member_headers()))["items"] == []
        crowded = (await cast(client, early, clip)).json()
        assert crowded == {
            "clipId": clip,
            "outcome": "crowded_out",
            "late": False,
            "decided": False,
            "clipStatus": "pending",
        }

        (counted,) = await push(client, first, [vote_op(clip)])
        assert counted["result"]["outcome"] == "counted"
        assert counted["result"]["decided"] is True
        (late,) = await push(client, second, [vote_op(clip)])
        assert late["result"]["outcome"] == "late_reserved"

        assert (await agreed_earnings_per_clip(engine)) == {clip: 3}
        for paid in (online, first, second):
            assert (await balance(client, paid))["pendingMinor"] == AGREED_RATE
        assert (await balance(client, early))["pendingMinor"] == 0
        assert set((await ledger_totals(engine)).values()) == {0}


async def test_a_vote_after_its_reservation_expired_is_late_and_unpaid(client, engine, clock):
    await add_rates(client, engine)
    (clip,) = [str(c) for c in await clips_of_new_members(engine, 1)]
    offline = member_headers()
    batch = await reserve(client, offline)
    assert batch["items"][0]["id"] == clip
    await decide_online(client, clip, "valid")
    clock.advance(hours=24, seconds=1)
    (result,) = await push(client, offline, [vote_op(clip)])
    assert result["result"]["outcome"] == "late"
    assert (await balance(client, offline))["pendingMinor"] == 0


async def test_an_expired_reservation_frees_its_slot(clocked_app, engine, clock):
    async with AsyncTestClient(app=clocked_app(vote_cap=2)) as client:
        (clip,) = [str(c) for c in await clips_of_new_members(engine, 1)]
        for _ in range(2):
            assert len((await reserve(client, member_headers()))["items"]) == 1
        assert await serve(client, member_headers()) == []
        clock.advance(hours=25)
        assert await serve(client, member_headers()) == [clip]


async def test_batch_votes_draw_on_one_listening_clock(clocked_app, engine, clock):
    """A batch is served when it is handed out; its clips are heard one after the other
    (0.8 × 2 s each). Pushing every vote at once is too fast past what fits; a phone that
    listened offline and syncs later is never too fast."""
    async with AsyncTestClient(app=clocked_app(min_listen_fraction=0.8)) as client:
        clips = [str(c) for c in await clips_of_new_members(engine, 6)]
        rusher, patient = member_headers(), member_headers()
        for headers in (rusher, patient):
            assert len((await reserve(client, headers))["items"]) == 6
        clock.advance(seconds=3.3)  # enough for two clips (2 × 1.6 s), not three
        results = await push(client, rusher, [vote_op(c) for c in clips])
        assert [r["result"]["outcome"] for r in results[:2]] == ["counted", "counted"]
        assert {r["result"]["outcome"] for r in results[2:]} == {"too_fast"}
        assert (
            await scalar(
                engine,
                "SELECT rushed_votes FROM validator_stats s JOIN validations v "
                "ON v.validator_id = s.validator_id WHERE v.outcome = 'too_fast' LIMIT 1",
            )
            == 4
        )
        clock.advance(hours=3)  # listened offline on the bus; syncs at home
        results = await push(client, patient, [vote_op(c) for c in clips])
        assert {r["result"]["outcome"] for r in results} <= {"counted", "late_reserved"}


async def test_the_online_queue_leaves_out_the_callers_reserved_clips(client, engine):
    clips = {str(c) for c in await clips_of_new_members(engine, 3)}
    offline = member_headers()
    reserved = {i["id"] for i in (await reserve(client, offline, size=2))["items"]}
    assert len(reserved) == 2
    assert set(await serve(client, offline)) == clips - reserved
    again = await reserve(client, offline, size=5)
    assert {i["id"] for i in again["items"]} == clips - reserved


async def test_a_member_holds_a_limited_number_of_reserved_clips(clocked_app, engine, clock):
    async with AsyncTestClient(app=clocked_app(sync_max_reserved_clips=3)) as client:
        await clips_of_new_members(engine, 5)
        offline = member_headers()
        assert len((await reserve(client, offline, size=2))["items"]) == 2
        assert len((await reserve(client, offline, size=5))["items"]) == 1
        response = await client.post(
            "/sync/batches", json={"language": "yo", "size": 1}, headers=offline
        )
        assert_problem(response, 409, "too_many_reserved")
        clock.advance(hours=25)
        assert len((await reserve(client, offline, size=5))["items"]) == 3


async def test_a_batch_skips_clips_another_transaction_holds_without_waiting(
    client, engine, settings
):
    clips = [str(c) for c in await clips_of_new_members(engine, 2)]
    async with engine.connect() as holder:
        transaction = await holder.begin()
        await holder.execute(
            sa.text("SELECT 1 FROM voice_clips WHERE id = :id FOR UPDATE"), {"id": clips[0]}
        )
        batch = await asyncio.wait_for(reserve(client, member_headers()), timeout=10)
        await transaction.rollback()
    assert [i["id"] for i in batch["items"]] == [clips[1]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"language": "yo", "size": 0}, 422, "validation_failed"),
        ({"language": "yo", "size": 101}, 422, "validation_failed"),
        ({"language": "yo", "size": 5, "extra": 1}, 422, "validation_failed"),
        ({"language": "!!", "size": 5}, 422, "invalid_language"),
    ],
)
async def test_bad_batch_requests(client, body, status, code):
    response = await client.post("/sync/batches", json=body, headers=member_headers())
    assert_problem(response, status, code)


async def test_suspended_members_get_no_batch(client, engine):
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET status = 'suspended' WHERE id = :id", id=subject)
    response = await client.post(
        "/sync/batches", json={"language": "yo", "size": 5}, headers=member_headers(subject)
    )
    assert_problem(response, 403, "account_suspended")


async def test_batches_hand_out_uploaded_clips_with_their_audio(client):
    owner = member_headers()
    assert (await upload(client, owner)).status_code == 201
    offline = member_headers()
    batch = await reserve(client, offline)
    (item,) = batch["items"]
    audio = await client.get(item["audioUrl"], headers=offline)
    assert audio.status_code == 200
    assert audio.content == AUDIO


async def test_batches_and_online_votes_racing_never_pass_the_cap(clocked_app, engine):
    """Cap 3, majority: offline members reserve while online validators vote, all at once;
    then the phones sync. No clip ever holds more than its cap in counted votes and holding
    reservations, none pays more than three validators, the books balance."""
    async with AsyncTestClient(app=clocked_app(vote_cap=3)) as client:
        await add_rates(client, engine)
        clips = [str(c) for c in await clips_of_new_members(engine, 4)]
        online = [member_headers() for _ in range(4)]
        for headers in online:
            assert sorted(await serve(client, headers)) == sorted(clips)
        offline = [member_headers() for _ in range(4)]

        async def vote_all(headers, verdict):
            return [(await cast(client, headers, clip, verdict)).json() for clip in clips]

        results = await asyncio.gather(
            *(reserve(client, headers) for headers in offline),
            *(vote_all(h, v) for h, v in zip(online, ["valid", "invalid", "valid", "valid"],
                                                 strict=True)),
        )  # fmt: skip
        batches = results[: len(offline)]
        over = await scalar(
            engine,
            "SELECT count(*) FROM voice_clips c WHERE c.status = 'pending' AND "
            "c.valid_votes + c.invalid_votes + (SELECT count(*) FROM clip_reservations r "
            "WHERE r.clip_id = c.id AND r.used_at IS NULL) > 3",
        )
        assert over == 0
        for headers, batch in zip(offline, batches, strict=True):
            ops = [vote_op(item["id"]) for item in batch["items"]]
            if ops:
                outcomes = {r["result"]["outcome"] for r in await push(client, headers, ops)}
                assert outcomes <= {"counted", "late_reserved"}
        assert all(n <= 3 for n in (await agreed_earnings_per_clip(engine)).values())
        assert set((await ledger_totals(engine)).values()) <= {0}
