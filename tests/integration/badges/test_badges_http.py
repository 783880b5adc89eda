"""SPEC §7 over HTTP: the catalogue and its administration, manual awards, a member's
badges with progress, statistics, time zone, weekly goal and leaderboards."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from tests.integration.badges.support import (
    SERVICE,
    add_badge,
    count_outbox,
    make_admin,
    make_member,
    pending_events,
    worker_container,
)
from tests.integration.clips.helpers import execute, scalar, upload
from tests.integration.http.test_auth import assert_problem
from tests.integration.worker.support import add_events
from tests.tokens import member_headers


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, blob_dir=tmp_path / "blobs")


@pytest.fixture
async def worker(settings):
    async with worker_container(settings) as container:
        yield container


async def test_admins_manage_the_catalogue(client, engine):
    admin = await make_admin(client, engine)
    made = await add_badge(
        client, admin, "yoruba-5", metric="clips_accepted", threshold=5, language="YO"
    )
    assert made["criterion"] == {
        "metric": "clips_accepted",
        "threshold": 5,
        "language": "yo",
        "currency": None,
        "minSample": None,
    }
    sharp = await add_badge(
        client, admin, "sharp", metric="accuracy", threshold=0.95, minSample=200
    )
    assert sharp["criterion"]["threshold"] == 0.95
    path = f"/admin/badges/{made['id']}"
    assert (await client.get(path, headers=admin)).json()["code"] == "yoruba-5"

    changed = await client.patch(
        path,
        json={"name": "Five in Yorùbá", "criterion": {"metric": "clips_accepted", "threshold": 6}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Five in Yorùbá"
    assert changed.json()["criterion"]["threshold"] == 6

    retired = await client.delete(path, headers=admin)
    assert retired.status_code == 200, retired.text
    assert retired.json()["retiredAt"] is not None
    catalogue = (await client.get("/badges", headers=member_headers())).json()["items"]
    assert [item["code"] for item in catalogue] == ["sharp"]
    everything = (await client.get("/admin/badges", headers=admin)).json()["items"]
    assert {item["code"] for item in everything} == {"yoruba-5", "sharp"}
    back = await client.patch(path, json={"retired": False}, headers=admin)
    assert back.json()["retiredAt"] is None


@pytest.mark.parametrize(
    ("criterion", "code"),
    [
        ({"metric": "clips_recorded", "threshold": 5}, "unknown_metric"),
        ({"metric": "clips_accepted", "threshold": 0}, "invalid_threshold"),
        ({"metric": "clips_accepted", "threshold": 2.5}, "invalid_threshold"),
        ({"metric": "clips_accepted"}, "threshold_required"),
        ({"metric": "streak_days", "threshold": 7, "language": "yo"}, "language_not_allowed"),
        ({"metric": "lifetime_earnings", "threshold": 100}, "currency_required"),
        (
            {"metric": "lifetime_earnings", "threshold": 100, "currency": "EUR"},
            "unsupported_currency",
        ),
        ({"metric": "accuracy", "threshold": 0.95}, "min_sample_required"),
        ({"metric": "accuracy", "threshold": 1.5, "minSample": 10}, "invalid_threshold"),
        ({"metric": "validations", "threshold": 5, "minSample": 10}, "sample_not_allowed"),
    ],
)
async def test_bad_criteria_are_422_and_nothing_is_written(client, engine, criterion, code):
    admin = await make_admin(client, engine)
    body = {"code": "bad", "name": "Bad", "criterion": criterion}
    assert_problem(await client.post("/admin/badges", json=body, headers=admin), 422, code)
    assert await scalar(engine, "SELECT count(*) FROM badges") == 0


async def test_catalogue_administration_is_for_admins_and_codes_are_unique(client, engine):
    admin = await make_admin(client, engine)
    body = {
        "code": "first",
        "name": "First",
        "criterion": {"metric": "clips_submitted", "threshold": 1},
    }
    member = member_headers()
    assert_problem(
        await client.post("/admin/badges", json=body, headers=member), 403, "role_required"
    )
    assert_problem(await client.get("/admin/badges", headers=member), 403)
    assert (await client.post("/admin/badges", json=body, headers=SERVICE)).status_code == 201
    assert_problem(
        await client.post("/admin/badges", json=body, headers=admin), 409, "badge_code_taken"
    )
    assert_problem(
        await client.post("/admin/badges", json={**body, "code": "No Spaces"}, headers=admin),
        422,
        "invalid_badge_code",
    )
    unknown = f"/admin/badges/{uuid.uuid4()}"
    assert_problem(await client.get(unknown, headers=admin), 404, "badge_not_found")
    assert_problem(
        await client.patch(unknown, json={"name": "x"}, headers=admin), 404, "badge_not_found"
    )
    assert_problem(await client.delete(unknown, headers=admin), 404, "badge_not_found")
    assert_problem(await client.post("/admin/badges", json={**body, "nope": 1}, headers=admin), 422)


async def test_members_cannot_award_the_service_and_admins_can(client, engine, worker):
    admin = await make_admin(client, engine)
    hero = await add_badge(client, admin, "hero", metric="manual")
    ada, ada_headers = await make_member(client)
    award = {"profileId": str(ada), "badgeCode": "hero", "reason": "Ran the Lagos meetup"}

    refused = await client.post("/badges/award", json=award, headers=member_headers())
    assert_problem(refused, 403, "role_required")
    assert_problem(await client.post("/badges/award", json=award, headers=ada_headers), 403)
    assert await scalar(engine, "SELECT count(*) FROM user_badges") == 0

    given = await client.post("/badges/award", json=award, headers=SERVICE)
    assert given.status_code == 201, given.text
    body = given.json()
    assert (body["created"], body["source"], body["awardedBy"]) == (True, "manual", None)
    assert body["badge"]["id"] == hero["id"]
    again = await client.post(
        "/badges/award", json={**award, "badgeId": hero["id"], "reason": "twice"}, headers=admin
    )
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["id"]) == (False, body["id"])
    assert (
        await scalar(engine, "SELECT reason FROM user_badges WHERE profile_id = :id", id=ada)
        == "Ran the Lagos meetup"
    )

    unknown_badge = {**award, "badgeCode": "nope"}
    assert_problem(
        await client.post("/badges/award", json=unknown_badge, headers=SERVICE),
        404,
        "badge_not_found",
    )
    by_id = {"profileId": str(ada), "badgeId": str(uuid.uuid4()), "reason": "x"}
    assert_problem(
        await client.post("/badges/award", json=by_id, headers=SERVICE), 404, "badge_not_found"
    )
    nobody = {**award, "profileId": str(uuid.uuid4())}
    assert_problem(
        await client.post("/badges/award", json=nobody, headers=SERVICE), 404, "profile_not_found"
    )
    no_reason = {**award, "reason": "  "}
    assert_problem(
        await client.post("/badges/award", json=no_reason, headers=SERVICE), 422, "invalid_reason"
    )

    # The award tells the member: a feed entry (and a push, see the concurrency test).
    notify = worker.notify_member()
    for event in await pending_events(engine, "badge.awarded"):
        await notify(event)
    feed = (await client.get("/notifications", headers=ada_headers)).json()["items"]
    assert [(item["category"], item["data"]["badgeCode"]) for item in feed] == [("badge", "hero")]


async def test_a_members_badges_and_progress_show_no_private_data(client, engine, worker):
    admin = await make_admin(client, engine)
    await add_badge(client, admin, "first-clip", metric="clips_submitted", threshold=1)
    await add_badge(client, admin, "five-clips", metric="clips_submitted", threshold=5)
    await add_badge(client, admin, "paid", metric="payouts_paid", threshold=1)
    await add_badge(
        client, admin, "rich", metric="lifetime_earnings", threshold=100, currency="NGN"
    )
    await add_badge(client, admin, "hero", metric="manual")
    ada, ada_headers = await make_member(client, timeZone="Africa/Lagos")
    for _ in range(2):
        assert (await upload(client, ada_headers)).status_code == 201
    await count_outbox(worker, engine)

    seen_by_bob = await client.get(f"/badges/user/{ada}", headers=member_headers())
    assert seen_by_bob.status_code == 200, seen_by_bob.text
    view = seen_by_bob.json()
    assert [item["badge"]["code"] for item in view["earned"]] == ["first-clip"]
    assert view["earned"][0]["timesEarned"] == 1
    progress = {item["badge"]["code"]: item for item in view["progress"]}
    assert set(progress) == {"five-clips"}  # no earnings, payouts or manual badges
    assert (progress["five-clips"]["current"], progress["five-clips"]["fraction"]) == (2, 0.4)
    assert "timeZone" not in seen_by_bob.text
    assert "reason" not in seen_by_bob.text

    own = (await client.get(f"/badges/user/{ada}", headers=ada_headers)).json()
    assert {item["badge"]["code"] for item in own["progress"]} == {"five-clips", "paid", "rich"}
    assert_problem(
        await client.get(f"/badges/user/{uuid.uuid4()}", headers=ada_headers),
        404,
        "profile_not_found",
    )


async def test_stats_time_zone_and_weekly_goal(client, engine, worker):
    admin = await make_admin(client, engine)
    await add_badge(client, admin, "goal", metric="weekly_goal")
    ada, headers = await make_member(client)
    assert_problem(
        await client.patch("/me", json={"timeZone": "Mars/Olympus"}, headers=headers),
        422,
        "invalid_time_zone",
    )
    assert_problem(
        await client.patch("/me", json={"timeZone": "UTC+1"}, headers=headers),
        422,
        "invalid_time_zone",
    )
    patched = await client.patch(
        "/me", json={"timeZone": "Africa/Nairobi", "showOnLeaderboards": True}, headers=headers
    )
    assert (patched.json()["timeZone"], patched.json()["showOnLeaderboards"]) == (
        "Africa/Nairobi",
        True,
    )

    assert_problem(
        await client.put("/me/goals", json={"clips": 0}, headers=headers), 422, "invalid_goal"
    )
    assert_problem(
        await client.put("/me/goals", json={"clips": 10_001}, headers=headers), 422, "invalid_goal"
    )
    goal = await client.put("/me/goals", json={"clips": 2}, headers=headers)
    assert goal.status_code == 200, goal.text
    assert (goal.json()["clips"], goal.json()["validations"], goal.json()["met"]) == (
        2,
        None,
        False,
    )

    for _ in range(2):
        assert (await upload(client, headers, language="sw")).status_code == 201
    await count_outbox(worker, engine)
    stats = (await client.get("/me/stats", headers=headers)).json()
    assert stats["clipsSubmitted"] == 2
    assert stats["languages"] == [
        {"language": "sw", "clipsSubmitted": 2, "clipsAccepted": 0, "validations": 0}
    ]
    assert stats["streak"]["current"] == 1
    assert stats["streak"]["timeZone"] == "Africa/Nairobi"
    assert stats["accuracy"] == {"value": None, "sample": 0, "asOf": None}
    assert stats["weeklyGoal"]["met"] is True
    assert stats["weeklyGoal"]["clipsDone"] == 2
    earned = (await client.get(f"/badges/user/{ada}", headers=headers)).json()["earned"]
    assert [item["badge"]["code"] for item in earned] == ["goal"]

    cleared = await client.put(
        "/me/goals", json={"clips": None, "validations": None}, headers=headers
    )
    assert cleared.json()["clips"] is None


async def test_leaderboards_name_only_members_who_opted_in(client, engine, worker):
    _ada, ada_headers = await make_member(client, displayName="Ada", showOnLeaderboards=True)
    bob, bob_headers = await make_member(client, displayName="Bob")
    for headers, clips in ((ada_headers, 1), (bob_headers, 2)):
        for _ in range(clips):
            clip = (await upload(client, headers, language="ha")).json()["id"]
            await _accept(engine, clip)
    await count_outbox(worker, engine)
    board = await client.get("/leaderboards/ha?board=clips", headers=ada_headers)
    assert board.status_code == 200, board.text
    entries = board.json()["entries"]
    assert [(e["rank"], e["displayName"], e["count"], e["you"]) for e in entries] == [
        (1, None, 2, False),
        (2, "Ada", 1, True),
    ]
    assert str(bob) not in board.text
    assert_problem(
        await client.get("/leaderboards/ha?week=soon", headers=ada_headers), 422, "invalid_week"
    )
    assert_problem(
        await client.get("/leaderboards/english", headers=ada_headers), 422, "invalid_language"
    )
    assert_problem(await client.get("/leaderboards/ha?board=likes", headers=ada_headers), 422)


async def _accept(engine, clip_id: str) -> None:
    """Decide a clip as consensus would have: its status and the committed event."""
    await execute(
        engine,
        "UPDATE voice_clips SET status = 'accepted', decided_at = now() WHERE id = :id",
        id=clip_id,
    )
    contributor, language = (
        await scalar(engine, "SELECT contributor_id FROM voice_clips WHERE id = :id", id=clip_id),
        await scalar(engine, "SELECT language FROM voice_clips WHERE id = :id", id=clip_id),
    )
    await add_events(
        engine,
        [
            (
                "clip.decided",
                {
                    "clipId": clip_id,
                    "contributorId": str(contributor),
                    "status": "accepted",
                    "language": language,
                    "votes": [],
                },
            )
        ],
    )
