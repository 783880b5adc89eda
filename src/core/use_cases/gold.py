"""Admin tools of validation: gold clips and validators' standing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from uuid import UUID

from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import Clip, Verdict
from core.domain.identity import Principal, Role, ensure_role
from core.domain.rewards import RewardRules
from core.domain.validation import (
    ValidationRules,
    accuracy_deltas_for_settled_clip,
    clip_decided,
)
from core.errors import NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.rewards import post_decision_rewards


@dataclass(frozen=True, slots=True)
class MarkGold:
    """An admin marks a clip as gold with its true verdict.

    Rules: admins (or the service identity) only; the clip must be visible. A pending or
    disputed clip is decided by the admin's verdict (its voters are scored and
    ``clip.decided`` is recorded and its rewards are posted, as for a consensus decision); a
    decided clip keeps its status and the verdict must match it (otherwise moderate it
    first). Marking twice is harmless.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: ValidationRules
    rewards: RewardRules = field(default_factory=RewardRules)

    async def __call__(self, principal: Principal, clip_id: UUID, verdict: Verdict) -> Clip:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            clip = await uow.clips.get_for_update(clip_id)
            if clip is None or not clip.is_visible:
                raise NotFound("Clip not found.", code="clip_not_found")
            now = self.clock.now()
            tally = clip.tally.as_gold(verdict)
            decided_now = clip.status.verdict is None  # pending or disputed until now
            decided_at = now if decided_now else clip.decided_at
            await uow.clips.save_tally(clip.id, tally, 0, decided_at)
            if decided_now:
                votes = await uow.votes.for_clip(clip.id)
                await uow.validator_stats.add(accuracy_deltas_for_settled_clip(votes, tally.status))
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
    """An admin stops using a clip as gold; its status stays as it is."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, clip_id: UUID) -> Clip:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            clip = await uow.clips.get_for_update(clip_id)
            if clip is None:
                raise NotFound("Clip not found.", code="clip_not_found")
            tally = replace(clip.tally, is_gold=False)
            await uow.clips.save_tally(clip.id, tally, clip.queue_rank, clip.decided_at)
            await uow.commit()
        return replace(clip, tally=tally)


@dataclass(frozen=True, slots=True)
class ValidatorReport:
    validator_id: UUID
    history: ValidatorAccuracy
    accuracy: float
    on_probation: bool


@dataclass(frozen=True, slots=True)
class GetValidatorStanding:
    """A validator's accuracy estimate, answer counts and probation state. Admins and
    moderators may read anyone's; members their own."""

    uow_factory: Callable[[], UnitOfWork]
    rules: ValidationRules

    async def __call__(self, principal: Principal, validator_id: UUID) -> ValidatorReport:
        if principal.profile_id != validator_id:
            ensure_role(principal, Role.ADMIN, Role.MODERATOR)
        async with self.uow_factory() as uow:
            if await uow.profiles.get(validator_id) is None:
                raise NotFound("No such member.", code="profile_not_found")
            history = await uow.validator_stats.get(validator_id)
        standing = history.standing(self.rules.accuracy)
        return ValidatorReport(validator_id, history, standing.accuracy, standing.on_probation)
