"""In-memory fakes of the clip, vote, skip, validator-stats, queue, blob and audio ports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import AudioInfo, Clip, ClipStatus, ClipTally, Visibility
from core.domain.validation import VoteRecord
from core.errors import InvalidInput, NotFound


@dataclass
class ClipState:
    clips: dict[uuid.UUID, Clip] = field(default_factory=dict)
    votes: dict[tuple[uuid.UUID, uuid.UUID], VoteRecord] = field(default_factory=dict)
    skips: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    stats: dict[uuid.UUID, ValidatorAccuracy] = field(default_factory=dict)

    def copy(self) -> ClipState:
        return ClipState(dict(self.clips), dict(self.votes), set(self.skips), dict(self.stats))


class FakeClipRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def add_if_absent(self, clip: Clip) -> bool:
        if await self.by_client_id(clip.contributor_id, clip.client_id) is not None:
            return False
        self._state.clips[clip.id] = clip
        return True

    async def get(self, clip_id: uuid.UUID) -> Clip | None:
        return self._state.clips.get(clip_id)

    get_for_update = get

    async def by_client_id(self, contributor_id: uuid.UUID, client_id: uuid.UUID) -> Clip | None:
        return next(
            (
                c
                for c in self._state.clips.values()
                if c.contributor_id == contributor_id and c.client_id == client_id
            ),
            None,
        )

    async def list_by_contributor(
        self, contributor_id: uuid.UUID, *, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[Clip]:
        mine = sorted(
            (c for c in self._state.clips.values() if c.contributor_id == contributor_id),
            key=lambda c: (c.created_at, c.id),
            reverse=True,
        )
        if before is not None:
            mine = [c for c in mine if (c.created_at, c.id) < before]
        return mine[:limit]

    async def save_tally(
        self, clip_id: uuid.UUID, tally: ClipTally, queue_rank: int, decided_at: datetime | None
    ) -> None:
        clip = self._state.clips[clip_id]
        self._state.clips[clip_id] = replace(
            clip, tally=tally, queue_rank=queue_rank, decided_at=decided_at
        )


class FakeVoteRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def add_if_absent(self, vote: VoteRecord) -> bool:
        key = (vote.validator_id, vote.clip_id)
        if key in self._state.votes:
            return False
        self._state.votes[key] = vote
        return True

    async def for_clip(self, clip_id: uuid.UUID) -> Sequence[VoteRecord]:
        votes = [v for v in self._state.votes.values() if v.clip_id == clip_id]
        return sorted(votes, key=lambda v: (v.created_at, v.id))


class FakeSkipRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def add(self, validator_id: uuid.UUID, clip_id: uuid.UUID, at: datetime) -> None:
        self._state.skips.add((validator_id, clip_id))


class FakeValidatorStatsRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def get(self, validator_id: uuid.UUID) -> ValidatorAccuracy:
        return self._state.stats.get(validator_id, ValidatorAccuracy())

    async def add(self, deltas: Mapping[uuid.UUID, ValidatorAccuracy]) -> None:
        for validator_id, delta in deltas.items():
            before = self._state.stats.get(validator_id, ValidatorAccuracy())
            self._state.stats[validator_id] = ValidatorAccuracy(
                **{f.name: getattr(before, f.name) + getattr(delta, f.name) for f in fields(delta)}
            )


class FakeClipQueue:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    def _unseen(self, validator_id: uuid.UUID, clip: Clip) -> bool:
        key = (validator_id, clip.id)
        return (
            clip.contributor_id != validator_id
            and key not in self._state.votes
            and key not in self._state.skips
            and clip.visibility is Visibility.VISIBLE
        )

    async def pending(self, validator_id: uuid.UUID, language: str, limit: int) -> Sequence[Clip]:
        candidates = [
            c
            for c in self._state.clips.values()
            if c.language == language
            and c.status is ClipStatus.PENDING
            and not c.tally.is_gold
            and self._unseen(validator_id, c)
        ]
        candidates.sort(key=lambda c: (c.queue_rank, c.created_at, c.id))
        return candidates[:limit]

    async def gold(
        self, validator_id: uuid.UUID, language: str, limit: int, pivot: uuid.UUID
    ) -> Sequence[Clip]:
        gold = sorted(
            (
                c
                for c in self._state.clips.values()
                if c.language == language and c.tally.is_gold and self._unseen(validator_id, c)
            ),
            key=lambda c: c.id,
        )
        rotated = [c for c in gold if c.id >= pivot] + [c for c in gold if c.id < pivot]
        return rotated[:limit]


class InMemoryBlobStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    async def size(self, key: str) -> int:
        if key not in self.objects:
            raise NotFound("Audio not found.", code="blob_not_found")
        return len(self.objects[key])

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        data = self.objects[key]
        yield data[start : None if end is None else end + 1]

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)


FAKE_AUDIO_MAGIC = b"FAKEAUDIO:"


def fake_audio(duration_ms: int) -> bytes:
    """Bytes the fake inspector reads as audio lasting ``duration_ms``."""
    return FAKE_AUDIO_MAGIC + str(duration_ms).encode()


class FakeAudioInspector:
    def inspect(self, data: bytes) -> AudioInfo:
        if not data.startswith(FAKE_AUDIO_MAGIC):
            raise InvalidInput("Not audio.", code="not_audio")
        duration = int(data[len(FAKE_AUDIO_MAGIC) :])
        return AudioInfo("wav", "audio/wav", duration, len(data))
