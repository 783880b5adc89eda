"""Admin tools of validation: gold clips and validators' standing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from core.domain.accuracy import ValidatorRecord
from core.domain.clips import Clip, Verdict
from core.domain.dawid_skene import Reliability
from core.domain.identity import Principal, Role, ensure_role
from core.domain.rewards import RewardRules
from core.domain.validation import (
    ValidationRules,
    clip_decided,
    lessons_of_settled_clip,
    tally_of_counted_votes,
)
from core.errors import Conflict, NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.rewards import post_decision_rewards


@dataclass(frozen=True, slots=True)
class MarkGold:
    """An admin marks a clip as gold with its true verdict.

    Rules: admins (or the service identity) only; the clip must be visible. A decided clip
    keeps its status and the verdict must match it (otherwise moderate it first). A clip not
    decided yet (pending or disputed) is refused (``Conflict`` ``clip_not_decided``) unless
    the admin explicitly ``decide``s it: then the admin's verdict decides it (its voters are
    taught with certainty, ``clip.decided`` is recorded and its rewards are posted — the
    contributor is paid for a valid clip — as for a consensus decision). Marking gold never
    pays anyone by accident. The clip's counters start over as its shadow tally. Marking
    twice is harmless.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: ValidationRules
    rewards: RewardRules = field(default_factory=RewardRules)

    async def __call__(
        self, principal: Principal, clip_id: UUID, verdict: Verdict, *, decide: bool = False
    ) -> Clip:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            clip = await uow.clips.get_for_update(clip_id)
            if clip is None or not clip.is_visible:
                raise NotFound("Clip not found.", code="clip_not_found")
            decided_now = clip.status.verdict is None  # pending or disputed until now
            if decided_now and not decide:
                raise Conflict(
                    f"The clip is {clip.status.value}, not decided: wait for consensus, or send "
                    '"decide": true to decide it with this verdict (which pays as a decision).',
                    code="clip_not_decided",
                    clip_status=clip.status.value,
                )
            now = self.clock.now()
            tally = clip.tally.as_gold(verdict)
            decided_at = now if decided_now else clip.decided_at
            await uow.clips.save_tally(clip.id, tally, 0, decided_at)
            if decided_now:
                votes = await uow.votes.for_clip(clip.id)
                certainty = 1.0 if verdict is Verdict.VALID else 0.0
                await uow.validator_stats.add(
                    lessons_of_settled_clip(votes, tally.status, certainty)
                )
                uow.record(clip_decided(self.ids.new_id(), clip, tally.status, votes, now, "admin"))
                await post_decision_rewards(
                    uow,
                    clip=clip,
                    status=tally.status,
                    votes=votes,
                    decided_at=now,
                    ids=self.ids,
                    rules=self.rewards,
                )
            await uow.commit()
        return replace(clip, tally=tally, queue_rank=0, decided_at=decided_at)


@dataclass(frozen=True, slots=True)
class UnmarkGold:
    """An admin stops using a clip as gold; its status stays as it is and its counters go
    back from the shadow tally to its counted votes."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, clip_id: UUID) -> Clip:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            clip = await uow.clips.get_for_update(clip_id)
            if clip is None:
                raise NotFound("Clip not found.", code="clip_not_found")
            votes = await uow.votes.for_clip(clip.id)
            tally = tally_of_counted_votes(clip.status, votes)
            await uow.clips.save_tally(clip.id, tally, clip.queue_rank, clip.decided_at)
            await uow.commit()
        return replace(clip, tally=tally)


@dataclass(frozen=True, slots=True)
class ValidatorReport:
    """Everything known about a validator's trust, for admins."""

    validator_id: UUID
    record: ValidatorRecord
    reliability: Reliability
    accuracy: float  # the legacy single-number estimate
    established: bool


@dataclass(frozen=True, slots=True)
class GetValidatorStanding:
    """A validator's live history, rates, probation and establishment. Admins (and the
    service identity) only: a member reading their own live counters could tell which of
    their answers were on gold clips."""

    uow_factory: Callable[[], UnitOfWork]
    rules: ValidationRules

    async def __call__(self, principal: Principal, validator_id: UUID) -> ValidatorReport:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            if await uow.profiles.get(validator_id) is None:
                raise NotFound("No such member.", code="profile_not_found")
            record, model = await uow.validator_stats.get_with_model(validator_id)
        standing = record.standing(self.rules.accuracy, model)
        return ValidatorReport(
            validator_id=validator_id,
            record=record,
            reliability=standing.reliability,
            accuracy=standing.accuracy,
            established=standing.established,
        )


@dataclass(frozen=True, slots=True)
class PublishedStanding:
    """What a member sees of their own standing: as of the last refit, rounded."""

    accuracy: float | None
    on_probation: bool
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class GetMyStanding:
    """A member's own standing as the last periodic refit published it: balanced accuracy
    rounded to two digits and probation, with when they were computed. Never the live
    counters, so that no single answer's effect can be read off."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal) -> PublishedStanding:
        member = principal.require_member()
        async with self.uow_factory() as uow:
            record = await uow.validator_stats.get(member.id)
        return PublishedStanding(
            accuracy=record.published_accuracy,
            on_probation=record.on_probation,
            as_of=record.published_at,
        )
