"""The Dawid–Skene model of a validating crowd: two error rates per validator, the evidence a
vote carries, and how the rates are learned online and re-fitted in batch.

The model (Dawid & Skene 1979, two classes):

- A clip is valid with probability π, the crowd's *valid share*.
- Validator i says ``valid`` on a valid clip with probability sᵢ (*sensitivity*) and
  ``invalid`` on an invalid clip with probability pᵢ (*specificity*), independently of the
  other validators given the truth. One accuracy number cannot tell an "always valid" voter
  (s = 1, p = 0: no information at all) from a good one; these two rates can.

What is stored per validator are four soft counts (``ConfusionCounts``): answers given on
clips that were valid or invalid, each weighted by how sure we are of the clip's truth (1 for
a gold clip, q = P(valid) for a clip settled by consensus). The rates are posterior means
under Beta priors of strength ``PRIOR_STRENGTH`` centred on the crowd's pooled averages
(``CrowdModel``, refreshed at each batch refit), so a newcomer counts like the crowd's
average validator and a few answers move an estimate only as far as they should.

The evidence of a vote (``Reliability.evidence``) is its log-likelihood ratio, clipped to
[0, ``MAX_EVIDENCE``] in the direction of its own verdict: an adversary (s + p < 1) is
neutralised, never inverted (inverting would pay for gaming), and no single vote can outweigh
everyone else.

The batch refit (``refit``) is expectation–maximisation over the settled history with gold
clamped to its truth. Its M-step uses the same posterior-mean formula as the online updates,
which is the exact maximiser of the log-likelihood plus log Beta(a+1, b+1) priors (and a weak
Beta prior on π), so every iteration is guaranteed not to lower that objective
(``penalised_log_likelihood``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.domain.clips import Verdict
from core.errors import InvalidInput

PRIOR_STRENGTH = 4.0
MAX_EVIDENCE = 4.595  # logit(0.99): no single vote is worth more than a 99 % sure witness
CROWD_RATE_BOUNDS = (0.55, 0.97)
VALID_SHARE_BOUNDS = (0.05, 0.95)
# Pseudo-clips of each class in the refit's estimate of π: negligible on a real history, they
# stop the runaway of a small one (a high π makes doubtful clips valid, which raises π …).
VALID_SHARE_PSEUDO_CLIPS = 2.0


def logit(probability: float) -> float:
    """log(p/(1−p)), for p in (0, 1)."""
    return math.log(probability / (1.0 - probability))


def sigmoid(log_odds: float) -> float:
    """The inverse of ``logit``, stable for large |log_odds|."""
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return min(bounds[1], max(bounds[0], value))


@dataclass(frozen=True, slots=True)
class ConfusionCounts:
    """A validator's answers, weighted by how likely each clip was valid. In Dawid–Skene's
    notation these are n11, n01, n00 and n10 (said, truth; 1 = valid)."""

    said_valid_on_valid: float = 0.0
    said_invalid_on_valid: float = 0.0
    said_invalid_on_invalid: float = 0.0
    said_valid_on_invalid: float = 0.0

    def __post_init__(self) -> None:
        if min(self.as_tuple()) < -1e-9:
            raise InvalidInput("Confusion counts cannot be negative.", code="invalid_counts")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (
            self.said_valid_on_valid,
            self.said_invalid_on_valid,
            self.said_invalid_on_invalid,
            self.said_valid_on_invalid,
        )

    @property
    def total(self) -> float:
        return sum(self.as_tuple())

    def plus(self, other: ConfusionCounts) -> ConfusionCounts:
        return ConfusionCounts(
            *(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True))
        )

    @classmethod
    def of_answer(cls, said: Verdict, valid_probability: float) -> ConfusionCounts:
        """One answer on a clip that is valid with ``valid_probability`` (1 or 0 for a clip
        whose truth is known)."""
        if not 0.0 <= valid_probability <= 1.0:
            raise InvalidInput("A probability must lie in [0, 1].", code="invalid_probability")
        if said is Verdict.VALID:
            return cls(
                said_valid_on_valid=valid_probability, said_valid_on_invalid=1.0 - valid_probability
            )
        return cls(
            said_invalid_on_valid=valid_probability, said_invalid_on_invalid=1.0 - valid_probability
        )

    @classmethod
    def of_rushed_answer(cls, said: Verdict) -> ConfusionCounts:
        """A vote sent sooner than the clip could have been heard counts as a wrong answer."""
        return cls.of_answer(said, 0.0 if said is Verdict.VALID else 1.0)


@dataclass(frozen=True, slots=True)
class CrowdModel:
    """The crowd as a whole: the centres of the validators' priors and the valid share π.
    Refreshed by each batch refit; before the first one, a newcomer is trusted at 0.8 both
    ways and the classes are even."""

    sensitivity: float = 0.8
    specificity: float = 0.8
    valid_share: float = 0.5
    prior_strength: float = PRIOR_STRENGTH

    def __post_init__(self) -> None:
        low, high = CROWD_RATE_BOUNDS
        if not (low <= self.sensitivity <= high and low <= self.specificity <= high):
            raise InvalidInput(
                f"The crowd's rates must lie in [{low}, {high}].", code="invalid_config"
            )
        low, high = VALID_SHARE_BOUNDS
        if not low <= self.valid_share <= high:
            raise InvalidInput(
                f"The valid share must lie in [{low}, {high}].", code="invalid_config"
            )
        if self.prior_strength <= 0:
            raise InvalidInput("The prior strength must be > 0.", code="invalid_config")

    @classmethod
    def clipped(
        cls, sensitivity: float, specificity: float, valid_share: float, prior_strength: float
    ) -> CrowdModel:
        """A model from raw estimates, each clipped into its bounds."""
        return cls(
            sensitivity=_clip(sensitivity, CROWD_RATE_BOUNDS),
            specificity=_clip(specificity, CROWD_RATE_BOUNDS),
            valid_share=_clip(valid_share, VALID_SHARE_BOUNDS),
            prior_strength=prior_strength,
        )

    @property
    def prior_log_odds(self) -> float:
        """logit(π): where a clip starts before any vote."""
        return logit(self.valid_share)

    @property
    def priors(self) -> BetaPriors:
        strength = self.prior_strength
        return BetaPriors(
            sensitivity_alpha=strength * self.sensitivity,
            sensitivity_beta=strength * (1.0 - self.sensitivity),
            specificity_alpha=strength * self.specificity,
            specificity_beta=strength * (1.0 - self.specificity),
        )

    def reliability(self, counts: ConfusionCounts) -> Reliability:
        """A validator's rates given their counts."""
        return self.priors.reliability(counts)

    @property
    def average_validator(self) -> Reliability:
        """A newcomer: exactly the crowd's centre."""
        return Reliability(self.sensitivity, self.specificity)


