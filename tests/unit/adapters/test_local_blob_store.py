from __future__ import annotations

import pytest

from adapters.blobs.local import LocalBlobStore
from core.errors import InvalidInput, NotFound


async def collect(store: LocalBlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def test_put_read_ranges_and_delete(tmp_path):
    store = LocalBlobStore(tmp_path)
    data = bytes(range(256)) * 1000
    await store.put("clips/a.wav", data, "audio/wav")
    assert await store.size("clips/a.wav") == len(data)
    assert await collect(store, "clips/a.wav") == data
    assert await collect(store, "clips/a.wav", 10, 70_000) == data[10:70_001]
    await store.delete("clips/a.wav")
    await store.delete("clips/a.wav")
    with pytest.raises(NotFound):
        await store.size("clips/a.wav")


@pytest.mark.parametrize(
    "key",
    ["../escape", "clips/../../etc/passwd", "/etc/passwd", "clips//x", "", "clips/ x", "a\\b"],
)
async def test_keys_cannot_leave_the_root(tmp_path, key):
    store = LocalBlobStore(tmp_path / "root")
    with pytest.raises(InvalidInput):
        await store.put(key, b"x", "text/plain")
    assert not (tmp_path / "escape").exists()


async def test_symlinks_out_of_the_root_are_refused(tmp_path):
    root = tmp_path / "root"
    (root / "clips").mkdir(parents=True)
    (root / "clips" / "link").symlink_to(tmp_path)
    store = LocalBlobStore(root)
    with pytest.raises(InvalidInput):
        await store.put("clips/link/owned.wav", b"x", "audio/wav")
