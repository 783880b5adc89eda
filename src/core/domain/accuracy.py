"""How far each validator is trusted: a Beta posterior of their accuracy, probation, gold clips.

Rules:

- A validator's accuracy ``a`` is the mean of a Beta posterior: Beta(α₀, β₀) prior, plus one
  per gold answer (right → α, wrong → β), plus ``consensus_weight`` per vote on a clip
  decided by consensus (agreed → α, disagreed → β). Late votes are scored like any other.
- The estimate used anywhere is clamped to [0.5, 0.99]: below 0.5 a validator carries no
  information (we never invert an adversary's votes — that would pay for gaming), and above
  0.99 no single vote should be able to outweigh everyone else.
- Default prior Beta(4, 1): a newcomer is trusted at 0.8, so two agreeing newcomers reach
  P(valid) ≈ 0.94 < 0.95 and need a third vote, while after a single right gold answer
  (5/6 ≈ 0.83) two such validators decide. Its weight (5 answers) is light enough that 20
  gold answers at 50 % (a spammer) give 14/25 = 0.56, well under the probation floor.
- Probation: after at least 20 gold answers, an accuracy under the floor (0.7) puts a
  validator on probation — their votes weigh nothing and earn nothing. It is a pure function
  of the record, not a stored flag: the validator recovers as soon as the estimate is back
  at or above the floor.
- Gold clips (known verdict, mixed into queues at ``DEFAULT_GOLD_RATE``) never change status;
  an answer on one only scores the validator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from core.domain.clips import ClipStatus, Verdict, Vote
from core.errors import InvalidInput

MIN_ACCURACY = 0.5
MAX_ACCURACY = 0.99
DEFAULT_GOLD_RATE = 0.1


def clamp_accuracy(value: float) -> float:
    """Clamp an accuracy to [``MIN_ACCURACY``, ``MAX_ACCURACY``]."""
    return min(MAX_ACCURACY, max(MIN_ACCURACY, value))


@dataclass(frozen=True, slots=True)
class AccuracyConfig:
    """Prior, weight of consensus agreement, and probation rule."""

    prior_alpha: float = 4.0
    prior_beta: float = 1.0
    consensus_weight: float = 0.5  # a decided clip is a noisier teacher than a gold one
    probation_floor: float = 0.7
    probation_min_gold_answers: int = 20

    def __post_init__(self) -> None:
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise InvalidInput("Beta prior parameters must be > 0.", code="invalid_config")
        if not 0.0 <= self.consensus_weight <= 1.0:
            raise InvalidInput("consensus_weight must lie in [0, 1].", code="invalid_config")
        if not MIN_ACCURACY <= self.probation_floor <= MAX_ACCURACY:
            raise InvalidInput("probation_floor must lie in [0.5, 0.99].", code="invalid_config")
        if self.probation_min_gold_answers < 0:
            raise InvalidInput("probation_min_gold_answers must be ≥ 0.", code="invalid_config")


@dataclass(frozen=True, slots=True)
class ValidatorStanding:
    """What a vote needs to know about its validator at the moment it is cast."""

    accuracy: float
    on_probation: bool

    def vote(self, validator_id: UUID, verdict: Verdict) -> Vote:
        """A vote carrying this standing as its snapshot."""
        return Vote(validator_id, verdict, self.accuracy, self.on_probation)


@dataclass(frozen=True, slots=True)
class ValidatorAccuracy:
    """The answer history that feeds a validator's accuracy; integer counters only, so the
    prior can be reconfigured without touching stored data."""

    gold_right: int = 0
    gold_wrong: int = 0
    consensus_agreed: int = 0
    consensus_disagreed: int = 0

    @property
    def gold_answers(self) -> int:
        """Gold answers given so far (the probation rule waits for enough of them)."""
        return self.gold_right + self.gold_wrong

    def posterior(self, config: AccuracyConfig) -> tuple[float, float]:
        """The Beta posterior's (α, β)."""
        weight = config.consensus_weight
        alpha = config.prior_alpha + self.gold_right + weight * self.consensus_agreed
        beta = config.prior_beta + self.gold_wrong + weight * self.consensus_disagreed
        return alpha, beta

    def accuracy(self, config: AccuracyConfig) -> float:
        """Posterior mean α/(α+β), clamped to [0.5, 0.99]."""
        alpha, beta = self.posterior(config)
        return clamp_accuracy(alpha / (alpha + beta))

    def is_on_probation(self, config: AccuracyConfig) -> bool:
        """Under the floor after enough gold answers; recovers once back at the floor."""
        return (
            self.gold_answers >= config.probation_min_gold_answers
            and self.accuracy(config) < config.probation_floor
        )

    def standing(self, config: AccuracyConfig) -> ValidatorStanding:
        """Accuracy and probation, as a vote will snapshot them."""
        return ValidatorStanding(self.accuracy(config), self.is_on_probation(config))

    def after_gold_answer(self, answer: Verdict, gold: Verdict) -> ValidatorAccuracy:
        """Score an answer on a gold clip whose known verdict is ``gold``."""
        if answer is gold:
            return replace(self, gold_right=self.gold_right + 1)
        return replace(self, gold_wrong=self.gold_wrong + 1)

    def after_settled_clip(self, answer: Verdict, status: ClipStatus) -> ValidatorAccuracy:
        """Score a vote (counted, ignored or late) against the clip's consensus decision;
        a pending or disputed clip teaches nothing."""
        decided = status.verdict
        if decided is None:
            return self
        if answer is decided:
            return replace(self, consensus_agreed=self.consensus_agreed + 1)
        return replace(self, consensus_disagreed=self.consensus_disagreed + 1)
