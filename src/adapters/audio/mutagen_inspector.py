"""Audio inspection with mutagen: sniff the container, read the duration, and refuse files
whose declared sizes run past the end of the upload (truncated uploads)."""

from __future__ import annotations

import io
import struct

import mutagen
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from core.domain.clips import AudioInfo
from core.errors import InvalidInput

# mutagen class → (short format name, MIME type). Only formats phones record.
FORMATS: dict[type[mutagen.FileType], tuple[str, str]] = {
    WAVE: ("wav", "audio/wav"),
    MP4: ("m4a", "audio/mp4"),
    OggOpus: ("opus", "audio/ogg"),
    OggVorbis: ("ogg", "audio/ogg"),
    MP3: ("mp3", "audio/mpeg"),
    FLAC: ("flac", "audio/flac"),
    AAC: ("aac", "audio/aac"),
}


class MutagenAudioInspector:
    """Implements ``core.ports.audio.AudioInspector``."""

    def inspect(self, data: bytes) -> AudioInfo:
        try:
            parsed = mutagen.File(io.BytesIO(data), options=list(FORMATS))
        except Exception as error:  # mutagen raises many kinds on damaged input
            raise _not_audio() from error
        if parsed is None or parsed.info is None:
            raise _not_audio()
        name, mime = FORMATS[type(parsed)]
        length = float(getattr(parsed.info, "length", 0.0) or 0.0)
        if length <= 0:
            raise _not_audio()
        if _declares_more_than_present(name, data):
            raise InvalidInput(
                "The audio file is incomplete (it ends before its declared size).",
                code="audio_truncated",
            )
        return AudioInfo(
            format=name, mime_type=mime, duration_ms=round(length * 1000), size_bytes=len(data)
        )


def _not_audio() -> InvalidInput:
    return InvalidInput(
        "The file is not audio in a supported format (wav, m4a, ogg, opus, mp3, flac, aac).",
        code="not_audio",
    )


def _declares_more_than_present(name: str, data: bytes) -> bool:
    if name == "wav":
        return _riff_truncated(data)
    if name == "m4a":
        return _atoms_truncated(data)
    return False


def _riff_truncated(data: bytes) -> bool:
    """RIFF: the header's size and every chunk's size must fit in the file."""
    if len(data) < 12:
        return True
    riff_size = struct.unpack_from("<I", data, 4)[0]
    if riff_size + 8 > len(data):
        return True
    offset = 12
    while offset + 8 <= len(data):
        chunk_size = struct.unpack_from("<I", data, offset + 4)[0]
        if offset + 8 + chunk_size > len(data):
            return True
        offset += 8 + chunk_size + (chunk_size & 1)
    return False


def _atoms_truncated(data: bytes) -> bool:
    """ISO BMFF: top-level boxes must tile the file exactly."""
    offset = 0
    while offset + 8 <= len(data):
        size = struct.unpack_from(">I", data, offset)[0]
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        elif size == 0:
            return False  # the last box runs to the end of the file
        if size < 8 or offset + size > len(data):
            return True
        offset += size
    return offset != len(data)
