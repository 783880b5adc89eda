"""Inspecting uploaded audio."""

from __future__ import annotations

from typing import Protocol

from core.domain.clips import AudioInfo


class AudioInspector(Protocol):
    """Sniffs an upload's container format and reads its duration."""

    def inspect(self, data: bytes) -> AudioInfo:
        """What ``data`` is; raises ``InvalidInput`` (``not_audio``, ``audio_truncated``)
        when it is not complete, readable audio."""
        ...
