from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.audio.mutagen_inspector import MutagenAudioInspector, _atoms_truncated
from core.errors import InvalidInput
from tests.audio import wav_bytes

WAV = wav_bytes(3.0)


def test_wav_duration_and_format():
    info = MutagenAudioInspector().inspect(WAV)
    assert (info.format, info.mime_type, info.duration_ms) == ("wav", "audio/wav", 3000)
    assert info.size_bytes == len(WAV)


@given(cut=st.integers(min_value=1, max_value=len(WAV) - 1))
@settings(max_examples=50)
def test_any_truncated_wav_is_refused(cut):
    with pytest.raises(InvalidInput) as refused:
        MutagenAudioInspector().inspect(WAV[:cut])
    assert refused.value.code in {"audio_truncated", "not_audio"}


@given(st.binary(max_size=4096))
@settings(max_examples=200)
def test_arbitrary_bytes_are_audio_or_refused_cleanly(data):
    try:
        info = MutagenAudioInspector().inspect(data)
    except InvalidInput as refused:
        assert refused.code in {"not_audio", "audio_truncated"}  # noqa: PT017
    else:
        assert info.duration_ms > 0


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def test_mp4_boxes_must_tile_the_file():
    whole = box(b"ftyp", b"M4A \0\0\0\0") + box(b"mdat", b"\0" * 100)
    assert not _atoms_truncated(whole)
    assert _atoms_truncated(whole[:-1])
    assert _atoms_truncated(whole + b"\0\0")
