from __future__ import annotations

import uuid

import pytest

from core.domain.identity import Principal, Profile
from core.domain.validation import ValidationRules
from core.errors import InvalidInput
from core.use_cases.clips import ClipUpload, SubmitClip
from tests.fake_clips import FakeAudioInspector, InMemoryBlobStore, fake_audio
from tests.fakes import (
    FakeTextScreener,
    FakeUnitOfWork,
    FixedClock,
    InMemoryStore,
    SequentialIds,
)


@pytest.fixture
def world():
    store, blobs, clock = InMemoryStore(), InMemoryBlobStore(), FixedClock()
    submit = SubmitClip(
        uow_factory=lambda: FakeUnitOfWork(store),
        blobs=blobs,
        inspector=FakeAudioInspector(),
        clock=clock,
        ids=SequentialIds(),
        rules=ValidationRules(),
        screener=FakeTextScreener(),
    )
    member = Profile.new(uuid.uuid4(), clock.now())
    store.profiles[member.id] = member
    return store, blobs, submit, Principal(profile=member)


async def test_same_client_id_returns_the_same_clip_and_stores_once(world):
    store, blobs, submit, member = world
    upload = ClipUpload(uuid.uuid4(), "YO", "  Hello  world ", fake_audio(4000))
    first = await submit(member, upload)
    second = await submit(member, upload)
    assert first.created
    assert not second.created
    assert second.clip == first.clip
    assert first.clip.language == "yo"
    assert first.clip.prompt == "Hello world"
    assert list(blobs.objects) == [first.clip.audio_key]
    assert [e.name for e in store.outbox] == ["clip.submitted"]


@pytest.mark.parametrize(
    ("audio", "language", "prompt", "code"),
    [
        (b"", "yo", "x", "audio_empty"),
        (b"plain text", "yo", "x", "not_audio"),
        (fake_audio(999), "yo", "x", "audio_too_short"),
        (fake_audio(15_001), "yo", "x", "audio_too_long"),
        (fake_audio(3000), "english", "x", "invalid_language"),
        (fake_audio(3000), "yo", " ", "invalid_prompt"),
        (b"FAKEAUDIO:3000" + b"0" * (5 * 1024 * 1024), "yo", "x", "audio_too_large"),
    ],
)
async def test_bad_uploads_store_nothing(world, audio, language, prompt, code):
    store, blobs, submit, member = world
    with pytest.raises(InvalidInput) as refused:
        await submit(member, ClipUpload(uuid.uuid4(), language, prompt, audio))
    assert refused.value.code == code
    assert store.clips.clips == {}
    assert blobs.objects == {}
    assert store.outbox == []
