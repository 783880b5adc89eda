"""Use case of the consensus model: its periodic batch refit."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.consensus_refit import plan_refit
from core.domain.validation import ValidationRules
from core.ports.clock import Clock
from core.ports.consensus_model import ConsensusModelStore


@dataclass(frozen=True, slots=True)
class RefitSummary:
    """What a refit did: validators re-estimated, EM iterations, and the new crowd model."""

    validators: int
    iterations: int
    answers: int
    sensitivity: float
    specificity: float
    valid_share: float
    on_probation: int


@dataclass(frozen=True, slots=True)
class RefitConsensusModel:
    """Re-fit every validator's confusion counts by batch EM over the settled history (gold
    answers clamped to their truth), refresh the crowd model (the priors' centres and the
    valid share π), decide probation, and publish each member's rounded standing.

    Rules: reads one consistent snapshot and merges its result so that whatever was learned
    online meanwhile is kept (``core.domain.consensus_refit``); settled clips never change
    (only validators' counts and the model do). Run by one worker at a time (the worker's
    periodic-task lease); running it again on the same history changes the counts only as
    far as the refreshed priors move them.
    """

    store: ConsensusModelStore
    clock: Clock
    rules: ValidationRules
    max_iterations: int = 50

    async def __call__(self) -> RefitSummary:
        snapshot = await self.store.snapshot()
        plan = plan_refit(
            snapshot, self.rules.accuracy, self.clock.now(), max_iterations=self.max_iterations
        )
        await self.store.apply(snapshot, plan)
        return RefitSummary(
            validators=len(plan.counts),
            iterations=plan.iterations,
            answers=len(snapshot.answers),
            sensitivity=plan.model.sensitivity,
            specificity=plan.model.specificity,
            valid_share=plan.model.valid_share,
            on_probation=sum(plan.on_probation.values()),
        )