@dataclass(frozen=True, slots=True)
class BetaPriors:
    """Beta(α, β) priors of sensitivity and specificity."""

    sensitivity_alpha: float
    sensitivity_beta: float
    specificity_alpha: float
    specificity_beta: float

    def reliability(self, counts: ConfusionCounts) -> Reliability:
        valid_hits = self.sensitivity_alpha + counts.said_valid_on_valid
        valid_seen = valid_hits + self.sensitivity_beta + counts.said_invalid_on_valid
        invalid_hits = self.specificity_alpha + counts.said_invalid_on_invalid
        invalid_seen = invalid_hits + self.specificity_beta + counts.said_valid_on_invalid
        return Reliability(valid_hits / valid_seen, invalid_hits / invalid_seen)

    def log_density(self, rates: Reliability) -> float:
        """log of the prior term the M-step maximises (Beta(α+1, β+1), up to a constant)."""
        s, p = rates.sensitivity, rates.specificity
        return (
            self.sensitivity_alpha * math.log(s)
            + self.sensitivity_beta * math.log(1.0 - s)
            + self.specificity_alpha * math.log(p)
            + self.specificity_beta * math.log(1.0 - p)
        )


@dataclass(frozen=True, slots=True)
class Reliability:
    """A validator's two rates, each strictly inside (0, 1)."""

    sensitivity: float
    specificity: float

    def __post_init__(self) -> None:
        if not (0.0 < self.sensitivity < 1.0 and 0.0 < self.specificity < 1.0):
            raise InvalidInput("Rates must lie strictly in (0, 1).", code="invalid_rates")

    @property
    def informedness(self) -> float:
        """s + p − 1 (Youden's J): 0 for a coin flipper or a one-sided voter, 1 for an
        oracle, negative for an adversary."""
        return self.sensitivity + self.specificity - 1.0

    @property
    def balanced_accuracy(self) -> float:
        """(s + p) / 2: the share of answers right if valid and invalid clips were even."""
        return (self.sensitivity + self.specificity) / 2.0

    def likelihood(self, said: Verdict, truth: Verdict) -> float:
        """P(says ``said`` | the clip is ``truth``)."""
        if truth is Verdict.VALID:
            return self.sensitivity if said is Verdict.VALID else 1.0 - self.sensitivity
        return self.specificity if said is Verdict.INVALID else 1.0 - self.specificity

    def log_likelihood_ratio(self, said: Verdict) -> float:
        """log P(said | valid) − log P(said | invalid), unclipped."""
        return math.log(self.likelihood(said, Verdict.VALID)) - math.log(
            self.likelihood(said, Verdict.INVALID)
        )

    def evidence(self, said: Verdict) -> float:
        """What a vote adds to its clip's log-odds of being valid: toward its own verdict
        only, at most ``MAX_EVIDENCE``; 0 when the validator carries no information."""
        ratio = self.log_likelihood_ratio(said)
        if said is Verdict.VALID:
            return min(max(ratio, 0.0), MAX_EVIDENCE)
        return -min(max(-ratio, 0.0), MAX_EVIDENCE)


