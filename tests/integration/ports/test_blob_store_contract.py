"""The blob port's contract, on local disk and on an S3-compatible server (moto on
127.0.0.1, through boto3): the same behaviour from both, so either can keep the audio."""

from __future__ import annotations

import httpx
import pytest

from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore
from core.errors import InvalidInput, NotFound, StorageUnavailable
from tests.contracts.s3_server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3ContractServer,
    s3_server,
)
from tests.integration.server.served import free_port

__all__ = ["s3_server"]

DATA = bytes(range(256)) * 1000  # 256 000 bytes: several read chunks


def s3_store(endpoint_url: str, bucket: str, **options) -> S3BlobStore:
    return S3BlobStore(
        bucket=bucket,
        endpoint_url=endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        addressing_style="path",
        **options,
    )


@pytest.fixture(scope="module")
def shared_s3_store(s3_server: S3ContractServer) -> S3BlobStore:
    """One bucket for the module's tests (they use distinct keys)."""
    return s3_store(s3_server.endpoint_url, s3_server.new_bucket())


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return request.getfixturevalue("shared_s3_store")


async def collect(store, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def test_put_size_read_and_ranges(store):
    await store.put("clips/a.wav", DATA, "audio/wav")
    assert await store.size("clips/a.wav") == len(DATA)
    assert await collect(store, "clips/a.wav") == DATA
    assert await collect(store, "clips/a.wav", 10, 70_000) == DATA[10:70_001]
    assert await collect(store, "clips/a.wav", 255_990) == DATA[255_990:]
    assert await collect(store, "clips/a.wav", 0, 0) == DATA[:1]


async def test_put_replaces_and_delete_is_idempotent(store):
    await store.put("clips/b.flac", b"first", "audio/flac")
    await store.put("clips/b.flac", b"second!", "audio/flac")
    assert await collect(store, "clips/b.flac") == b"second!"
    await store.delete("clips/b.flac")
    await store.delete("clips/b.flac")
    await store.delete("clips/never-stored.wav")
    with pytest.raises(NotFound) as missing:
        await store.size("clips/b.flac")
    assert missing.value.code == "blob_not_found"


async def test_missing_objects_are_not_found(store):
    with pytest.raises(NotFound):
        await store.size("clips/nothing.wav")
    with pytest.raises(NotFound):
        await collect(store, "clips/nothing.wav")


@pytest.mark.parametrize("key", ["../escape", "clips/../../x", "/etc/passwd", "clips//x", ""])
async def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(InvalidInput):
        await store.put(key, b"x", "audio/wav")
    with pytest.raises(InvalidInput):
        await store.download_url(key)


async def test_download_urls(store):
    """Local disk hands out none (the API streams); S3 presigns a GET that serves the bytes
    with the type given at upload, ranges included, to a client holding only the URL."""
    await store.put("clips/c.ogg", DATA, "audio/ogg")
    url = await store.download_url("clips/c.ogg")
    if isinstance(store, LocalBlobStore):
        assert url is None
        return
    assert url is not None
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=300" in url
    async with httpx.AsyncClient() as client:
        whole = await client.get(url)
        part = await client.get(url, headers={"Range": "bytes=5-9"})
    assert whole.status_code == 200
    assert whole.content == DATA
    assert whole.headers["content-type"] == "audio/ogg"
    assert part.status_code == 206
    assert part.content == DATA[5:10]


async def test_presigned_urls_live_as_configured(s3_server):
    store = s3_store(s3_server.endpoint_url, s3_server.new_bucket(), presign_seconds=45)
    url = await store.download_url("clips/d.wav")
    assert url is not None
    assert "X-Amz-Expires=45" in url


async def test_an_unreachable_store_is_unavailable_not_a_crash():
    store = s3_store(
        f"http://127.0.0.1:{free_port()}",
        "chorus-nowhere",
        connect_timeout_seconds=0.5,
        read_timeout_seconds=0.5,
    )
    with pytest.raises(StorageUnavailable) as down:
        await store.size("clips/a.wav")
    assert down.value.code == "blob_store_unavailable"
    with pytest.raises(StorageUnavailable):
        await store.put("clips/a.wav", b"x", "audio/wav")
