"""In-memory fakes of the clip, vote, skip, validator-stats, queue, blob and audio ports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import AudioInfo, Clip, ClipStatus, ClipTally, Visibility
from core.domain.dawid_skene import CrowdModel
from core.domain.reservations import ClipSlots, Reservation, ReservedSlots
from core.domain.validation import Serving, VoteRecord, VoteTarget
from core.errors import InvalidInput, NotFound


@dataclass
class ClipState:
    clips: dict[uuid.UUID, Clip] = field(default_factory=dict)
    votes: dict[tuple[uuid.UUID, uuid.UUID], VoteRecord] = field(default_factory=dict)
    skips: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    stats: dict[uuid.UUID, ValidatorRecord] = field(default_factory=dict)
    servings: dict[tuple[uuid.UUID, uuid.UUID], datetime] = field(default_factory=dict)
    model: CrowdModel = field(default_factory=CrowdModel)
    reservations: dict[tuple[uuid.UUID, uuid.UUID], Reservation] = field(default_factory=dict)
    listening: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def copy(self) -> ClipState:
        return ClipState(
            dict(self.clips),
            dict(self.votes),
            set(self.skips),
            dict(self.stats),
            dict(self.servings),
            self.model,
            dict(self.reservations),
            dict(self.listening),
        )

    def holding(self, clip_id: uuid.UUID, now: datetime) -> list[Reservation]:
        return [r for r in self.reservations.values() if r.clip_id == clip_id and r.holds_at(now)]

    def reserved_until(self, clip_id: uuid.UUID) -> datetime | None:
        expiries = [r.expires_at for r in self.reservations.values() if r.clip_id == clip_id]
        return max(expiries, default=None)


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

    async def get_for_vote(self, clip_id: uuid.UUID, validator_id: uuid.UUID) -> VoteTarget | None:
        clip = self._state.clips.get(clip_id)
        if clip is None:
            return None
        served_at = self._state.servings.get((validator_id, clip_id))
        serving = None if served_at is None else Serving(validator_id, clip_id, served_at)
        has_gold = any(
            c.tally.is_gold and c.language == clip.language and c.visibility is Visibility.VISIBLE
            for c in self._state.clips.values()
        )
        return VoteTarget(clip, serving, has_gold, self._state.reserved_until(clip_id))

    async def by_client_id(self, contributor_id: uuid.UUID, client_id: uuid.UUID) -> Clip | None:
        return next(
            (
                c
                for c in self._state.clips.values()
                if c.contributor_id == contributor_id and c.client_id == client_id
            ),
            None,
        )

    async def with_same_audio(self, clip: Clip, limit: int) -> Sequence[Clip]:
        same = [
            c
            for c in self._state.clips.values()
            if clip.audio_sha256 is not None
            and c.audio_sha256 == clip.audio_sha256
            and c.id != clip.id
        ]
        return sorted(same, key=lambda c: (c.created_at, c.id))[:limit]

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

    async def save_shadow(
        self,
        clip_id: uuid.UUID,
        shadow: ClipTally,
        settled: tuple[ClipStatus, datetime] | None,
    ) -> None:
        clip = self._state.clips[clip_id]
        assert clip.tally.is_gold
        tally = replace(shadow, status=clip.status, is_gold=True)
        changed = replace(clip, tally=tally)
        if settled is not None:
            changed = replace(changed, shadow_status=settled[0], shadow_settled_at=settled[1])
        self._state.clips[clip_id] = changed


class FakeVoteRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def add_if_absent(self, vote: VoteRecord) -> bool:
        key = (vote.validator_id, vote.clip_id)
        if key in self._state.votes:
            return False
        self._state.votes[key] = vote
        return True

    async def for_clip(
        self, clip_id: uuid.UUID, *, after: datetime | None = None
    ) -> Sequence[VoteRecord]:
        votes = [
            v
            for v in self._state.votes.values()
            if v.clip_id == clip_id and (after is None or v.created_at > after)
        ]
        return sorted(votes, key=lambda v: (v.created_at, v.id))


class FakeClipServings:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def record(
        self, validator_id: uuid.UUID, clip_ids: Sequence[uuid.UUID], at: datetime
    ) -> None:
        for clip_id in clip_ids:
            self._state.servings.setdefault((validator_id, clip_id), at)


class FakeSkipRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def add(self, validator_id: uuid.UUID, clip_id: uuid.UUID, at: datetime) -> None:
        self._state.skips.add((validator_id, clip_id))


class FakeValidatorStatsRepository:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    async def get(self, validator_id: uuid.UUID) -> ValidatorRecord:
        return self._state.stats.get(validator_id, ValidatorRecord())

    async def get_with_model(self, validator_id: uuid.UUID) -> tuple[ValidatorRecord, CrowdModel]:
        return await self.get(validator_id), self._state.model

    async def add(self, deltas: Mapping[uuid.UUID, ValidatorAccuracy]) -> None:
        for validator_id, delta in deltas.items():
            if delta.is_empty:
                continue
            before = self._state.stats.get(validator_id, ValidatorRecord())
            self._state.stats[validator_id] = replace(before, history=before.history.plus(delta))


class FakeClipQueue:
    def __init__(self, state: ClipState) -> None:
        self._state = state

    def _unseen(self, validator_id: uuid.UUID, clip: Clip, now: datetime) -> bool:
        key = (validator_id, clip.id)
        reserved = self._state.reservations.get(key)
        return (
            clip.contributor_id != validator_id
            and key not in self._state.votes
            and key not in self._state.skips
            and clip.visibility is Visibility.VISIBLE
            and not (reserved is not None and reserved.holds_at(now))
        )

    def _has_free_slot(self, clip: Clip, now: datetime, vote_cap: int) -> bool:
        return clip.tally.counted_votes + len(self._state.holding(clip.id, now)) < vote_cap

    def _served_before_shadow_settled(self, validator_id: uuid.UUID, clip: Clip) -> bool:
        served_at = self._state.servings.get((validator_id, clip.id))
        settled_at = clip.shadow_settled_at
        return served_at is not None and settled_at is not None and served_at < settled_at

    async def pending(
        self, validator_id: uuid.UUID, language: str, limit: int, *, now: datetime, vote_cap: int
    ) -> Sequence[Clip]:
        candidates = [
            c
            for c in self._state.clips.values()
            if c.language == language
            and c.status is ClipStatus.PENDING
            and not c.tally.is_gold
            and self._unseen(validator_id, c, now)
            and self._has_free_slot(c, now, vote_cap)
        ]
        candidates.sort(key=lambda c: (c.queue_rank, c.created_at, c.id))
        return candidates[:limit]

    async def gold(
        self,
        validator_id: uuid.UUID,
        language: str,
        limit: int,
        pivot: uuid.UUID,
        *,
        now: datetime,
        vote_cap: int,
    ) -> Sequence[Clip]:
        gold = sorted(
            (
                c
                for c in self._state.clips.values()
                if c.language == language
                and c.tally.is_gold
                and self._unseen(validator_id, c, now)
                and self._has_free_slot(c, now, vote_cap)
                and not self._served_before_shadow_settled(validator_id, c)
            ),
            key=lambda c: c.id,
        )
        rotated = [c for c in gold if c.id >= pivot] + [c for c in gold if c.id < pivot]
        return rotated[:limit]


class FakeReservationRepository:
    """Reservations and listening clocks in the clip state; locks are no-ops in one event
    loop (``locked`` lists clips another request is pretending to hold)."""

    def __init__(self, state: ClipState, locked: set[uuid.UUID] | None = None) -> None:
        self._state = state
        self.locked = locked if locked is not None else set()

    async def for_vote(
        self, clip_id: uuid.UUID, validator_id: uuid.UUID, now: datetime
    ) -> ReservedSlots:
        others = [r for r in self._state.holding(clip_id, now) if r.validator_id != validator_id]
        return ReservedSlots(self._state.reservations.get((validator_id, clip_id)), len(others))

    async def lock_listening_clock(self, validator_id: uuid.UUID) -> datetime | None:
        return self._state.listening.get(validator_id)

    async def set_listening_clock(self, validator_id: uuid.UUID, until: datetime) -> None:
        self._state.listening[validator_id] = until

    async def mark_used(self, validator_id: uuid.UUID, clip_id: uuid.UUID, at: datetime) -> None:
        key = (validator_id, clip_id)
        if key in self._state.reservations:
            self._state.reservations[key] = replace(self._state.reservations[key], used_at=at)

    async def holding_count(self, validator_id: uuid.UUID, now: datetime) -> int:
        return sum(
            1
            for r in self._state.reservations.values()
            if r.validator_id == validator_id and r.holds_at(now)
        )

    async def lock_for_batch(
        self, clip_ids: Sequence[uuid.UUID], now: datetime
    ) -> Mapping[uuid.UUID, ClipSlots]:
        found: dict[uuid.UUID, ClipSlots] = {}
        for clip_id in clip_ids:
            clip = self._state.clips.get(clip_id)
            if clip is None or clip_id in self.locked:
                continue
            servable = clip.is_visible and (clip.tally.is_gold or not clip.status.is_settled)
            found[clip_id] = ClipSlots(
                clip_id, servable, clip.tally.counted_votes, len(self._state.holding(clip_id, now))
            )
        return found

    async def add(self, reservations: Sequence[Reservation]) -> None:
        for reservation in reservations:
            key = (reservation.validator_id, reservation.clip_id)
            before = self._state.reservations.get(key)
            if before is not None and (
                before.used_at is not None or before.expires_at > reservation.reserved_at
            ):
                continue
            self._state.reservations[key] = reservation

    async def prune(self, *, expired_before: datetime, limit: int) -> int:
        expired = [k for k, r in self._state.reservations.items() if r.expires_at < expired_before]
        for key in expired[:limit]:
            del self._state.reservations[key]
        return min(len(expired), limit)


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

    async def download_url(self, key: str) -> str | None:
        return None


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