# -- batch refit --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer of ``validator`` on ``clip``; for a gold clip ``truth`` is known."""

    validator: Hashable
    clip: Hashable
    said: Verdict
    truth: Verdict | None = None


@dataclass(frozen=True, slots=True)
class RefitResult:
    """Counts per validator and the refreshed crowd model after a refit; the objective after
    each iteration (non-decreasing) and the clips' final P(valid)."""

    counts: Mapping[Hashable, ConfusionCounts]
    model: CrowdModel
    objective: tuple[float, ...]
    valid_probability: Mapping[Hashable, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Data:
    """Answers indexed for fast passes: validators and clips numbered 0‥n−1."""

    validators: list[Hashable]
    clip_keys: list[Hashable]
    clip_answers: list[list[tuple[int, bool]]]  # per consensus clip: (validator, said valid)
    gold: list[tuple[int, bool, bool]]  # (validator, said valid, truly valid)
    extra: list[ConfusionCounts]  # fixed pseudo-counts per validator (rushed answers)


def _index(answers: Iterable[Answer], extra: Mapping[Hashable, ConfusionCounts]) -> _Data:
    validator_index: dict[Hashable, int] = {}
    clip_index: dict[Hashable, int] = {}
    data = _Data([], [], [], [], [])

    def number(validator: Hashable) -> int:
        if validator not in validator_index:
            validator_index[validator] = len(data.validators)
            data.validators.append(validator)
            data.extra.append(ConfusionCounts())
        return validator_index[validator]

    for answer in answers:
        who = number(answer.validator)
        said_valid = answer.said is Verdict.VALID
        if answer.truth is not None:
            data.gold.append((who, said_valid, answer.truth is Verdict.VALID))
            continue
        if answer.clip not in clip_index:
            clip_index[answer.clip] = len(data.clip_keys)
            data.clip_keys.append(answer.clip)
            data.clip_answers.append([])
        data.clip_answers[clip_index[answer.clip]].append((who, said_valid))
    for validator, counts in extra.items():
        data.extra[number(validator)] = counts
    return data


def _m_step(data: _Data, valid_probability: Sequence[float]) -> list[ConfusionCounts]:
    cells = [[0.0, 0.0, 0.0, 0.0] for _ in data.validators]  # n11, n01, n00, n10
    for answers, q in zip(data.clip_answers, valid_probability, strict=True):
        for who, said_valid in answers:
            row = cells[who]
            if said_valid:
                row[0] += q
                row[3] += 1.0 - q
            else:
                row[1] += q
                row[2] += 1.0 - q
    for who, said_valid, truly_valid in data.gold:
        row = cells[who]
        if truly_valid:
            row[0 if said_valid else 1] += 1.0
        else:
            row[3 if said_valid else 2] += 1.0
    return [ConfusionCounts(*row).plus(extra) for row, extra in zip(cells, data.extra, strict=True)]


def _log_rates(rates: Sequence[Reliability]) -> list[tuple[float, float, float, float]]:
    """Per validator: log P(valid|valid), log P(invalid|valid), log P(invalid|invalid),
    log P(valid|invalid)."""
    return [
        (
            math.log(r.sensitivity),
            math.log(1.0 - r.sensitivity),
            math.log(r.specificity),
            math.log(1.0 - r.specificity),
        )
        for r in rates
    ]


def _clip_log_joint(
    answers: Sequence[tuple[int, bool]], logs: Sequence[tuple[float, float, float, float]]
) -> tuple[float, float]:
    """log P(answers | valid) and log P(answers | invalid)."""
    if_valid = if_invalid = 0.0
    for who, said_valid in answers:
        valid_valid, invalid_valid, invalid_invalid, valid_invalid = logs[who]
        if said_valid:
            if_valid += valid_valid
            if_invalid += valid_invalid
        else:
            if_valid += invalid_valid
            if_invalid += invalid_invalid
    return if_valid, if_invalid


def _log_add(a: float, b: float) -> float:
    high = max(a, b)
    return high + math.log(math.exp(a - high) + math.exp(b - high))


def penalised_log_likelihood(
    answers: Iterable[Answer],
    rates: Mapping[Any, Reliability],
    valid_share: float,
    priors: BetaPriors,
    extra: Mapping[Any, ConfusionCounts] | None = None,
) -> float:
    """log P(answers | rates, π) + Σ log-priors of the rates: what the refit maximises.
    Consensus clips are marginalised over their unknown truth; gold answers and the fixed
    pseudo-counts (rushed answers) are answers of known truth."""
    data = _index(answers, extra or {})
    ordered = [rates[validator] for validator in data.validators]
    return _objective(data, ordered, valid_share, priors)


def _objective(
    data: _Data, rates: Sequence[Reliability], valid_share: float, priors: BetaPriors
) -> float:
    logs = _log_rates(rates)
    log_valid, log_invalid = math.log(valid_share), math.log(1.0 - valid_share)
    total = VALID_SHARE_PSEUDO_CLIPS * (log_valid + log_invalid)
    for answers in data.clip_answers:
        if_valid, if_invalid = _clip_log_joint(answers, logs)
        total += _log_add(log_valid + if_valid, log_invalid + if_invalid)
    for who, said_valid, truly_valid in data.gold:
        valid_valid, invalid_valid, invalid_invalid, valid_invalid = logs[who]
        if truly_valid:
            total += valid_valid if said_valid else invalid_valid
        else:
            total += valid_invalid if said_valid else invalid_invalid
    for who, extra in enumerate(data.extra):
        valid_valid, invalid_valid, invalid_invalid, valid_invalid = logs[who]
        total += (
            extra.said_valid_on_valid * valid_valid
            + extra.said_invalid_on_valid * invalid_valid
            + extra.said_invalid_on_invalid * invalid_invalid
            + extra.said_valid_on_invalid * valid_invalid
        )
    return total + sum(priors.log_density(rate) for rate in rates)


def _e_step(data: _Data, rates: Sequence[Reliability], valid_share: float) -> list[float]:
    logs = _log_rates(rates)
    prior = logit(valid_share)
    return [
        sigmoid(prior + if_valid - if_invalid)
        for if_valid, if_invalid in (_clip_log_joint(a, logs) for a in data.clip_answers)
    ]


def pooled_model(
    counts: Iterable[ConfusionCounts],
    valid_share: float,
    prior_strength: float,
    fallback: CrowdModel,
) -> CrowdModel:
    """The crowd's pooled rates (Σn11 / Σ(n11+n01), Σn00 / Σ(n00+n10)) and ``valid_share``,
    clipped into bounds; a rate with no data keeps ``fallback``'s."""
    n11 = n01 = n00 = n10 = 0.0
    for c in counts:
        n11 += c.said_valid_on_valid
        n01 += c.said_invalid_on_valid
        n00 += c.said_invalid_on_invalid
        n10 += c.said_valid_on_invalid
    sensitivity = n11 / (n11 + n01) if n11 + n01 > 0 else fallback.sensitivity
    specificity = n00 / (n00 + n10) if n00 + n10 > 0 else fallback.specificity
    return CrowdModel.clipped(sensitivity, specificity, valid_share, prior_strength)


def refit(
    answers: Iterable[Answer],
    *,
    start: CrowdModel,
    start_counts: Mapping[Any, ConfusionCounts] | None = None,
    extra: Mapping[Any, ConfusionCounts] | None = None,
    max_iterations: int = 50,
    tolerance: float = 1e-7,
) -> RefitResult:
    """Re-estimate every validator's counts and the crowd model from the settled history.

    ``answers``: answers on clips settled by consensus (truth unknown) and gold answers
    (truth given). ``extra``: fixed pseudo-counts added per validator (rushed answers).
    The Beta priors are ``start``'s for the whole run; EM starts from ``start_counts`` (the
    online counts) and stops when the objective gains less than ``tolerance`` (relative).
    The returned model carries the pooled rates and the valid share learned here, which
    centre the priors from now on.
    """
    if max_iterations < 1:
        raise InvalidInput("A refit needs at least one iteration.", code="invalid_config")
    data = _index(answers, extra or {})
    priors = start.priors
    counts_now = [
        (start_counts or {}).get(validator, ConfusionCounts()) for validator in data.validators
    ]
    rates = [priors.reliability(c) for c in counts_now]
    valid_share = start.valid_share
    objective = [_objective(data, rates, valid_share, priors)]
    q: list[float] = []
    for _ in range(max_iterations):
        q = _e_step(data, rates, valid_share)
        counts_now = _m_step(data, q)
        rates = [priors.reliability(c) for c in counts_now]
        if q:
            pseudo = VALID_SHARE_PSEUDO_CLIPS
            valid_share = _clip((sum(q) + pseudo) / (len(q) + 2 * pseudo), VALID_SHARE_BOUNDS)
        objective.append(_objective(data, rates, valid_share, priors))
        if abs(objective[-1] - objective[-2]) <= tolerance * max(1.0, abs(objective[-2])):
            break
    model = pooled_model(counts_now, valid_share, start.prior_strength, start)
    return RefitResult(
        counts=dict(zip(data.validators, counts_now, strict=True)),
        model=model,
        objective=tuple(objective),
        valid_probability=dict(zip(data.clip_keys, q, strict=True)),
    )
