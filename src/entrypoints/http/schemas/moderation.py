"""Wire structs of moderation: flags, the queue, decisions and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from core.domain.clips import Verdict
from core.domain.moderation import Decision
from core.ports.moderation import QueueItem
from core.use_cases.moderation import DecisionCommand, FlagCommand, FlagReceipt
from entrypoints.http.schemas.clips import VoteOut

TargetTypeName = Literal["clip", "live_message", "live_stream", "profile"]
ActionName = Literal["dismiss", "hide", "restore", "remove", "suspend_user", "ban_user"]


class FlagIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``reason`` for clips: ``offensive``, ``wrong_language``, ``does_not_match_prompt``,
    ``personal_information``, ``noise_or_silence``, ``other``; for chat messages:
    ``offensive``, ``harassment``, ``spam``, ``personal_information``, ``other``; for
    streams: those and ``wrong_language``; for profiles: ``offensive``, ``impersonation``,
    ``spam``, ``personal_information``, ``other``. ``alsoVote: invalid`` ("no and report")
    also votes on the clip."""

    target_type: TargetTypeName
    target_id: UUID
    reason: str
    note: str | None = None
    also_vote: Literal["invalid"] | None = None

    def to_command(self) -> FlagCommand:
        return FlagCommand(
            target_type=self.target_type,
            target_id=self.target_id,
            reason=self.reason,
            note=self.note,
            also_vote=Verdict(self.also_vote) if self.also_vote else None,
        )


class FlagOut(msgspec.Struct, rename="camel"):
    """The flag as recorded. ``counts``: false when its reporter is on probation;
    ``hidTarget``: this flag took the target past the threshold; ``vote``: what the
    ``alsoVote`` did, or ``voteRefused`` (``already_voted``) when no vote was cast."""

    id: UUID
    target_type: str
    target_id: UUID
    reason: str
    status: str
    counts: bool
    created_at: datetime
    hid_target: bool
    vote: VoteOut | None = None
    vote_refused: str | None = None

    @classmethod
    def of(cls, receipt: FlagReceipt) -> FlagOut:
        flag = receipt.flag
        return cls(
            id=flag.id,
            target_type=flag.target.type.value,
            target_id=flag.target.id,
            reason=flag.reason.value,
            status=flag.status.value,
            counts=flag.counts,
            created_at=flag.created_at,
            hid_target=receipt.hidden,
            vote=VoteOut.of(receipt.vote) if receipt.vote else None,
            vote_refused=receipt.vote_refused,
        )


class QueueItemOut(msgspec.Struct, rename="camel"):
    """An open case: the target now (``visibility``, a ``preview`` of its text), its open
    flags (``openFlags``, ``countingReporters``, ``reasons`` with counts, the latest
    ``notes``) and since when it waits (``openedAt``)."""

    case_id: UUID
    target_type: str
    target_id: UUID
    owner_id: UUID
    visibility: str
    hidden_by_flags: bool
    preview: str
    opened_at: datetime
    open_flags: int
    counting_reporters: int
    reasons: dict[str, int]
    notes: list[str]

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemOut:
        case = item.case
        return cls(
            case_id=case.id,
            target_type=case.target.type.value,
            target_id=case.target.id,
            owner_id=case.owner_id,
            visibility=item.visibility.value,
            hidden_by_flags=case.auto_hidden,
            preview=item.preview,
            opened_at=case.opened_at,
            open_flags=item.open_flags,
            counting_reporters=item.counting_reporters,
            reasons={reason.value: count for reason, count in item.reasons.items()},
            notes=list(item.notes),
        )


class QueuePageOut(msgspec.Struct, rename="camel"):
    items: list[QueueItemOut]
    next_cursor: str | None


class DecisionIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``reason``: ``offensive``, ``wrong_language``, ``does_not_match_prompt``,
    ``personal_information``, ``noise_or_silence``, ``harassment``, ``spam``,
    ``impersonation``, ``repeated_audio``, ``fraud``, ``terms_violation``,
    ``report_unfounded``, ``appeal_granted``, ``mistake`` or ``other`` — the code the member
    is told. ``note`` (≤ 500 characters) stays in the audit log."""

    target_type: TargetTypeName
    target_id: UUID
    action: ActionName
    reason: str
    note: str | None = None

    def to_command(self) -> DecisionCommand:
        return DecisionCommand(
            target_type=self.target_type,
            target_id=self.target_id,
            action=self.action,
            reason=self.reason,
            note=self.note,
        )


class DecisionOut(msgspec.Struct, rename="camel"):
    """One audit-log entry. ``actorKind``: ``moderator``, ``admin``, ``service`` or
    ``system`` (the flag threshold); ``summary``: what changed, ids and counts only."""

    id: UUID
    target_type: str
    target_id: UUID
    owner_id: UUID
    action: str
    reason: str
    note: str | None
    actor_id: UUID | None
    actor_kind: str
    created_at: datetime
    summary: dict[str, Any]

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            id=decision.id,
            target_type=decision.target.type.value,
            target_id=decision.target.id,
            owner_id=decision.owner_id,
            action=decision.action.value,
            reason=decision.reason.value,
            note=decision.note,
            actor_id=decision.actor_id,
            actor_kind=decision.actor_kind.value,
            created_at=decision.created_at,
            summary=dict(decision.summary),
        )


class AuditPageOut(msgspec.Struct, rename="camel"):
    items: list[DecisionOut]
    next_cursor: str | None
