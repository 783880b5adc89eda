"""Use cases of validation: vote, skip, read the queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import Clip, ClipStatus, Verdict, VoteOutcome
from core.domain.consensus import cast_vote, distance_to_decision
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, ensure_may_write, normalise_language
from core.domain.rewards import RewardRules
from core.domain.validation import (
    MAX_QUEUE_PAGE,
    ValidationRules,
    VoteRecord,
    accuracy_deltas_for_settled_clip,
    clip_decided,
    gold_slots,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.randomness import RandomSource
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.rewards import post_decision_rewards


@dataclass(frozen=True, slots=True)
class VoteReceipt:
    """What a vote did: ``counted`` (moved consensus), ``late`` (the clip was decided
    meanwhile: changes nothing, earns nothing), or ignored; and the clip's status now."""

    clip_id: UUID
    outcome: VoteOutcome
    clip_status: ClipStatus | None  # None when the caller may not know it (gold clips)
    decided_now: bool


def _visible_clip(clip: Clip | None) -> Clip:
    if clip is None or not clip.is_visible:
        raise NotFound("Clip not found.", code="clip_not_found")
    return clip


def _not_own(member: Profile, clip: Clip, action: str) -> None:
    if clip.contributor_id == member.id:
        raise PermissionDenied(f"You cannot {action} your own clip.", code="own_clip")


@dataclass(frozen=True, slots=True)
class SubmitVote:
    """A validator says a clip is ``valid`` or ``invalid``.

    Rules: active members only; one vote per validator per clip (a second is a conflict);
    never on one's own clip; hidden or removed clips are not found. The clip row is locked
    while the vote is applied, so simultaneous votes are applied one after the other and a
    clip is decided exactly once. A vote on a clip decided meanwhile is recorded as
    ``late``. Votes on gold clips score the validator against the known verdict and never
    change the clip. When a vote decides a clip, every vote on it scores its validator's
    accuracy and a ``clip.decided`` event is recorded, and its rewards are posted in the
    same transaction (``core.use_cases.rewards.post_decision_rewards``).
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: ValidationRules
    rewards: RewardRules = field(default_factory=RewardRules)

    async def __call__(self, principal: Principal, clip_id: UUID, verdict: Verdict) -> VoteReceipt:
        member = principal.require_member()
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            clip = _visible_clip(await uow.clips.get_for_update(clip_id))
            _not_own(member, clip, "validate")
            history = await uow.validator_stats.get(member.id)
            standing = history.standing(self.rules.accuracy)
            result = cast_vote(clip.tally, standing.vote(member.id, verdict), self.rules.policy)
            now = self.clock.now()
            record = VoteRecord(
                id=self.ids.new_id(),
                clip_id=clip.id,
                validator_id=member.id,
                verdict=verdict,
                outcome=result.outcome,
                accuracy=standing.accuracy,
                on_probation=standing.on_probation,
                created_at=now,
            )
            if not await uow.votes.add_if_absent(record):
                raise Conflict("You already validated this clip.", code="already_voted")
            await uow.validator_stats.add(self._scoring(clip, record))
            if result.outcome is VoteOutcome.COUNTED:
                decided_at = now if result.settled_now else None
                rank = distance_to_decision(result.tally, self.rules.policy)
                await uow.clips.save_tally(clip.id, result.tally, rank, decided_at)
            if result.settled_now:
                votes = await uow.votes.for_clip(clip.id)
                status = result.tally.status
                await uow.validator_stats.add(accuracy_deltas_for_settled_clip(votes, status))
                uow.record(clip_decided(self.ids.new_id(), clip, status, votes, now))
                await post_decision_rewards(
                    uow,
                    clip=clip,
                    status=status,
                    votes=votes,
                    decided_at=now,
                    ids=self.ids,
                    rules=self.rewards,
                )
            uow.record(self._vote_event(record, clip))
            await uow.commit()
        shown = None if clip.tally.is_gold else result.tally.status
        return VoteReceipt(clip.id, result.outcome, shown, result.settled_now)

    def _scoring(self, clip: Clip, record: VoteRecord) -> dict[UUID, ValidatorAccuracy]:
        """Gold answers and late votes score the voter at once; other votes wait for the
        clip's decision."""
        known = clip.tally.status.verdict
        fresh = ValidatorAccuracy()
        if record.outcome is VoteOutcome.GOLD and known is not None:
            return {record.validator_id: fresh.after_gold_answer(record.verdict, known)}
        if record.outcome is VoteOutcome.LATE:
            scored = fresh.after_settled_clip(record.verdict, clip.tally.status)
            return {record.validator_id: scored} if scored != fresh else {}
        return {}

    def _vote_event(self, record: VoteRecord, clip: Clip) -> DomainEvent:
        return DomainEvent(
            id=self.ids.new_id(),
            name="validation.submitted",
            occurred_at=record.created_at,
            payload={
                "clipId": str(clip.id),
                "profileId": str(record.validator_id),
                "language": clip.language,
                "outcome": record.outcome.value,
            },
        )


@dataclass(frozen=True, slots=True)
class SkipClip:
    """A validator passes on a clip: recorded (it leaves their queue), not a vote.
    Skipping twice is the same as once; one's own clip cannot be skipped."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, clip_id: UUID) -> None:
        member = principal.require_member()
        ensure_may_write(member)
        async with self.uow_factory() as uow:
            clip = _visible_clip(await uow.clips.get(clip_id))
            _not_own(member, clip, "skip")
            await uow.skips.add(member.id, clip.id, self.clock.now())
            await uow.commit()


@dataclass(frozen=True, slots=True)
class NextQueuePage:
    """The next clips for a validator to judge in one language.

    Rules: pending, visible clips, not the caller's own, not already voted on or skipped;
    closest to a decision first, then oldest; gold clips mixed in at the configured rate, at
    random positions, indistinguishable from the rest. Suspended members may not validate.
    """

    uow_factory: Callable[[], UnitOfWork]
    ids: IdGenerator
    random: RandomSource
    rules: ValidationRules

    async def __call__(self, principal: Principal, language: str, limit: int) -> list[Clip]:
        member = principal.require_member()
        ensure_may_write(member)
        if not 1 <= limit <= MAX_QUEUE_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_QUEUE_PAGE}.", code="invalid_limit")
        wanted_language = normalise_language(language)
        gold_wanted = gold_slots(limit, self.rules.gold_rate, self.random.random())
        async with self.uow_factory() as uow:
            gold = await uow.clip_queue.gold(
                member.id, wanted_language, gold_wanted, pivot=self.ids.new_id()
            )
            pending = await uow.clip_queue.pending(member.id, wanted_language, limit - len(gold))
        page = list(pending)
        for clip in gold:
            page.insert(int(self.random.random() * (len(page) + 1)), clip)
        return page
