"""Use cases about recording clips and reading them back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.clips import (
    MAX_AUDIO_BYTES,
    Clip,
    ClipStatus,
    ClipTally,
    Visibility,
    check_audio,
    normalise_prompt,
)
from core.domain.consensus import distance_to_decision
from core.domain.events import DomainEvent
from core.domain.fraud import SignalKind, audio_fingerprint
from core.domain.identity import Principal, Role, ensure_may_write, normalise_language
from core.domain.moderation import FlagReason, Target, TargetRef, TargetType
from core.domain.validation import ValidationRules
from core.errors import InvalidInput, NotFound
from core.ports.audio import AudioInspector
from core.ports.blobs import BlobStore
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.screening import TextScreener
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.flagging import file_automatic_flag
from core.use_cases.fraud_signals import record_fraud_signal
from core.use_cases.screening import ensure_screened

MAX_PAGE = 100
MAX_REPEATS_NOTED = 5


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
    characters and passes screening in that language (422 ``content_blocked``); the audio is
    real audio (format sniffed, duration read), 1–15 s, at most 5 MB. The same ``client_id``
    again returns the first clip and stores nothing new (phones retry uploads). The audio is
    stored before the row, so a row never points at missing audio; a lost race deletes the
    extra copy. The audio's SHA-256 is kept with the clip: audio identical to an earlier
    clip's (from the same member or another) is flagged for review (``repeated_audio``) and
    is a fraud signal.
    """

    uow_factory: Callable[[], UnitOfWork]
    blobs: BlobStore
    inspector: AudioInspector
    clock: Clock
    ids: IdGenerator
    rules: ValidationRules
    screener: TextScreener

    async def __call__(self, principal: Principal, upload: ClipUpload) -> SubmittedClip:
        member = principal.require_member()
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            existing = await uow.clips.by_client_id(member.id, upload.client_id)
        if existing is not None:
            return SubmittedClip(existing, created=False)
        language = normalise_language(upload.language)
        prompt = normalise_prompt(upload.prompt)
        await ensure_screened(self.screener, prompt, language=language, what="prompt")
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
            # Among clips with no vote every rank is the same; each vote recomputes it with
            # the crowd model in force.
            queue_rank=distance_to_decision(tally, self.rules.policy),
            created_at=now,
            audio_sha256=audio_fingerprint(upload.audio),
        )
        await self.blobs.put(clip.audio_key, upload.audio, info.mime_type)
        try:
            async with self.uow_factory() as uow:
                if await uow.clips.add_if_absent(clip):
                    uow.record(_submitted(self.ids.new_id(), clip))
                    await self._flag_repeated_audio(uow, clip)
                    await uow.commit()
                    return SubmittedClip(clip, created=True)
                winner = await uow.clips.by_client_id(member.id, upload.client_id)
        except BaseException:
            await self.blobs.delete(clip.audio_key)
            raise
        await self.blobs.delete(clip.audio_key)
        assert winner is not None
        return SubmittedClip(winner, created=False)

    async def _flag_repeated_audio(self, uow: UnitOfWork, clip: Clip) -> None:
        earlier = await uow.clips.with_same_audio(clip, limit=MAX_REPEATS_NOTED)
        if not earlier:
            return
        first = earlier[0]
        others = sorted({c.contributor_id for c in earlier} - {clip.contributor_id})
        note = f"Same audio as {len(earlier)} earlier clip(s), first {first.id}" + (
            f", from {len(others)} other member(s)" if others else ", all by this member"
        )
        target = Target(
            TargetRef(TargetType.CLIP, clip.id), clip.contributor_id, clip.visibility, clip.prompt
        )
        now = clip.created_at
        await file_automatic_flag(
            uow, target, FlagReason.REPEATED_AUDIO, note, now=now, ids=self.ids
        )
        await record_fraud_signal(
            uow,
            profile_id=clip.contributor_id,
            kind=SignalKind.REPEATED_AUDIO,
            detail={"clipId": str(clip.id), "earlierClipId": str(first.id),
                    "otherMembers": len(others)},
            now=now,
            ids=self.ids,
        )  # fmt: skip


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
        async with self.uow_factory() as uow:
            return await _seen_by(principal, uow, clip_id)


async def _seen_by(principal: Principal, uow: UnitOfWork, clip_id: UUID) -> Clip:
    """The clip, or "not found" when it does not exist or the caller may not see it."""
    clip = None
    if principal.profile is not None or principal.is_service:
        clip = await uow.clips.get(clip_id)
    if clip is None or not may_see(principal, clip):
        raise NotFound("Clip not found.", code="clip_not_found")
    return clip


@dataclass(frozen=True, slots=True)
class ClipFeedback:
    """What a contributor learns about a clip that was not accepted or was taken down: its
    counted votes, how often it was flagged for each reason, and the latest moderation
    decision about it (action and reason code) — so that speakers learn what to fix."""

    valid_votes: int
    invalid_votes: int
    flag_reasons: Mapping[str, int]
    action: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClipView:
    """A clip as the caller may see it: ``details`` (status, votes) for its contributor and
    moderation only; ``feedback`` for them when the clip was rejected, disputed, flagged,
    hidden or removed."""

    clip: Clip
    details: bool
    feedback: ClipFeedback | None = None


def _wants_feedback(clip: Clip) -> bool:
    return clip.status in {ClipStatus.REJECTED, ClipStatus.DISPUTED} or not clip.is_visible


async def _views(uow: UnitOfWork, clips: Sequence[Clip], *, details: bool) -> list[ClipView]:
    if not details:
        return [ClipView(clip, details=False) for clip in clips]
    refs = [TargetRef(TargetType.CLIP, clip.id) for clip in clips]
    reasons = await uow.flags.reasons_for(refs) if refs else {}
    decisions = await uow.decisions.latest_for(refs) if refs else {}
    views = []
    for clip, ref in zip(clips, refs, strict=True):
        flagged, decision = reasons.get(ref, {}), decisions.get(ref)
        if not (flagged or decision or _wants_feedback(clip)):
            views.append(ClipView(clip, details=True))
            continue
        feedback = ClipFeedback(
            valid_votes=clip.tally.valid_votes,
            invalid_votes=clip.tally.invalid_votes,
            flag_reasons={reason.value: n for reason, n in sorted(flagged.items())},
            action=decision.action.value if decision else None,
            reason=decision.reason.value if decision else None,
            decided_at=decision.created_at if decision else None,
        )
        views.append(ClipView(clip, details=True, feedback=feedback))
    return views


@dataclass(frozen=True, slots=True)
class ViewClip:
    """Read one clip as the caller may see it: unknown clips and clips the caller may not
    see are both "not found"; the contributor (and moderation) also get its status, votes
    and, for a clip not accepted or taken down, the feedback (votes, flag reasons, the latest
    moderation decision)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, clip_id: UUID) -> ClipView:
        async with self.uow_factory() as uow:
            clip = await _seen_by(principal, uow, clip_id)
            (view,) = await _views(uow, [clip], details=may_see_details(principal, clip))
        return view


@dataclass(frozen=True, slots=True)
class ListMyClips:
    """The caller's own clips, newest first, a page at a time (cursor = last clip seen), with
    the feedback on clips not accepted or taken down (see ``ViewClip``)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[ClipView]:
        member = principal.require_member()
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_PAGE}.", code="invalid_limit")
        async with self.uow_factory() as uow:
            clips = await uow.clips.list_by_contributor(member.id, before=before, limit=limit)
            return await _views(uow, clips, details=True)
