"""Use cases of moderation: members flag, moderators read the queue and decide, admins read
the audit log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.clips import Verdict
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, Role, ensure_may_write, ensure_role
from core.domain.moderation import (
    DEFAULT_FLAG_THRESHOLD,
    Action,
    Decision,
    Flag,
    Target,
    TargetRef,
    TargetType,
    actor_kind,
    decision_note,
    decision_reason,
    member_flag,
    plan_decision,
)
from core.domain.visibility import Visibility
from core.errors import Conflict, InvalidInput, NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.moderation import QueueItem
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.flagging import file_flag
from core.use_cases.moderation_effects import apply_effects
from core.use_cases.validation import SubmitVote, VoteReceipt

MAX_PAGE = 100


def target_ref(target_type: str, target_id: UUID) -> TargetRef:
    try:
        kind = TargetType(target_type)
    except ValueError:
        raise InvalidInput(
            f"targetType is one of: {', '.join(t.value for t in TargetType)}.",
            code="invalid_target_type",
        ) from None
    return TargetRef(kind, target_id)


def _target_not_found() -> NotFound:
    return NotFound("Nothing to moderate with that type and id.", code="target_not_found")


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1–{MAX_PAGE}.", code="invalid_limit")


# -- flags ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagCommand:
    """A member's report. ``also_vote``: "no and report" — the flag on a clip also casts
    this vote (only ``invalid``)."""

    target_type: str
    target_id: UUID
    reason: str
    note: str | None = None
    also_vote: Verdict | None = None


@dataclass(frozen=True, slots=True)
class FlagReceipt:
    """The flag; the vote it cast (``vote``) or why none was cast (``vote_refused``, e.g.
    ``already_voted``); and whether this flag hid the target pending review."""

    flag: Flag
    vote: VoteReceipt | None = None
    vote_refused: str | None = None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class CreateFlag:
    """A member flags a clip, a live chat message, a live stream or a profile.

    Rules: active members only (403 otherwise); the target must exist and be shown (404
    ``target_not_found``); the reason must be one allowed for the kind of target (422
    ``invalid_reason``), the note at most 500 characters; never one's own content (403
    ``own_content``); one open flag per reporter and target (409 ``already_flagged``). A flag
    from a member on validation probation is recorded but counts for nothing. When distinct
    reporters whose flags count reach the threshold (default 3), the target is hidden pending
    review (it leaves every queue and listing at once) — exactly once, however many flags
    arrive together.

    A flag on a clip also takes it out of the reporter's queue. ``also_vote: invalid`` casts
    that vote through the validation rules in the same transaction ("no and report": one
    request); a reporter who already voted keeps that vote (``vote_refused:
    already_voted``), and a vote on a clip never served to the reporter is ``unsolicited``.
    The flag and its vote are kept together or not at all. Records ``flag.created``.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    voting: SubmitVote
    threshold: int = DEFAULT_FLAG_THRESHOLD

    async def __call__(self, principal: Principal, command: FlagCommand) -> FlagReceipt:
        member = principal.require_member()
        ensure_may_write(member)
        ref = target_ref(command.target_type, command.target_id)
        if command.also_vote is not None and (
            ref.type is not TargetType.CLIP or command.also_vote is not Verdict.INVALID
        ):
            raise InvalidInput(
                "alsoVote is for clips only, and only 'invalid'.", code="invalid_also_vote"
            )
        async with self.uow_factory() as uow:
            target = await uow.moderation_targets.lock(ref)
            if target is None or target.visibility is not Visibility.VISIBLE:
                raise _target_not_found()
            record = await uow.validator_stats.get(member.id)
            now = self.clock.now()
            flag = member_flag(
                flag_id=self.ids.new_id(),
                reporter=member,
                target=target,
                reason=command.reason,
                note=command.note,
                reporter_on_probation=record.on_probation,
                now=now,
            )
            vote, refused = None, None
            if ref.type is TargetType.CLIP:
                vote, refused = await self._out_of_queue(uow, member, ref.id, command.also_vote)
            filed = await file_flag(
                uow, flag, target, now=now, ids=self.ids, threshold=self.threshold
            )
            if not filed.created:
                raise Conflict("You already flagged this.", code="already_flagged")
            uow.record(self._event(flag, filed.hidden))
            await uow.commit()
        return FlagReceipt(flag, vote, refused, filed.hidden)

    async def _out_of_queue(
        self, uow: UnitOfWork, member: Profile, clip_id: UUID, verdict: Verdict | None
    ) -> tuple[VoteReceipt | None, str | None]:
        """Take the clip out of the reporter's queue: by their vote, or else by a skip."""
        voted = any(v.validator_id == member.id for v in await uow.votes.for_clip(clip_id))
        if verdict is not None and voted:
            return None, "already_voted"
        if verdict is not None:
            return await self.voting.cast_in(uow, member, clip_id, verdict), None
        if not voted:
            await uow.skips.add(member.id, clip_id, self.clock.now())
        return None, None

    def _event(self, flag: Flag, hidden: bool) -> DomainEvent:
        return DomainEvent(
            id=self.ids.new_id(),
            name="flag.created",
            occurred_at=flag.created_at,
            payload={
                "flagId": str(flag.id),
                "reporterId": str(flag.reporter_id),
                "targetType": flag.target.type.value,
                "targetId": str(flag.target.id),
                "reason": flag.reason.value,
                "counts": flag.counts,
                "hidTarget": hidden,
            },
        )


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: tuple[QueueItem, ...]
    next: tuple[datetime, UUID] | None


