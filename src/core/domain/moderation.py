"""Moderation: flags, the review queue, moderators' decisions and what each decision does.

Rules:
- members flag a clip, a live chat message, a live stream or a profile with a reason allowed
  for that kind of target (and an optional note of at most 500 characters); never their own;
  one open flag per reporter and target;
- a flag *counts* unless its reporter is on validation probation; Chorus's own flags (repeated
  audio, bursts of activity) never count. When the open counting flags of a visible target
  reach the threshold (default 3 distinct reporters) the target is hidden pending review — a
  decision of the system, in the audit log like any other;
- a target with open flags is an open *case* in the moderators' queue until a decision closes
  it; the decision settles its open flags (``dismissed`` when the reports were unfounded,
  ``upheld`` otherwise);
- moderators and admins decide; nobody decides on their own content or account; nobody
  suspends or bans an admin, and a moderator not another moderator; lifting a ban is for
  admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID

from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.visibility import Visibility
from core.errors import Conflict, InvalidInput, PermissionDenied

DEFAULT_FLAG_THRESHOLD = 3
MAX_NOTE_LENGTH = 500
MAX_PREVIEW_LENGTH = 200


class TargetType(StrEnum):
    CLIP = "clip"
    LIVE_MESSAGE = "live_message"
    LIVE_STREAM = "live_stream"
    PROFILE = "profile"


class FlagReason(StrEnum):
    OFFENSIVE = "offensive"
    WRONG_LANGUAGE = "wrong_language"
    DOES_NOT_MATCH_PROMPT = "does_not_match_prompt"
    PERSONAL_INFORMATION = "personal_information"
    NOISE_OR_SILENCE = "noise_or_silence"
    HARASSMENT = "harassment"
    SPAM = "spam"
    IMPERSONATION = "impersonation"
    OTHER = "other"
    # Raised by Chorus itself (fraud defences), never by members.
    REPEATED_AUDIO = "repeated_audio"
    UPLOAD_BURST = "upload_burst"
    VOTE_BURST = "vote_burst"


#: The reasons members may give, per kind of target.
MEMBER_REASONS: Mapping[TargetType, frozenset[FlagReason]] = MappingProxyType(
    {
        TargetType.CLIP: frozenset(
            {
                FlagReason.OFFENSIVE,
                FlagReason.WRONG_LANGUAGE,
                FlagReason.DOES_NOT_MATCH_PROMPT,
                FlagReason.PERSONAL_INFORMATION,
                FlagReason.NOISE_OR_SILENCE,
                FlagReason.OTHER,
            }
        ),
        TargetType.LIVE_MESSAGE: frozenset(
            {
                FlagReason.OFFENSIVE,
                FlagReason.HARASSMENT,
                FlagReason.SPAM,
                FlagReason.PERSONAL_INFORMATION,
                FlagReason.OTHER,
            }
        ),
        TargetType.LIVE_STREAM: frozenset(
            {
                FlagReason.OFFENSIVE,
                FlagReason.HARASSMENT,
                FlagReason.SPAM,
                FlagReason.WRONG_LANGUAGE,
                FlagReason.PERSONAL_INFORMATION,
                FlagReason.OTHER,
            }
        ),
        TargetType.PROFILE: frozenset(
            {
                FlagReason.OFFENSIVE,
                FlagReason.IMPERSONATION,
                FlagReason.SPAM,
                FlagReason.PERSONAL_INFORMATION,
                FlagReason.OTHER,
            }
        ),
    }
)
AUTOMATIC_REASONS = frozenset(
    {FlagReason.REPEATED_AUDIO, FlagReason.UPLOAD_BURST, FlagReason.VOTE_BURST}
)


@dataclass(frozen=True, slots=True, order=True)
class TargetRef:
    """Which thing a flag or decision is about."""

    type: TargetType
    id: UUID

    def __str__(self) -> str:
        return f"{self.type.value}:{self.id}"


@dataclass(frozen=True, slots=True)
class Target:
    """What moderation sees of a target: whose it is, whether members see it, a short
    preview for moderators, and for a stream whether it is live."""

    ref: TargetRef
    owner_id: UUID
    visibility: Visibility
    preview: str = ""
    live: bool = False


class FlagStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # a decision found the reports unfounded
    UPHELD = "upheld"  # a decision acted on the target or its owner


@dataclass(frozen=True, slots=True)
class Flag:
    """One report. ``reporter_id`` is ``None`` for Chorus's own (automatic) flags."""

    id: UUID
    target: TargetRef
    reporter_id: UUID | None
    reason: FlagReason
    note: str | None
    counts: bool
    status: FlagStatus
    created_at: datetime

    @property
    def automatic(self) -> bool:
        return self.reporter_id is None


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    cleaned = " ".join(note.split())
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A note is at most {MAX_NOTE_LENGTH} characters.", code="invalid_note")
    return cleaned or None


