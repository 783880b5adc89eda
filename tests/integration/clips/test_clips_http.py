"""SPEC §4: uploads are real audio, idempotent by clientId; reads respect visibility."""

from __future__ import annotations

import uuid

import pytest

from tests.audio import wav_bytes
from tests.integration.clips.helpers import AUDIO, execute, new_clip, scalar, upload
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers


def stored_files(settings) -> list:
    root = settings.blob_root / "clips"
    return sorted(p.name for p in root.glob("*")) if root.exists() else []


@pytest.fixture
def settings(settings, tmp_path):
    from dataclasses import replace

    return replace(settings, blob_dir=tmp_path / "blobs")


async def test_upload_then_replay_returns_the_same_clip(client, engine, settings):
    headers, client_id = member_headers(), uuid.uuid4()
    first = await upload(client, headers, client_id=client_id, prompt="  Good   morning ")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "pending"
    assert body["durationMs"] == 2000
    assert body["prompt"] == "Good morning"
    assert body["mimeType"] == "audio/wav"
    again = await upload(client, headers, client_id=client_id)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 1
    assert len(stored_files(settings)) == 1
    events = await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'clip.submitted'")
    assert events == 1


async def test_concurrent_replays_store_one_clip(client, engine, settings):
    import asyncio

    headers, client_id = member_headers(), uuid.uuid4()
    responses = await asyncio.gather(
        *(upload(client, headers, client_id=client_id) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 1
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize(
    ("label", "audio", "status", "code"),
    [
        ("renamed text file", b"this is not audio at all\n" * 200, 422, "not_audio"),
        ("empty", b"", 422, "audio_empty"),
        ("truncated", AUDIO[: len(AUDIO) // 2], 422, "audio_truncated"),
        ("too short", wav_bytes(0.5), 422, "audio_too_short"),
        ("too long", wav_bytes(16.0), 422, "audio_too_long"),
        ("random bytes", bytes(range(256)) * 40, 422, "not_audio"),
    ],
)
async def test_bad_audio_is_refused_and_nothing_is_stored(
    client, engine, settings, label, audio, status, code
):
    response = await upload(client, member_headers(), audio=audio)
    assert_problem(response, status, code)
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 0
    assert stored_files(settings) == []


async def test_oversized_upload_is_413(client, engine, settings):
    response = await upload(client, member_headers(), audio=b"\0" * (6 * 1024 * 1024))
    assert_problem(response, 413)
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 0


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("language", "english", 422),
        ("language", "y0", 422),
        ("prompt", "   ", 422),
        ("prompt", "x" * 501, 422),
        ("clientId", "not-a-uuid", 422),
    ],
)
async def test_bad_fields_are_refused(client, engine, field, value, status):
    files = {"audio": ("clip.wav", AUDIO, "audio/wav")}
    form = {"language": "yo", "prompt": "hello", "clientId": str(uuid.uuid4()), field: value}
    response = await client.post("/clips", files=files, data=form, headers=member_headers())
    assert_problem(response, status)
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 0


async def test_missing_file_and_json_body_are_refused(client):
    form = {"language": "yo", "prompt": "hello", "clientId": str(uuid.uuid4())}
    missing = await client.post(
        "/clips", data=form, files={"other": ("x.wav", AUDIO)}, headers=member_headers()
    )
    assert_problem(missing, 422)
    urlencoded = await client.post("/clips", data=form, headers=member_headers())
    assert_problem(urlencoded, 415)
    as_json = await client.post("/clips", json=form, headers=member_headers())
    assert_problem(as_json, 415)


async def test_suspended_member_cannot_upload(client, engine):
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET status = 'suspended' WHERE id = :id", id=subject)
    assert_problem(await upload(client, member_headers(subject)), 403, "account_suspended")


async def test_status_is_shown_to_the_contributor_only(client):
    clip_id, owner = await new_clip(client)
    mine = (await client.get(f"/clips/{clip_id}", headers=owner)).json()
    theirs = (await client.get(f"/clips/{clip_id}", headers=member_headers())).json()
    assert mine["status"] == "pending"
    # Every field is present (docs/api.md); what others may not see is null.
    private = ("status", "clientId", "visibility", "validVotes", "invalidVotes", "decidedAt")
    assert {name: theirs[name] for name in private} == dict.fromkeys(private)
    assert theirs["feedback"] is None


async def test_hidden_clips_are_not_found_for_others(client, engine):
    clip_id, owner = await new_clip(client)
    await execute(engine, "UPDATE voice_clips SET visibility = 'hidden' WHERE id = :id", id=clip_id)
    assert (await client.get(f"/clips/{clip_id}", headers=owner)).status_code == 200
    other = await client.get(f"/clips/{clip_id}", headers=member_headers())
    assert_problem(other, 404, "clip_not_found")
    audio = await client.get(f"/clips/{clip_id}/audio", headers=member_headers())
    assert_problem(audio, 404)


async def test_unknown_and_malformed_ids(client):
    assert_problem(await client.get(f"/clips/{uuid.uuid4()}", headers=member_headers()), 404)
    malformed = await client.get("/clips/not-a-uuid", headers=member_headers())
    assert_problem(malformed, 422, "invalid_path_parameter")
    assert malformed.json()["invalidParams"] == [{"name": "clip_id", "reason": "not a valid uuid"}]


async def test_audio_is_streamed_with_ranges(client):
    clip_id, _ = await new_clip(client)
    listener = member_headers()
    whole = await client.get(f"/clips/{clip_id}/audio", headers=listener)
    assert whole.status_code == 200
    assert whole.content == AUDIO
    assert whole.headers["accept-ranges"] == "bytes"
    part = await client.get(f"/clips/{clip_id}/audio", headers={**listener, "Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == AUDIO[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(AUDIO)}"
    tail = await client.get(f"/clips/{clip_id}/audio", headers={**listener, "Range": "bytes=-10"})
    assert tail.content == AUDIO[-10:]
    beyond = await client.get(
        f"/clips/{clip_id}/audio", headers={**listener, "Range": f"bytes={len(AUDIO)}-"}
    )
    assert_problem(beyond, 416)


async def test_my_clips_are_paginated_newest_first(client):
    headers = member_headers()
    ids = [(await upload(client, headers)).json()["id"] for _ in range(5)]
    await new_clip(client)  # someone else's
    first = (await client.get("/clips/mine?limit=3", headers=headers)).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:3]
    second = await client.get(f"/clips/mine?limit=3&cursor={first['nextCursor']}", headers=headers)
    assert [c["id"] for c in second.json()["items"]] == ids[::-1][3:]
    assert second.json()["nextCursor"] is None
    assert_problem(await client.get("/clips/mine?cursor=%%%", headers=headers), 422)
    assert_problem(await client.get("/clips/mine?cursor=bm90LW91cnM", headers=headers), 422)
