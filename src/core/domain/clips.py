"""Clips as validation consensus sees them: status, verdicts, votes and the running tally.

Audio limits live here as constants only; checking that an upload is real audio (format
sniffed, duration read) is an adapter's job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from core.errors import Conflict, InvalidInput

MIN_AUDIO_SECONDS = 1
MAX_AUDIO_SECONDS = 15
MAX_AUDIO_BYTES = 5 * 1024 * 1024


class Verdict(StrEnum):
    """What a validator says about a clip: the recording matches its prompt, or not."""

    VALID = "valid"
    INVALID = "invalid"

    def flipped(self) -> Verdict:
        """The opposite verdict."""
        return Verdict.INVALID if self is Verdict.VALID else Verdict.VALID


class ClipStatus(StrEnum):
    """``pending`` → ``accepted`` | ``rejected`` | ``disputed``; the three others are final
    for consensus (only moderators act on a ``disputed`` clip)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DISPUTED = "disputed"

    @property
    def is_settled(self) -> bool:
        """True once consensus has nothing more to say about the clip."""
        return self is not ClipStatus.PENDING

    @property
    def verdict(self) -> Verdict | None:
        """The verdict a decided clip stands for; ``None`` while pending or disputed."""
        if self is ClipStatus.ACCEPTED:
            return Verdict.VALID
        if self is ClipStatus.REJECTED:
            return Verdict.INVALID
        return None

    @classmethod
    def deciding(cls, verdict: Verdict) -> ClipStatus:
        """The decided status that stands for ``verdict``."""
        return cls.ACCEPTED if verdict is Verdict.VALID else cls.REJECTED


class VoteOutcome(StrEnum):
    """What a vote did. Only ``counted`` votes move consensus (and may earn); every kind
    still scores the validator's accuracy once the clip's verdict is known."""

    COUNTED = "counted"
    LATE = "late"  # the clip was settled meanwhile (offline sync): changes nothing
    IGNORED_PROBATION = "ignored_probation"  # the validator is on probation: weighs nothing
    IGNORED_WEIGHTLESS = "ignored_weightless"  # under `weighted`, an accuracy of 0.5 moves nothing
    GOLD = "gold"  # a gold clip: scored against its known verdict, status untouched


@dataclass(frozen=True, slots=True)
class Vote:
    """One validator's verdict on one clip, with their standing *when the vote was cast*.

    ``accuracy`` (clamped estimate) and ``on_probation`` are snapshots, so replaying the
    same votes always rebuilds the same tally, whatever happened to the validator later.
    """

    validator_id: UUID
    verdict: Verdict
    accuracy: float
    on_probation: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.accuracy <= 1.0:
            raise InvalidInput("A vote's accuracy must lie in [0, 1].", code="invalid_accuracy")


@dataclass(frozen=True, slots=True)
class ClipTally:
    """The consensus state of one clip, cheap to store next to it and to update per vote.

    ``valid_votes`` / ``invalid_votes`` count the votes that *counted* under the policy in
    force; ``log_odds_sum`` is Σ ±log(a/(1−a)) over those same votes, without the prior (the
    prior comes from configuration, so changing it needs no data migration). Both are kept
    whatever the policy, so switching policy keeps working on existing tallies.

    A gold tally (``is_gold``) stands for a clip whose verdict is known: its status never
    changes and votes on it only score validators.
    """

    status: ClipStatus = ClipStatus.PENDING
    valid_votes: int = 0
    invalid_votes: int = 0
    log_odds_sum: float = 0.0
    is_gold: bool = False

    @property
    def counted_votes(self) -> int:
        """How many votes counted toward this clip's consensus (and its vote cap)."""
        return self.valid_votes + self.invalid_votes

    @classmethod
    def gold(cls, verdict: Verdict) -> ClipTally:
        """A gold clip set by an admin with a known ``verdict``."""
        return cls(status=ClipStatus.deciding(verdict), is_gold=True)

    def as_gold(self, verdict: Verdict) -> ClipTally:
        """Use the clip as gold with its true ``verdict``: a pending or disputed clip is
        decided by it; a decided clip keeps its status, which must already stand for
        ``verdict`` (otherwise moderation corrects it first)."""
        known = self.status.verdict
        if known is not None and known is not verdict:
            raise Conflict(
                f"The clip was decided {self.status.value}; moderate it before using it "
                "as gold with the opposite verdict.",
                code="verdict_mismatch",
            )
        return replace(self, status=ClipStatus.deciding(verdict), is_gold=True)

    def with_counted_vote(self, verdict: Verdict, log_odds: float) -> ClipTally:
        """The tally plus one counted vote of ``verdict`` carrying ``log_odds`` (≥ 0) of
        evidence; the status is left for the policy to decide."""
        if verdict is Verdict.VALID:
            return replace(
                self, valid_votes=self.valid_votes + 1, log_odds_sum=self.log_odds_sum + log_odds
            )
        return replace(
            self, invalid_votes=self.invalid_votes + 1, log_odds_sum=self.log_odds_sum - log_odds
        )


MAX_PROMPT_LENGTH = 500


class Visibility(StrEnum):
    """Moderation's say on a clip: hidden clips await review, removed ones are gone."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What inspecting an upload found: a real audio container and its duration."""

    format: str  # short name, e.g. "wav", "m4a", "ogg", "mp3", "flac"
    mime_type: str
    duration_ms: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Clip:
    """A voice clip: who recorded what, where its audio lives, and its consensus tally."""

    id: UUID
    contributor_id: UUID
    client_id: UUID
    language: str
    prompt: str
    audio_key: str
    audio: AudioInfo
    tally: ClipTally
    visibility: Visibility
    queue_rank: int
    created_at: datetime
    decided_at: datetime | None = None

    @property
    def status(self) -> ClipStatus:
        return self.tally.status

    @property
    def is_visible(self) -> bool:
        return self.visibility is Visibility.VISIBLE


def check_audio(info: AudioInfo) -> None:
    """Clips are 1–15 s of real audio and at most 5 MB."""
    if info.size_bytes > MAX_AUDIO_BYTES:
        raise InvalidInput(
            f"Audio must be at most {MAX_AUDIO_BYTES // (1024 * 1024)} MB.", code="audio_too_large"
        )
    if info.duration_ms < MIN_AUDIO_SECONDS * 1000:
        raise InvalidInput(
            f"Audio must last at least {MIN_AUDIO_SECONDS} s.", code="audio_too_short"
        )
    if info.duration_ms > MAX_AUDIO_SECONDS * 1000:
        raise InvalidInput(f"Audio must last at most {MAX_AUDIO_SECONDS} s.", code="audio_too_long")


def normalise_prompt(prompt: str) -> str:
    """The sentence that was read: 1–500 characters after collapsing whitespace."""
    text = " ".join(prompt.split())
    if not text or len(text) > MAX_PROMPT_LENGTH:
        raise InvalidInput(
            f"The prompt must be 1–{MAX_PROMPT_LENGTH} characters.", code="invalid_prompt"
        )
    return text
