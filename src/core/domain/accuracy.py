"""How far each validator is trusted: their answer history, their standing when they vote,
probation, and when they are established.

Rules:

- A validator's history (``ValidatorAccuracy``) holds the Dawid–Skene confusion counts
  (``core.domain.dawid_skene``) and plain counters for operators: gold answers right and
  wrong, votes agreeing or not with a decided clip, rushed votes.
- What teaches the history: a gold answer (1 to the right cell at once); a clip settled by
  consensus (q = P(valid) to each voter whose vote was solicited and in time); a rushed vote
  (counted as a wrong answer at once). Late and unsolicited votes teach nothing — otherwise
  anyone could farm accuracy by voting on clips already decided.
- The standing a vote snapshots (``ValidatorStanding``) is read against the crowd model:
  sensitivity and specificity, and for the legacy ``weighted`` policy one accuracy number
  (Beta(4, 1) posterior mean over the plain counters, clamped to [0.5, 0.99]).
- Probation: after at least ``probation_min_gold_answers`` gold answers, a balanced accuracy
  (s + p)/2 under ``probation_floor`` puts a validator on probation: their votes weigh nothing
  and earn nothing. It is decided by the periodic refit and stored with the history, so it
  changes at most once per refit and no single answer's effect shows at once; the validator
  recovers at the first refit that finds them back at or above the floor.
- Established: a validator with at least ``established_gold_answers`` gold answers. Where a
  language has gold clips, a clip is decided only with at least one established vote, so a
  handful of fresh accounts cannot decide a clip among themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from core.domain.clips import ClipStatus, Verdict
from core.domain.dawid_skene import ConfusionCounts, CrowdModel, Reliability
from core.errors import InvalidInput

MIN_ACCURACY = 0.5
MAX_ACCURACY = 0.99
DEFAULT_GOLD_RATE = 0.1


def clamp_accuracy(value: float) -> float:
    """Clamp an accuracy to [``MIN_ACCURACY``, ``MAX_ACCURACY``]."""
    return min(MAX_ACCURACY, max(MIN_ACCURACY, value))


@dataclass(frozen=True, slots=True)
class AccuracyConfig:
    """The legacy single-accuracy prior, probation and the established threshold."""

    prior_alpha: float = 4.0
    prior_beta: float = 1.0
    consensus_weight: float = 0.5  # a decided clip is a noisier teacher than a gold one
    probation_floor: float = 0.7
    probation_min_gold_answers: int = 5
    established_gold_answers: int = 3

    def __post_init__(self) -> None:
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise InvalidInput("Beta prior parameters must be > 0.", code="invalid_config")
        if not 0.0 <= self.consensus_weight <= 1.0:
            raise InvalidInput("consensus_weight must lie in [0, 1].", code="invalid_config")
        if not MIN_ACCURACY <= self.probation_floor <= MAX_ACCURACY:
            raise InvalidInput("probation_floor must lie in [0.5, 0.99].", code="invalid_config")
        if self.probation_min_gold_answers < 0 or self.established_gold_answers < 0:
            raise InvalidInput("Answer thresholds must be ≥ 0.", code="invalid_config")


@dataclass(frozen=True, slots=True)
class ValidatorStanding:
    """What a vote needs to know about its validator at the moment it is cast."""

    reliability: Reliability
    accuracy: float
    on_probation: bool
    established: bool
    gold_answers: int


@dataclass(frozen=True, slots=True)
class ValidatorAccuracy:
    """A validator's answer history, or a change to it (the repository adds changes
    atomically). The confusion counts are soft; the rest are whole counters."""

    confusion: ConfusionCounts = field(default_factory=ConfusionCounts)
    gold_right: int = 0
    gold_wrong: int = 0
    consensus_agreed: int = 0
    consensus_disagreed: int = 0
    rushed_votes: int = 0

    @property
    def gold_answers(self) -> int:
        """Gold answers given so far."""
        return self.gold_right + self.gold_wrong

    @property
    def is_empty(self) -> bool:
        return self == ValidatorAccuracy()

    def plus(self, other: ValidatorAccuracy) -> ValidatorAccuracy:
        """This history with ``other`` added to it."""
        return ValidatorAccuracy(
            confusion=self.confusion.plus(other.confusion),
            gold_right=self.gold_right + other.gold_right,
            gold_wrong=self.gold_wrong + other.gold_wrong,
            consensus_agreed=self.consensus_agreed + other.consensus_agreed,
            consensus_disagreed=self.consensus_disagreed + other.consensus_disagreed,
            rushed_votes=self.rushed_votes + other.rushed_votes,
        )

    def legacy_accuracy(self, config: AccuracyConfig) -> float:
        """One accuracy number for the legacy ``weighted`` policy: the Beta posterior mean
        over gold answers and (weighted) agreement with decisions, clamped to [0.5, 0.99]."""
        weight = config.consensus_weight
        alpha = config.prior_alpha + self.gold_right + weight * self.consensus_agreed
        beta = config.prior_beta + self.gold_wrong + weight * self.consensus_disagreed
        return clamp_accuracy(alpha / (alpha + beta))

    def reliability(self, model: CrowdModel) -> Reliability:
        """Sensitivity and specificity under the crowd's priors."""
        return model.reliability(self.confusion)

    def is_established(self, config: AccuracyConfig) -> bool:
        return self.gold_answers >= config.established_gold_answers

    def is_due_for_probation(self, config: AccuracyConfig, model: CrowdModel) -> bool:
        """What the refit decides: enough gold answers and a balanced accuracy under the
        floor."""
        return (
            self.gold_answers >= config.probation_min_gold_answers
            and self.reliability(model).balanced_accuracy < config.probation_floor
        )

    def after_gold_answer(self, answer: Verdict, gold: Verdict) -> ValidatorAccuracy:
        """Score an answer on a gold clip whose known verdict is ``gold``."""
        learned = ConfusionCounts.of_answer(answer, 1.0 if gold is Verdict.VALID else 0.0)
        counted = replace(self, confusion=self.confusion.plus(learned))
        if answer is gold:
            return replace(counted, gold_right=self.gold_right + 1)
        return replace(counted, gold_wrong=self.gold_wrong + 1)

    def after_settled_clip(
        self, answer: Verdict, status: ClipStatus, valid_probability: float
    ) -> ValidatorAccuracy:
        """Learn from a clip settled by consensus with P(valid) = ``valid_probability``;
        the plain agreement counters move only for a decided (not disputed) clip."""
        learned = replace(
            self,
            confusion=self.confusion.plus(ConfusionCounts.of_answer(answer, valid_probability)),
        )
        decided = status.verdict
        if decided is None:
            return learned
        if answer is decided:
            return replace(learned, consensus_agreed=self.consensus_agreed + 1)
        return replace(learned, consensus_disagreed=self.consensus_disagreed + 1)

    def after_rushed_vote(self, answer: Verdict) -> ValidatorAccuracy:
        """A vote sent sooner than the clip could be heard counts against the validator."""
        return replace(
            self,
            confusion=self.confusion.plus(ConfusionCounts.of_rushed_answer(answer)),
            rushed_votes=self.rushed_votes + 1,
        )


@dataclass(frozen=True, slots=True)
class ValidatorRecord:
    """A validator's stored history with what the last refit decided and published:
    probation, the balanced accuracy the member is shown and the number of gold answers
    behind it (delayed and rounded, so that no single gold answer's effect can be read off)."""

    history: ValidatorAccuracy = field(default_factory=ValidatorAccuracy)
    on_probation: bool = False
    published_accuracy: float | None = None
    published_at: datetime | None = None
    published_gold_answers: int | None = None

    def standing(self, config: AccuracyConfig, model: CrowdModel) -> ValidatorStanding:
        """The standing a vote snapshots."""
        return ValidatorStanding(
            reliability=self.history.reliability(model),
            accuracy=self.history.legacy_accuracy(config),
            on_probation=self.on_probation,
            established=self.history.is_established(config),
            gold_answers=self.history.gold_answers,
        )