def member_flag(
    *,
    flag_id: UUID,
    reporter: Profile,
    target: Target,
    reason: str,
    note: str | None,
    reporter_on_probation: bool,
    now: datetime,
) -> Flag:
    """A member's flag: a reason allowed for the kind of target, never on one's own content
    or profile; it counts toward hiding unless the reporter is on probation."""
    allowed = MEMBER_REASONS[target.ref.type]
    try:
        chosen = FlagReason(reason)
    except ValueError:
        chosen = None
    if chosen not in allowed:
        raise InvalidInput(
            f"A {target.ref.type.value} is flagged as one of: "
            f"{', '.join(sorted(r.value for r in allowed))}.",
            code="invalid_reason",
        )
    assert chosen is not None
    if target.owner_id == reporter.id:
        raise PermissionDenied("You cannot flag your own content.", code="own_content")
    return Flag(
        id=flag_id,
        target=target.ref,
        reporter_id=reporter.id,
        reason=chosen,
        note=_note(note),
        counts=not reporter_on_probation,
        status=FlagStatus.OPEN,
        created_at=now,
    )


def automatic_flag(
    *, flag_id: UUID, target: TargetRef, reason: FlagReason, note: str, now: datetime
) -> Flag:
    """Chorus's own flag (fraud defences): it opens a case for review and never counts
    toward hiding."""
    if reason not in AUTOMATIC_REASONS:
        raise InvalidInput(f"{reason} is a member's reason.", code="invalid_reason")
    return Flag(
        id=flag_id,
        target=target,
        reporter_id=None,
        reason=reason,
        note=_note(note[:MAX_NOTE_LENGTH]),
        counts=False,
        status=FlagStatus.OPEN,
        created_at=now,
    )


def reaches_threshold(target: Target, counting_reporters: int, threshold: int) -> bool:
    """Hide a visible target once this many distinct reporters who count flagged it."""
    return target.visibility is Visibility.VISIBLE and counting_reporters >= threshold


# -- decisions -----------------------------------------------------------------------------


class Action(StrEnum):
    DISMISS = "dismiss"
    HIDE = "hide"
    RESTORE = "restore"
    REMOVE = "remove"
    SUSPEND_USER = "suspend_user"
    BAN_USER = "ban_user"


class DecisionReason(StrEnum):
    """Why a decision was taken: a stable code the member is told."""

    OFFENSIVE = "offensive"
    WRONG_LANGUAGE = "wrong_language"
    DOES_NOT_MATCH_PROMPT = "does_not_match_prompt"
    PERSONAL_INFORMATION = "personal_information"
    NOISE_OR_SILENCE = "noise_or_silence"
    HARASSMENT = "harassment"
    SPAM = "spam"
    IMPERSONATION = "impersonation"
    REPEATED_AUDIO = "repeated_audio"
    FRAUD = "fraud"
    TERMS_VIOLATION = "terms_violation"
    REPORT_UNFOUNDED = "report_unfounded"
    APPEAL_GRANTED = "appeal_granted"
    MISTAKE = "mistake"
    OTHER = "other"
    FLAG_THRESHOLD = "flag_threshold"  # the system's hide; not for moderators