@dataclass(frozen=True, slots=True)
class ReadModerationQueue:
    """The moderators' queue: every target with open flags or hidden pending review, oldest
    first, with how many flags and distinct counting reporters, the reasons and the latest
    notes. Moderators and admins only (403)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> QueuePage:
        ensure_role(principal, Role.MODERATOR, Role.ADMIN)
        _check_limit(limit)
        async with self.uow_factory() as uow:
            items = tuple(await uow.moderation_cases.queue(after=after, limit=limit + 1))
        page = items[:limit]
        more = len(items) > limit
        last = page[-1].case if more and page else None
        return QueuePage(page, (last.opened_at, last.id) if last else None)


# -- decisions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionCommand:
    target_type: str
    target_id: UUID
    action: str
    reason: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DecideModeration:
    """A moderator or admin decides about a flagged (or any) target.

    Rules: moderators and admins only (403 ``role_required``); ``reason`` is a decision reason
    code; nobody decides on their own content or account (403 ``own_case``); nobody suspends
    or bans an admin (403 ``target_is_admin``), only admins a moderator (403
    ``target_is_moderator``), only admins lift a ban. Actions:

    - ``dismiss``: the reports were unfounded; a target the flags had hidden is shown again;
    - ``hide`` / ``restore``: hidden from members / shown again (``restore`` on a profile also
      lifts the member's suspension or ban);
    - ``remove``: gone for good; a clip's earnings still pending are reversed through the
      ledger (released ones stay), a live stream is ended; on a profile its public name is
      cleared;
    - ``suspend_user``: the owner becomes read-only — no votes, uploads or payouts (payouts in
      flight are held until the member is active again);
    - ``ban_user``: the owner can do nothing; their live streams end, their payouts are
      frozen (one in flight that has not reached the provider stays held until an admin
      decides), their devices are switched off.

    Every effect, the decision's entry in the append-only audit log, the settlement of the
    target's open flags and the closing of its case happen in one transaction: all or
    nothing. The owner is told (``moderation.decided``: feed and push, with the reason code)
    whenever their content or account changed.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, command: DecisionCommand) -> Decision:
        ensure_role(principal, Role.MODERATOR, Role.ADMIN)
        ref = target_ref(command.target_type, command.target_id)
        try:
            action = Action(command.action)
        except ValueError:
            raise InvalidInput(
                f"action is one of: {', '.join(a.value for a in Action)}.",
                code="invalid_action",
            ) from None
        reason = decision_reason(command.reason)
        note = decision_note(command.note)
        async with self.uow_factory() as uow:
            target, owner = await self._lock(uow, ref)
            case = await uow.moderation_cases.get(ref)
            auto_hidden = case is not None and case.is_open and case.auto_hidden
            effects = plan_decision(action, target, owner, principal, auto_hidden=auto_hidden)
            now, decision_id = self.clock.now(), self.ids.new_id()
            summary = await apply_effects(
                uow,
                effects,
                target=target,
                owner=owner,
                actor=principal,
                memo=f"moderation {decision_id}: {action.value} ({reason.value})",
                now=now,
                ids=self.ids,
            )
            settled = await uow.flags.settle(ref, effects.flags_become, now)
            await uow.moderation_cases.close(target, now, self.ids.new_id())
            decision = Decision(
                id=decision_id,
                target=ref,
                owner_id=owner.id,
                action=action,
                reason=reason,
                note=note,
                actor_id=principal.profile_id,
                actor_kind=actor_kind(principal),
                created_at=now,
                summary={**summary, "flagsSettled": settled},
            )
            await uow.decisions.append(decision)
            if effects.touches_owner:
                uow.record(self._event(decision))
            await uow.commit()
        return decision

    async def _lock(self, uow: UnitOfWork, ref: TargetRef) -> tuple[Target, Profile]:
        """The target, then its owner's profile, both locked (always in that order)."""
        target = await uow.moderation_targets.lock(ref)
        if target is None:
            raise _target_not_found()
        if ref.type is not TargetType.PROFILE:
            await uow.moderation_targets.lock(TargetRef(TargetType.PROFILE, target.owner_id))
        owner = await uow.profiles.get(target.owner_id)
        if owner is None:  # pragma: no cover - content always has an owner (foreign keys)
            raise _target_not_found()
        return target, owner

    def _event(self, decision: Decision) -> DomainEvent:
        return DomainEvent(
            id=self.ids.new_id(),
            name="moderation.decided",
            occurred_at=decision.created_at,
            payload={
                "decisionId": str(decision.id),
                "profileId": str(decision.owner_id),
                "targetType": decision.target.type.value,
                "targetId": str(decision.target.id),
                "action": decision.action.value,
                "reason": decision.reason.value,
            },
        )


# -- the audit log -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which page: before a cursor, at most ``limit``; about one target (both its type and
    id) or one member, when given."""

    before: tuple[datetime, UUID] | None = None
    limit: int = 50
    target_type: str | None = None
    target_id: UUID | None = None
    member_id: UUID | None = None

    def target(self) -> TargetRef | None:
        if self.target_type is None and self.target_id is None:
            return None
        if self.target_type is None or self.target_id is None:
            raise InvalidInput("targetType and targetId go together.", code="invalid_target")
        return target_ref(self.target_type, self.target_id)


@dataclass(frozen=True, slots=True)
class ReadModerationAudit:
    """The audit log of every decision (moderators', admins', the service's and the
    system's threshold hides), newest first, optionally about one target or one member.
    Admins only (403): it names who decided what."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, query: AuditQuery) -> Sequence[Decision]:
        ensure_role(principal, Role.ADMIN)
        _check_limit(query.limit)
        target = query.target()
        async with self.uow_factory() as uow:
            return await uow.decisions.page(
                before=query.before, limit=query.limit, target=target, member_id=query.member_id
            )
