"""Wire structs for clips, validation and the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from core.domain.clips import Clip
from core.use_cases.gold import ValidatorReport
from core.use_cases.validation import VoteReceipt


@dataclass
class ClipForm:
    """``multipart/form-data``: the recording and what it is."""

    audio: UploadFile
    language: str
    prompt: str
    clientId: UUID  # the wire name the app sends


class ClipOut(msgspec.Struct, rename="camel", omit_defaults=True):
    """A clip. ``status`` and ``decidedAt`` are shown to the contributor and moderation
    only (validators must not be able to recognise gold clips)."""

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
            decided_at=clip.decided_at,
        )


class ClipPage(msgspec.Struct, rename="camel"):
    items: list[ClipOut]
    next_cursor: str | None


class QueuePage(msgspec.Struct, rename="camel"):
    items: list[ClipOut]


class VoteIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    clip_id: UUID
    verdict: Literal["valid", "invalid"]


class VoteOut(msgspec.Struct, rename="camel", omit_defaults=True):
    """``outcome``: ``counted`` | ``late`` (decided meanwhile: changes and earns nothing) |
    ``ignored_probation`` | ``ignored_weightless`` | ``gold``-scored votes show as
    ``counted``."""

    clip_id: UUID
    outcome: str
    late: bool
    decided: bool
    clip_status: str | None = None

    @classmethod
    def of(cls, receipt: VoteReceipt) -> VoteOut:
        outcome = "counted" if receipt.outcome.value == "gold" else receipt.outcome.value
        return cls(
            clip_id=receipt.clip_id,
            outcome=outcome,
            late=receipt.outcome.value == "late",
            decided=receipt.decided_now,
            clip_status=receipt.clip_status.value if receipt.clip_status else None,
        )


class SkipIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    clip_id: UUID


class GoldIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    verdict: Literal["valid", "invalid"]


class StandingOut(msgspec.Struct, rename="camel"):
    validator_id: UUID
    accuracy: float
    on_probation: bool
    gold_right: int
    gold_wrong: int
    consensus_agreed: int
    consensus_disagreed: int

    @classmethod
    def of(cls, report: ValidatorReport) -> StandingOut:
        return cls(
            validator_id=report.validator_id,
            accuracy=round(report.accuracy, 4),
            on_probation=report.on_probation,
            gold_right=report.history.gold_right,
            gold_wrong=report.history.gold_wrong,
            consensus_agreed=report.history.consensus_agreed,
            consensus_disagreed=report.history.consensus_disagreed,
        )


QueueLimit = Annotated[int, msgspec.Meta(ge=1, le=50)]
