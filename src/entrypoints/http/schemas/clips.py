"""Wire structs for clips, validation and the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from core.domain.clips import Clip, VoteOutcome
from core.use_cases.clips import ClipFeedback, ClipView
from core.use_cases.gold import PublishedStanding, ValidatorReport
from core.use_cases.validation import VoteReceipt


@dataclass
class ClipForm:
    """``multipart/form-data``: the recording and what it is."""

    audio: UploadFile
    language: str
    prompt: str
    clientId: UUID  # the wire name the app sends


class FeedbackOut(msgspec.Struct, rename="camel"):
    """Why a clip was not accepted or was taken down (for its contributor): the counted
    ``validVotes`` / ``invalidVotes``, how often members flagged it per reason
    (``flagReasons``), and the latest moderation ``action`` with its ``reason`` code."""

    valid_votes: int
    invalid_votes: int
    flag_reasons: dict[str, int]
    action: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None

    @classmethod
    def of(cls, feedback: ClipFeedback) -> FeedbackOut:
        return cls(
            valid_votes=feedback.valid_votes,
            invalid_votes=feedback.invalid_votes,
            flag_reasons=dict(feedback.flag_reasons),
            action=feedback.action,
            reason=feedback.reason,
            decided_at=feedback.decided_at,
        )


class ClipOut(msgspec.Struct, rename="camel"):
    """A clip. ``status`` and ``decidedAt`` (when it was accepted or rejected; null while
    pending or disputed) are shown to the contributor and moderation only (validators must
    not be able to recognise gold clips); so is ``feedback``, on clips
    rejected, disputed, flagged, hidden or removed."""

    id: UUID
    language: str
    prompt: str
    duration_ms: int
    mime_type: str
    audio_url: str
    created_at: datetime
    client_id: UUID | None = None
    status: str | None = None
    visibility: str | None = None
    valid_votes: int | None = None
    invalid_votes: int | None = None
    decided_at: datetime | None = None
    feedback: FeedbackOut | None = None

    @classmethod
    def of_view(cls, view: ClipView) -> ClipOut:
        shown = cls.of(view.clip, details=view.details)
        if view.feedback is None:
            return shown
        return msgspec.structs.replace(shown, feedback=FeedbackOut.of(view.feedback))

    @classmethod
    def of(cls, clip: Clip, *, details: bool) -> ClipOut:
        shown = cls(
            id=clip.id,
            client_id=clip.client_id if details else None,
            language=clip.language,
            prompt=clip.prompt,
            duration_ms=clip.audio.duration_ms,
            mime_type=clip.audio.mime_type,
            audio_url=f"/clips/{clip.id}/audio",
            created_at=clip.created_at,
        )
        if not details:
            return shown
        return msgspec.structs.replace(
            shown,
            status=clip.status.value,
            visibility=clip.visibility.value,
            valid_votes=clip.tally.valid_votes,
            invalid_votes=clip.tally.invalid_votes,
            decided_at=clip.decided_at if clip.status.verdict is not None else None,
        )


class ClipPage(msgspec.Struct, rename="camel"):
    items: list[ClipOut]
    next_cursor: str | None


class QueuePage(msgspec.Struct, rename="camel"):
    items: list[ClipOut]


class VoteIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    clip_id: UUID
    verdict: Literal["valid", "invalid"]


class VoteOut(msgspec.Struct, rename="camel"):
    """What a vote did. ``outcome``: ``counted`` | ``late`` (the clip was decided since it
    was served: changes and earns nothing) | ``unsolicited`` (the clip was never served to
    you by the queue: changes nothing) | ``too_fast`` (sent before the clip could have been
    heard: not counted, not paid) | ``ignored_probation`` | ``ignored_weightless``.
    ``clipStatus`` is the clip's status now as far as you may know it (null for an
    unsolicited vote); ``decided`` says whether this vote decided the clip (``accepted`` or
    ``rejected``): a vote that leaves it ``disputed`` answers ``decided: false`` (moderators
    decide disputed clips)."""

    clip_id: UUID
    outcome: str
    late: bool
    decided: bool
    clip_status: str | None

    @classmethod
    def of(cls, receipt: VoteReceipt) -> VoteOut:
        return cls(
            clip_id=receipt.clip_id,
            outcome=receipt.outcome.value,
            late=receipt.outcome in (VoteOutcome.LATE, VoteOutcome.LATE_RESERVED),
            decided=receipt.decided,
            clip_status=receipt.clip_status.value if receipt.clip_status else None,
        )


class SkipIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    clip_id: UUID


class GoldIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``verdict``: the clip's true verdict. ``decide``: required (``true``) to mark a clip
    that is not decided yet (pending or disputed) — the admin's verdict then decides it and
    pays as a consensus decision would; without it such a clip is 409 ``clip_not_decided``."""

    verdict: Literal["valid", "invalid"]
    decide: bool = False


class StandingOut(msgspec.Struct, rename="camel"):
    """A validator's live standing (admins): Dawid–Skene rates and soft counts
    (n11 said valid on valid, n01 said invalid on valid, n00 said invalid on invalid, n10 said
    valid on invalid), plain counters, and what the last refit decided and published."""

    validator_id: UUID
    sensitivity: float
    specificity: float
    informedness: float
    accuracy: float
    on_probation: bool
    established: bool
    gold_right: int
    gold_wrong: int
    consensus_agreed: int
    consensus_disagreed: int
    rushed_votes: int
    n11: float
    n01: float
    n00: float
    n10: float
    published_accuracy: float | None
    published_at: datetime | None

    @classmethod
    def of(cls, report: ValidatorReport) -> StandingOut:
        history = report.record.history
        n11, n01, n00, n10 = (round(value, 4) for value in history.confusion.as_tuple())
        return cls(
            validator_id=report.validator_id,
            sensitivity=round(report.reliability.sensitivity, 4),
            specificity=round(report.reliability.specificity, 4),
            informedness=round(report.reliability.informedness, 4),
            accuracy=round(report.accuracy, 4),
            on_probation=report.record.on_probation,
            established=report.established,
            gold_right=history.gold_right,
            gold_wrong=history.gold_wrong,
            consensus_agreed=history.consensus_agreed,
            consensus_disagreed=history.consensus_disagreed,
            rushed_votes=history.rushed_votes,
            n11=n11,
            n01=n01,
            n00=n00,
            n10=n10,
            published_accuracy=report.record.published_accuracy,
            published_at=report.record.published_at,
        )


class MyStandingOut(msgspec.Struct, rename="camel"):
    """Your standing as the last periodic refit computed it: balanced accuracy (null until
    the first refit that saw your answers), probation, and when it was computed."""

    accuracy: float | None
    on_probation: bool
    as_of: datetime | None

    @classmethod
    def of(cls, standing: PublishedStanding) -> MyStandingOut:
        return cls(
            accuracy=standing.accuracy,
            on_probation=standing.on_probation,
            as_of=standing.as_of,
        )


QueueLimit = Annotated[int, msgspec.Meta(ge=1, le=50)]
