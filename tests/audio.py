"""Real audio for tests, made with the standard library."""

from __future__ import annotations

import io
import math
import wave


def wav_bytes(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV with a 440 Hz tone."""
    frames = int(seconds * rate)
    samples = b"".join(
        int(8000 * math.sin(2 * math.pi * 440 * i / rate)).to_bytes(2, "little", signed=True)
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return buffer.getvalue()