class ActorKind(StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"
    SERVICE = "service"
    SYSTEM = "system"  # Chorus itself (the flag threshold)


class StreamEnding(StrEnum):
    NONE = "none"
    TARGET = "target"  # the stream the decision is about
    ALL_OF_MEMBER = "all_of_member"  # every live stream of the target's owner


@dataclass(frozen=True, slots=True)
class Effects:
    """What a decision changes, all in the decision's transaction. ``None`` leaves a value
    as it is."""

    visibility: Visibility | None = None
    member_status: ProfileStatus | None = None
    clear_display_name: bool = False
    reverse_earnings: bool = False
    end_streams: StreamEnding = StreamEnding.NONE
    freeze_payouts: bool = False
    deactivate_devices: bool = False
    flags_become: FlagStatus = FlagStatus.UPHELD

    @property
    def touches_owner(self) -> bool:
        """Whether the owner would notice: their content or account changed."""
        return (
            self.visibility is not None
            or self.member_status is not None
            or self.clear_display_name
            or self.end_streams is not StreamEnding.NONE
        )


def actor_kind(principal: Principal) -> ActorKind:
    if principal.is_service:
        return ActorKind.SERVICE
    return ActorKind.ADMIN if principal.role is Role.ADMIN else ActorKind.MODERATOR


def decision_reason(reason: str) -> DecisionReason:
    """A reason code moderators may give (the system's own is refused)."""
    try:
        chosen = DecisionReason(reason)
    except ValueError:
        chosen = None
    if chosen is None or chosen is DecisionReason.FLAG_THRESHOLD:
        allowed = sorted(r.value for r in DecisionReason if r is not DecisionReason.FLAG_THRESHOLD)
        raise InvalidInput(
            f"The reason is one of: {', '.join(allowed)}.", code="invalid_decision_reason"
        )
    return chosen


def _check_actor(action: Action, target: Target, owner: Profile, actor: Principal) -> None:
    if actor.is_service:
        return
    if actor.profile_id == owner.id:
        raise PermissionDenied(
            "Moderators do not decide on their own content or account.", code="own_case"
        )
    sanctions = action in {Action.SUSPEND_USER, Action.BAN_USER}
    if sanctions and owner.role is Role.ADMIN:
        raise PermissionDenied("An admin cannot be suspended or banned.", code="target_is_admin")
    if sanctions and owner.role is Role.MODERATOR and actor.role is not Role.ADMIN:
        raise PermissionDenied(
            "Only an admin suspends or bans a moderator.", code="target_is_moderator"
        )
    lifts_ban = (
        action is Action.RESTORE
        and target.ref.type is TargetType.PROFILE
        and owner.status is ProfileStatus.BANNED
    )
    if lifts_ban and actor.role is not Role.ADMIN:
        raise PermissionDenied("Only an admin lifts a ban.", code="admin_required")


def plan_decision(
    action: Action, target: Target, owner: Profile, actor: Principal, *, auto_hidden: bool
) -> Effects:
    """What ``action`` on ``target`` (owned by ``owner``) does, after checking that ``actor``
    may take it. ``auto_hidden``: the target is hidden because flags reached the threshold
    (a dismissal then shows it again; a moderator's own hide it leaves alone)."""
    _check_actor(action, target, owner, actor)
    removed = target.visibility is Visibility.REMOVED
    if action is Action.DISMISS:
        shown = auto_hidden and target.visibility is Visibility.HIDDEN
        return Effects(
            visibility=Visibility.VISIBLE if shown else None, flags_become=FlagStatus.DISMISSED
        )
    if action is Action.HIDE:
        if removed:
            raise Conflict("The target was removed; restore it first.", code="already_removed")
        hidden = target.visibility is Visibility.HIDDEN
        return Effects(visibility=None if hidden else Visibility.HIDDEN)
    if action is Action.RESTORE:
        return _restore(target, owner)
    if action is Action.REMOVE:
        if removed:
            raise Conflict("The target was removed already.", code="already_removed")
        return _remove(target)
    if owner.status is ProfileStatus.BANNED:
        raise Conflict("The member is banned already.", code="already_banned")
    if action is Action.SUSPEND_USER:
        if owner.status is ProfileStatus.SUSPENDED:
            raise Conflict("The member is suspended already.", code="already_suspended")
        return Effects(member_status=ProfileStatus.SUSPENDED)
    return Effects(
        member_status=ProfileStatus.BANNED,
        end_streams=StreamEnding.ALL_OF_MEMBER,
        freeze_payouts=True,
        deactivate_devices=True,
    )


def _restore(target: Target, owner: Profile) -> Effects:
    visibility = None if target.visibility is Visibility.VISIBLE else Visibility.VISIBLE
    status = None
    if target.ref.type is TargetType.PROFILE and owner.status is not ProfileStatus.ACTIVE:
        status = ProfileStatus.ACTIVE
    if visibility is None and status is None:
        raise Conflict("There is nothing to restore.", code="nothing_to_restore")
    return Effects(visibility=visibility, member_status=status, flags_become=FlagStatus.DISMISSED)


def _remove(target: Target) -> Effects:
    kind = target.ref.type
    if kind is TargetType.PROFILE:
        # A profile is not deleted: its public name goes (the member may choose another,
        # screened like any name) and it is shown again.
        return Effects(
            visibility=None if target.visibility is Visibility.VISIBLE else Visibility.VISIBLE,
            clear_display_name=True,
        )
    return Effects(
        visibility=Visibility.REMOVED,
        reverse_earnings=kind is TargetType.CLIP,
        end_streams=StreamEnding.TARGET
        if kind is TargetType.LIVE_STREAM and target.live
        else StreamEnding.NONE,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """One entry of the append-only audit log. ``actor_id`` is ``None`` for the service
    identity and for the system; ``summary`` records what the decision changed (visibility
    and status before and after, earnings reversed, streams ended, payouts frozen, devices
    switched off) with ids and counts only."""

    id: UUID
    target: TargetRef
    owner_id: UUID
    action: Action
    reason: DecisionReason
    note: str | None
    actor_id: UUID | None
    actor_kind: ActorKind
    created_at: datetime
    summary: Mapping[str, Any] = field(default_factory=dict)


def decision_note(note: str | None) -> str | None:
    """A moderator's note for the audit log (never shown to the member): at most 500
    characters."""
    return _note(note)


def public_name(profile: Profile) -> str | None:
    """The name others see: none while moderation hides the profile."""
    return profile.display_name if profile.visibility is Visibility.VISIBLE else None


def preview(text: str | None) -> str:
    """A short preview of a target's text for moderators."""
    cleaned = " ".join((text or "").split())
    return cleaned[:MAX_PREVIEW_LENGTH]
