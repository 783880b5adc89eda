"""Use cases of validation: vote, skip, read the queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from core.domain.accuracy import ValidatorAccuracy, ValidatorStanding
from core.domain.clips import Clip, ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import VoteResult, cast_vote, distance_to_decision
from core.domain.dawid_skene import CrowdModel
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, ensure_may_write, normalise_language
from core.domain.reservations import NO_RESERVATIONS, ReservedSlots
from core.domain.rewards import RewardRules
from core.domain.validation import (
    MAX_QUEUE_PAGE,
    Admission,
    ValidationRules,
    VoteRecord,
    VoteTarget,
    admit_vote,
    clip_decided,
    gold_slots,
    heard_in_time,
    lessons_of_settled_clip,
    valid_probability,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.randomness import RandomSource
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.rewards import (
    post_decision_rewards,
    post_gold_round_rewards,
    post_reserved_vote_reward,
)


@dataclass(frozen=True, slots=True)
class VoteReceipt:
    """What a vote did, as its validator may know it: ``outcome`` (``counted``, ``late``,
    ``late_reserved``, ``unsolicited``, ``too_fast``, ``crowded_out``, ``ignored_probation``
    or ``ignored_weightless``), the clip's status now (``None`` for an unsolicited vote: the
    voter was never shown the clip) and whether this vote settled it. Gold clips answer
    exactly like pending ones."""

    clip_id: UUID
    outcome: VoteOutcome
    clip_status: ClipStatus | None
    decided_now: bool

    @property
    def decided(self) -> bool:
        """This vote decided the clip: it settled it as ``accepted`` or ``rejected``. A vote
        that leaves the clip ``disputed`` ends consensus (``decided_now``) without deciding
        it — moderators do."""
        return (
            self.decided_now
            and self.clip_status is not None
            and (self.clip_status.verdict is not None)
        )


@dataclass(frozen=True, slots=True)
class _Applied:
    """What applying a vote did: the reply, the outcome to store, and the tally of a clip
    this vote settled."""

    receipt: VoteReceipt
    outcome: VoteOutcome
    settled: ClipTally | None = None


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
    clip is decided exactly once.

    A vote counts (for the decision, for accuracy and for pay) only on a clip that was served
    to this validator while pending and is still pending: otherwise it is recorded as
    ``unsolicited`` (never served) or ``late`` (settled meanwhile) and changes nothing. A vote
    sooner after serving than ``min_listen_fraction`` of the clip's duration is ``too_fast``:
    recorded, not counted, not paid, and counted against the validator.

    A counted vote adds its evidence (from the validator's standing under the policy) to the
    tally; when it settles the clip, every solicited, timely vote teaches its validator, a
    ``clip.decided`` event is recorded and the rewards are posted in the same transaction.

    Offline batches reserve vote slots (``core.domain.reservations``): a vote without a
    reservation counts only while counted votes and others' holding reservations leave a
    slot (else ``crowded_out``: changes and earns nothing). A vote within its reservation
    draws on the validator's listening clock instead of the serving time (``too_fast`` when
    ahead of it); on a clip settled meanwhile it is ``late_reserved``: it changes and teaches
    nothing but earns ``validation_agreed`` at once when it agrees with the decision. Any vote
    uses up the voter's reservation.

    On a gold clip the answer scores the validator against the known verdict and never
    changes the clip; the reply is what the same vote would have done to a pending clip (the
    clip's shadow tally), and when that shadow settles, its round's right answers are paid
    like agreeing votes. So a gold clip cannot be told apart by the reply or by the pay.
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
            receipt = await self.cast_in(uow, member, clip_id, verdict)
            await uow.commit()
        return receipt

    async def cast_in(
        self, uow: UnitOfWork, member: Profile, clip_id: UUID, verdict: Verdict
    ) -> VoteReceipt:
        """The vote, applied in the caller's unit of work (which commits it): moderation's
        "no and report" casts its ``invalid`` vote in the flag's transaction."""
        target = await uow.clips.get_for_vote(clip_id, member.id)
        clip = _visible_clip(target.clip if target else None)
        assert target is not None
        _not_own(member, clip, "validate")
        record, model = await uow.validator_stats.get_with_model(member.id)
        standing = record.standing(self.rules.accuracy, model)
        now = self.clock.now()
        vote = self._vote(member.id, verdict, standing, target)
        slots = await self._slots(uow, target, member.id, now)
        if clip.tally.is_gold:
            applied = await self._on_gold(uow, target, slots, vote, model, now)
        else:
            applied = await self._on_clip(uow, target, slots, vote, model, now)
        receipt = applied.receipt
        stored = VoteRecord(
            id=self.ids.new_id(),
            clip_id=clip.id,
            validator_id=member.id,
            verdict=verdict,
            outcome=applied.outcome,
            evidence=vote.evidence,
            accuracy=standing.reliability.balanced_accuracy,
            on_probation=standing.on_probation,
            established=vote.established,
            created_at=now,
        )
        if not await uow.votes.add_if_absent(stored):
            raise Conflict("You already validated this clip.", code="already_voted")
        if slots.own_holding(now) is not None:
            await uow.reservations.mark_used(member.id, clip.id, now)
        await uow.validator_stats.add(_immediate_lesson(clip, stored))
        if applied.settled is not None:
            await self._settle(uow, clip, applied.settled, now)
        if receipt.decided_now and clip.tally.is_gold:
            round_votes = await uow.votes.for_clip(clip.id, after=clip.shadow_settled_at)
            await post_gold_round_rewards(
                uow,
                clip=clip,
                votes=[v for v in round_votes if self.rules.policy.counts(v.as_vote())],
                settled_at=now,
                ids=self.ids,
                rules=self.rewards,
            )
        if applied.outcome is VoteOutcome.LATE_RESERVED:
            await self._pay_reserved(uow, clip, stored, now)
        uow.record(self._vote_event(stored, clip, receipt.outcome))
        return receipt

    async def _slots(
        self, uow: UnitOfWork, target: VoteTarget, validator_id: UUID, now: datetime
    ) -> ReservedSlots:
        """Reservations are read only for a clip they may still hold slots on."""
        if not target.may_be_reserved(now):
            return NO_RESERVATIONS
        return await uow.reservations.for_vote(target.clip.id, validator_id, now)

    async def _admit(
        self,
        uow: UnitOfWork,
        target: VoteTarget,
        slots: ReservedSlots,
        tally: ClipTally,
        settled: bool,
        now: datetime,
    ) -> Admission:
        own = slots.own_holding(now)
        clock = await uow.reservations.lock_listening_clock(own.validator_id) if own else None
        admission = admit_vote(
            tally=tally,
            settled=settled,
            serving=target.serving,
            slots=slots,
            clock=clock,
            duration_ms=target.clip.audio.duration_ms,
            now=now,
            rules=self.rules,
        )
        if own is not None and admission.listened_until is not None:
            await uow.reservations.set_listening_clock(own.validator_id, admission.listened_until)
        return admission

    def _vote(
        self, validator_id: UUID, verdict: Verdict, standing: ValidatorStanding, target: VoteTarget
    ) -> Vote:
        return Vote(
            validator_id=validator_id,
            verdict=verdict,
            evidence=self.rules.policy.evidence(verdict, standing),
            on_probation=standing.on_probation,
            established=standing.established or not target.language_has_gold,
        )

    async def _on_clip(
        self,
        uow: UnitOfWork,
        target: VoteTarget,
        slots: ReservedSlots,
        vote: Vote,
        model: CrowdModel,
        now: datetime,
    ) -> _Applied:
        clip, policy = target.clip, self.rules.policy
        admission = await self._admit(uow, target, slots, clip.tally, clip.status.is_settled, now)
        barred = admission.barred
        if barred is not None:
            shown = None if barred is VoteOutcome.UNSOLICITED else clip.status
            return _Applied(VoteReceipt(clip.id, barred, shown, False), barred)
        result = cast_vote(clip.tally, vote, policy, policy.prior_log_odds(model))
        if result.outcome is VoteOutcome.COUNTED:
            rank = distance_to_decision(result.tally, policy, model)
            decided_at = now if result.settled_now else None
            await uow.clips.save_tally(clip.id, result.tally, rank, decided_at)
        receipt = VoteReceipt(clip.id, result.outcome, result.tally.status, result.settled_now)
        return _Applied(receipt, result.outcome, result.tally if result.settled_now else None)

    async def _on_gold(
        self,
        uow: UnitOfWork,
        target: VoteTarget,
        slots: ReservedSlots,
        vote: Vote,
        model: CrowdModel,
        now: datetime,
    ) -> _Applied:
        """Score the answer; reply as the clip's shadow would (a pending clip that was
        served, settled by others in the meantime, or moved by this vote)."""
        clip, serving = target.clip, target.serving
        # Served before the shadow last settled: a pending clip would have been decided
        # meanwhile.
        settled = (
            serving is not None
            and clip.shadow_settled_at is not None
            and serving.served_at < clip.shadow_settled_at
        )
        admission = await self._admit(uow, target, slots, clip.shadow, settled, now)
        barred = admission.barred
        if barred is VoteOutcome.UNSOLICITED:
            return _Applied(VoteReceipt(clip.id, barred, None, False), barred)
        if barred is VoteOutcome.LATE:
            # The reply says late; the answer still scores (or counts against, if rushed).
            assert serving is not None
            fraction = self.rules.min_listen_fraction
            rushed = not heard_in_time(serving, clip.audio.duration_ms, now, fraction)
            late = VoteReceipt(clip.id, VoteOutcome.LATE, clip.shadow_status, False)
            return _Applied(late, VoteOutcome.TOO_FAST if rushed else VoteOutcome.GOLD_LATE)
        if barred is not None:
            shown = clip.shadow_status if settled else ClipStatus.PENDING
            return _Applied(VoteReceipt(clip.id, barred, shown, False), barred)
        policy = self.rules.policy
        shadow: VoteResult = cast_vote(clip.shadow, vote, policy, policy.prior_log_odds(model))
        if shadow.outcome is VoteOutcome.COUNTED:
            settled_now = (shadow.tally.status, now) if shadow.settled_now else None
            counters = shadow.tally.reset_counts() if shadow.settled_now else shadow.tally
            await uow.clips.save_shadow(clip.id, counters, settled_now)
        receipt = VoteReceipt(clip.id, shadow.outcome, shadow.tally.status, shadow.settled_now)
        return _Applied(receipt, VoteOutcome.GOLD)

    async def _pay_reserved(
        self, uow: UnitOfWork, clip: Clip, stored: VoteRecord, now: datetime
    ) -> None:
        """A late vote within its reservation earns as it would have before the decision (on
        a gold clip: against the known verdict, as of the shadow's settlement)."""
        decided_at = clip.shadow_settled_at if clip.tally.is_gold else clip.decided_at
        await post_reserved_vote_reward(
            uow,
            clip=clip,
            vote=stored,
            status=clip.status,
            decided_at=decided_at or now,
            paid_at=now,
            ids=self.ids,
            rules=self.rewards,
        )

    async def _settle(self, uow: UnitOfWork, clip: Clip, tally: ClipTally, now: datetime) -> None:
        votes = await uow.votes.for_clip(clip.id)
        status = tally.status
        q = valid_probability(tally)
        await uow.validator_stats.add(lessons_of_settled_clip(votes, status, q))
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

    def _vote_event(self, record: VoteRecord, clip: Clip, shown: VoteOutcome) -> DomainEvent:
        """The outcome the voter was shown, never ``gold``: analytics must not learn which
        clips are gold either."""
        return DomainEvent(
            id=self.ids.new_id(),
            name="validation.submitted",
            occurred_at=record.created_at,
            payload={
                "clipId": str(clip.id),
                "profileId": str(record.validator_id),
                "language": clip.language,
                "outcome": shown.value,
            },
        )


