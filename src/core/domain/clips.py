"""Clips as validation consensus sees them: status, verdicts, votes and the running tally.

Audio limits live here as constants only; checking that an upload is real audio (format
sniffed, duration read) is an adapter's job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from core.domain.visibility import Visibility as Visibility  # re-exported: clips came first
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
    """What a vote did. Only ``counted`` votes move consensus (and may earn)."""

    COUNTED = "counted"
    LATE = "late"  # served while pending, settled before the vote arrived: changes nothing
    UNSOLICITED = "unsolicited"  # never served to the voter: recorded, changes nothing
    TOO_FAST = "too_fast"  # sooner after serving than the clip could be heard: counts against
    IGNORED_PROBATION = "ignored_probation"  # the validator is on probation: weighs nothing
    IGNORED_WEIGHTLESS = "ignored_weightless"  # the validator's vote carries no evidence
    GOLD = "gold"  # a gold clip: scored against its known verdict, status untouched
    # A gold answer whose reply said ``late`` (the clip's shadow settled since it was
    # served): scored like any gold answer, earns nothing, as a late vote would not.
    GOLD_LATE = "gold_late"
    # Settled after an offline batch reserved it for the voter, the vote within that
    # reservation: changes nothing, teaches nothing, earns if it agrees with the decision.
    LATE_RESERVED = "late_reserved"
    # Served while pending, but every vote slot left was counted or reserved for offline
    # batches by the time the vote came: changes nothing, earns nothing.
    CROWDED_OUT = "crowded_out"

    @property
    def teaches_on_settlement(self) -> bool:
        """Whether the clip's settlement teaches the voter's history: solicited, timely
        votes on a pending clip only (late, unsolicited and rushed votes never do)."""
        return self in _TEACHING_OUTCOMES

    @property
    def scores_gold_answer(self) -> bool:
        """Whether this outcome on a gold clip scores the answer against the known verdict
        at once (every timely answer that was served does; rushed and unsolicited ones not)."""
        return self in _GOLD_SCORING_OUTCOMES


_TEACHING_OUTCOMES = frozenset(
    {
        VoteOutcome.COUNTED,
        VoteOutcome.IGNORED_PROBATION,
        VoteOutcome.IGNORED_WEIGHTLESS,
        VoteOutcome.CROWDED_OUT,
    }
)
_GOLD_SCORING_OUTCOMES = frozenset(
    {VoteOutcome.GOLD, VoteOutcome.GOLD_LATE, VoteOutcome.LATE_RESERVED, VoteOutcome.CROWDED_OUT}
)


@dataclass(frozen=True, slots=True)
class Vote:
    """One validator's verdict on one clip, with what it weighs *when it is cast*.

    ``evidence`` is what the vote adds to the clip's log-odds of being valid (signed, 0 when
    it carries none); it and ``on_probation`` / ``established`` are snapshots, so replaying
    the stored votes always rebuilds the same tally, whatever happened to the validator later.
    """

    validator_id: UUID
    verdict: Verdict
    evidence: float
    on_probation: bool = False
    established: bool = True

    def __post_init__(self) -> None:
        if self.verdict is Verdict.VALID and self.evidence < 0:
            raise InvalidInput("A valid vote cannot carry evidence against.", code="invalid_vote")
        if self.verdict is Verdict.INVALID and self.evidence > 0:
            raise InvalidInput("An invalid vote cannot carry evidence for.", code="invalid_vote")


@dataclass(frozen=True, slots=True)
class ClipTally:
    """The consensus state of one clip, cheap to store next to it and to update per vote.

    ``valid_votes`` / ``invalid_votes`` count the votes that *counted*; ``log_odds_sum`` is
    the sum of their evidence; ``prior_log_odds`` is the clip's starting log-odds, fixed at its
    first counted vote (so later changes of the crowd model never move a tally);
    ``established_votes`` counts the counted votes of established validators.

    A gold tally (``is_gold``) stands for a clip whose verdict is known: its status never
    changes. Its counters then hold a *shadow* tally: what the votes on it would have done to
    a pending clip, so that a gold clip answers like any other (``Clip.shadow``).
    """

    status: ClipStatus = ClipStatus.PENDING
    valid_votes: int = 0
    invalid_votes: int = 0
    log_odds_sum: float = 0.0
    is_gold: bool = False
    prior_log_odds: float = 0.0
    established_votes: int = 0

    @property
    def counted_votes(self) -> int:
        """How many votes counted toward this clip's consensus (and its vote cap)."""
        return self.valid_votes + self.invalid_votes

    @property
    def log_odds(self) -> float:
        """The clip's log-odds of being valid: prior plus the evidence of its votes."""
        return self.prior_log_odds + self.log_odds_sum

    @classmethod
    def gold(cls, verdict: Verdict) -> ClipTally:
        """A gold clip set by an admin with a known ``verdict``."""
        return cls(status=ClipStatus.deciding(verdict), is_gold=True)

    def as_gold(self, verdict: Verdict) -> ClipTally:
        """Use the clip as gold with its true ``verdict``: a pending or disputed clip is
        decided by it; a decided clip keeps its status, which must already stand for
        ``verdict`` (otherwise moderation corrects it first). The counters start over as the
        shadow tally."""
        known = self.status.verdict
        if known is not None and known is not verdict:
            raise Conflict(
                f"The clip was decided {self.status.value}; moderate it before using it "
                "as gold with the opposite verdict.",
                code="verdict_mismatch",
            )
        return ClipTally.gold(verdict)

    def with_counted_vote(self, vote: Vote) -> ClipTally:
        """The tally plus one counted ``vote``; the status is left for the policy to decide."""
        established = self.established_votes + (1 if vote.established else 0)
        if vote.verdict is Verdict.VALID:
            return replace(
                self,
                valid_votes=self.valid_votes + 1,
                log_odds_sum=self.log_odds_sum + vote.evidence,
                established_votes=established,
            )
        return replace(
            self,
            invalid_votes=self.invalid_votes + 1,
            log_odds_sum=self.log_odds_sum + vote.evidence,
            established_votes=established,
        )

    def reset_counts(self) -> ClipTally:
        """The same status with no votes counted (a gold clip's shadow starting over)."""
        return ClipTally(status=self.status, is_gold=self.is_gold)


MAX_PROMPT_LENGTH = 500


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
    shadow_status: ClipStatus | None = None
    shadow_settled_at: datetime | None = None
    audio_sha256: str | None = None  # content hash: repeated audio is flagged for review

    @property
    def status(self) -> ClipStatus:
        return self.tally.status

    @property
    def shadow(self) -> ClipTally:
        """For a gold clip: its counters as the tally of a pending clip, which votes on it
        move as they would move any pending clip's (so its answers look like any other)."""
        return replace(self.tally, status=ClipStatus.PENDING, is_gold=False)

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
