"""Issue 16 §3–4: a clip's audio comes back with the type it was uploaded as (WAV, Ogg,
FLAC), ranges included, from local disk (streamed by the API) and from an S3-compatible
store (moto on 127.0.0.1 through boto3), where the API answers 307 to a presigned URL of
the store and the audio's bytes never pass through the API."""

from __future__ import annotations

import uuid
from dataclasses import replace

import httpx
import pytest
from litestar.testing import AsyncTestClient

from entrypoints.settings import BlobSettings, Secret
from tests.audio import flac_bytes, ogg_opus_bytes, wav_bytes
from tests.contracts.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, s3_server
from tests.integration.clips.helpers import execute
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers

__all__ = ["s3_server"]

AUDIO = {
    "wav": (wav_bytes(2.0), "audio/wav"),
    "ogg": (ogg_opus_bytes(2.0), "audio/ogg"),
    "flac": (flac_bytes(2.0), "audio/flac"),
}


@pytest.fixture(params=["local", "s3"])
def store(request) -> str:
    return request.param


@pytest.fixture
async def client(request, settings, make_app, store, tmp_path):
    if store == "local":
        chosen = replace(settings, blob_dir=tmp_path / "blobs")
    else:
        server = request.getfixturevalue("s3_server")
        chosen = replace(
            settings,
            blob_dir=tmp_path / "unused",
            blobs=BlobSettings(
                store="s3",
                s3_bucket=server.new_bucket(),
                s3_endpoint_url=server.endpoint_url,
                s3_region=REGION,
                s3_access_key_id=Secret(ACCESS_KEY_ID),
                s3_secret_access_key=Secret(SECRET_ACCESS_KEY),
                s3_addressing_style="path",
                s3_presign_seconds=120,
            ),
        )
    async with AsyncTestClient(app=make_app(chosen)) as test_client:
        yield test_client
    if store == "s3":  # nothing was written to local disk
        assert not (tmp_path / "unused").exists()


async def upload(client, name: str) -> tuple[str, dict[str, str]]:
    data, mime = AUDIO[name]
    headers = member_headers()
    response = await client.post(
        "/clips",
        files={"audio": (f"clip.{name}", data, mime)},
        data={"language": "yo", "prompt": "Ẹ káàárọ̀", "clientId": str(uuid.uuid4())},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["mimeType"] == mime
    return response.json()["id"], headers


async def play(client, store: str, clip_id: str, **headers: str) -> httpx.Response:
    """GET the audio as a player does: from the API, or from where the API redirects."""
    listener = member_headers()
    answer = await client.get(
        f"/clips/{clip_id}/audio", headers={**listener, **headers}, follow_redirects=False
    )
    if store == "local":
        return answer
    assert answer.status_code == 307, answer.text
    assert answer.headers["cache-control"] == "private, no-store"
    location = answer.headers["location"]
    assert location.startswith(f"{client.app.state.container.settings().blobs.s3_endpoint_url}/")
    assert "X-Amz-Signature=" in location
    assert "X-Amz-Expires=120" in location
    async with httpx.AsyncClient() as player:  # only the URL: no Chorus token
        return await player.get(location, headers=headers)


@pytest.mark.parametrize("name", sorted(AUDIO))
async def test_audio_comes_back_with_its_type_and_ranges(client, store, name):
    data, mime = AUDIO[name]
    clip_id, _ = await upload(client, name)
    whole = await play(client, store, clip_id)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == mime
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    part = await play(client, store, clip_id, Range="bytes=4-11")
    assert part.status_code == 206
    assert part.headers["content-type"] == mime
    assert part.content == data[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(data)}"
    tail = await play(client, store, clip_id, Range="bytes=-10")
    assert tail.content == data[-10:]


async def test_visibility_is_checked_before_any_redirect(client, engine, store):
    clip_id, owner = await upload(client, "wav")
    await execute(engine, "UPDATE voice_clips SET visibility = 'hidden' WHERE id = :id", id=clip_id)
    hidden = await client.get(
        f"/clips/{clip_id}/audio", headers=member_headers(), follow_redirects=False
    )
    assert_problem(hidden, 404)
    mine = await client.get(f"/clips/{clip_id}/audio", headers=owner, follow_redirects=False)
    assert mine.status_code == (200 if store == "local" else 307)
    anonymous = await client.get(f"/clips/{clip_id}/audio", follow_redirects=False)
    assert_problem(anonymous, 401)