def _immediate_lesson(clip: Clip, record: VoteRecord) -> dict[UUID, ValidatorAccuracy]:
    """Gold answers (served, timely: also late within a reservation or crowded out) and
    rushed votes teach the voter's history at once; other votes wait for the clip's
    settlement (late, late-reserved and unsolicited ones teach nothing, ever)."""
    fresh = ValidatorAccuracy()
    known = clip.status.verdict
    if clip.tally.is_gold and record.outcome.scores_gold_answer and known is not None:
        return {record.validator_id: fresh.after_gold_answer(record.verdict, known)}
    if record.outcome is VoteOutcome.TOO_FAST:
        return {record.validator_id: fresh.after_rushed_vote(record.verdict)}
    return {}


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
    closest to a decision first, then oldest; gold clips mixed in at random positions,
    indistinguishable from the rest, at the rate the caller's standing calls for
    (``ValidationRules.gold_serving``: more for newcomers, only gold for a validator whose
    votes carry no information). Every clip on the page is recorded as served to the caller
    (a vote counts only on a clip served to its voter). Suspended members may not validate.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    random: RandomSource
    rules: ValidationRules

    async def __call__(self, principal: Principal, language: str, limit: int) -> list[Clip]:
        member = principal.require_member()
        ensure_may_write(member)
        if not 1 <= limit <= MAX_QUEUE_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_QUEUE_PAGE}.", code="invalid_limit")
        wanted_language = normalise_language(language)
        async with self.uow_factory() as uow:
            now = self.clock.now()
            page = await clips_to_serve(
                uow,
                member.id,
                wanted_language,
                limit,
                now=now,
                ids=self.ids,
                random=self.random,
                rules=self.rules,
            )
            if page:
                await uow.servings.record(member.id, [clip.id for clip in page], now)
                await uow.commit()
        return page


async def clips_to_serve(
    uow: UnitOfWork,
    validator_id: UUID,
    language: str,
    size: int,
    *,
    now: datetime,
    ids: IdGenerator,
    random: RandomSource,
    rules: ValidationRules,
) -> list[Clip]:
    """Up to ``size`` clips for the validator, as the queue picks them (``NextQueuePage``):
    gold at the share the validator's standing calls for, at random positions among the
    pending clips closest to a decision. Offline batches pick theirs the same way."""
    record, model = await uow.validator_stats.get_with_model(validator_id)
    serving = rules.gold_serving(record.standing(rules.accuracy, model))
    gold_wanted = size if serving.only_gold else gold_slots(size, serving.share, random.random())
    cap = rules.policy.config.vote_cap
    gold = await uow.clip_queue.gold(
        validator_id, language, gold_wanted, pivot=ids.new_id(), now=now, vote_cap=cap
    )
    pending = (
        []
        if serving.only_gold
        else await uow.clip_queue.pending(
            validator_id, language, size - len(gold), now=now, vote_cap=cap
        )
    )
    page = list(pending)
    for clip in gold:
        page.insert(int(random.random() * (len(page) + 1)), clip)
    return page
