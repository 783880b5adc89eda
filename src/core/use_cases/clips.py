"""Use cases about recording clips and reading them back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.clips import (
    MAX_AUDIO_BYTES,
    Clip,
    ClipTally,
    Visibility,
    check_audio,
    normalise_prompt,
)
from core.domain.consensus import distance_to_decision
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Role, ensure_may_write, normalise_language
from core.domain.validation import ValidationRules
from core.errors import InvalidInput, NotFound
from core.ports.audio import AudioInspector
from core.ports.blobs import BlobStore
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class ClipUpload:
    """A clip as the phone sends it."""

    client_id: UUID
    language: str
    prompt: str
    audio: bytes


@dataclass(frozen=True, slots=True)
class SubmittedClip:
    clip: Clip
    created: bool  # False when ``client_id`` had been seen: the same clip is returned


@dataclass(frozen=True, slots=True)
class SubmitClip:
    """A member uploads a recording.

    Rules: only active members record; the language is a language tag; the prompt is 1–500
    characters; the audio is real audio (format sniffed, duration read), 1–15 s, at most
    5 MB. The same ``client_id`` again returns the first clip and stores nothing new (phones
    retry uploads). The audio is stored before the row, so a row never points at missing
    audio; a lost race deletes the extra copy.
    """

    uow_factory: Callable[[], UnitOfWork]
    blobs: BlobStore
    inspector: AudioInspector
    clock: Clock
    ids: IdGenerator
    rules: ValidationRules

    async def __call__(self, principal: Principal, upload: ClipUpload) -> SubmittedClip:
        member = principal.require_member()
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            existing = await uow.clips.by_client_id(member.id, upload.client_id)
        if existing is not None:
            return SubmittedClip(existing, created=False)
        language = normalise_language(upload.language)
        prompt = normalise_prompt(upload.prompt)
        if not upload.audio:
            raise InvalidInput("The audio file is empty.", code="audio_empty")
        if len(upload.audio) > MAX_AUDIO_BYTES:
            raise InvalidInput("Audio must be at most 5 MB.", code="audio_too_large")
        info = self.inspector.inspect(upload.audio)
        check_audio(info)
        clip_id, now = self.ids.new_id(), self.clock.now()
        tally = ClipTally()
        clip = Clip(
            id=clip_id,
            contributor_id=member.id,
            client_id=upload.client_id,
            language=language,
            prompt=prompt,
            audio_key=f"clips/{clip_id}.{info.format}",
            audio=info,
            tally=tally,
            visibility=Visibility.VISIBLE,
            queue_rank=distance_to_decision(tally, self.rules.policy),
            created_at=now,
        )
        await self.blobs.put(clip.audio_key, upload.audio, info.mime_type)
        try:
            async with self.uow_factory() as uow:
                if await uow.clips.add_if_absent(clip):
                    uow.record(_submitted(self.ids.new_id(), clip))
                    await uow.commit()
                    return SubmittedClip(clip, created=True)
                winner = await uow.clips.by_client_id(member.id, upload.client_id)
        except BaseException:
            await self.blobs.delete(clip.audio_key)
            raise
        await self.blobs.delete(clip.audio_key)
        assert winner is not None
        return SubmittedClip(winner, created=False)


def _submitted(event_id: UUID, clip: Clip) -> DomainEvent:
    return DomainEvent(
        id=event_id,
        name="clip.submitted",
        occurred_at=clip.created_at,
        payload={
            "clipId": str(clip.id),
            "profileId": str(clip.contributor_id),
            "language": clip.language,
            "durationMs": clip.audio.duration_ms,
        },
    )


def may_see_details(principal: Principal, clip: Clip) -> bool:
    """Status and votes are for the contributor, moderators, admins and the service: a
    validator who could read them would recognise gold clips and copy their verdicts."""
    if principal.is_service:
        return True
    return principal.profile_id == clip.contributor_id or principal.role in {
        Role.MODERATOR,
        Role.ADMIN,
    }


def may_see(principal: Principal, clip: Clip) -> bool:
    """Hidden clips are visible to their contributor and moderation; removed ones only to
    moderation."""
    if clip.visibility is Visibility.VISIBLE:
        return True
    staff = principal.is_service or principal.role in {Role.MODERATOR, Role.ADMIN}
    if clip.visibility is Visibility.REMOVED:
        return staff
    return staff or principal.profile_id == clip.contributor_id


@dataclass(frozen=True, slots=True)
class GetClip:
    """Read one clip. Unknown clips and clips the caller may not see are both "not found"."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, clip_id: UUID) -> Clip:
        if principal.profile is None and not principal.is_service:
            raise NotFound("Clip not found.", code="clip_not_found")
        async with self.uow_factory() as uow:
            clip = await uow.clips.get(clip_id)
        if clip is None or not may_see(principal, clip):
            raise NotFound("Clip not found.", code="clip_not_found")
        return clip


@dataclass(frozen=True, slots=True)
class ListMyClips:
    """The caller's own clips, newest first, a page at a time (cursor = last clip seen)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Clip]:
        member = principal.require_member()
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_PAGE}.", code="invalid_limit")
        async with self.uow_factory() as uow:
            return await uow.clips.list_by_contributor(member.id, before=before, limit=limit)
