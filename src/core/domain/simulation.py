"""A seeded simulation of a validating crowd, so operators can choose a policy and thresholds.

The crowd has honest, noisy and spamming validators. Their true accuracies are known only to
the simulation: the policies see the estimates that ``accuracy.py`` learns from gold answers
and from agreement with decided clips, exactly as in production.

How one run goes (``simulate``):

- A master ``random.Random(seed)`` builds the crowd and gives each clip its own seed, so both
  policies meet the same clips, the same voters in the same order and the same answers
  (common random numbers: differences in the results come from the policies, not from luck).
- Each clip is valid with probability ``valid_share``. It is shown to distinct validators in
  a random order until it is settled. Before each real vote, the validator answers a gold
  clip with probability g/(1−g), so that a share g (``gold_rate``) of what is served is gold.
- Honest and noisy validators answer right with their accuracy; spammers answer ``valid``
  with probability ``spammer_valid_rate`` whatever the clip.
- Once a clip is decided, every vote on it scores its validator's agreement.
- Label accuracy counts a clip as right when its decision matches the truth; the ``overall``
  figure counts disputed clips as not right (they cost moderators' time).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from uuid import UUID

from core.domain.accuracy import DEFAULT_GOLD_RATE, AccuracyConfig, ValidatorAccuracy
from core.domain.clips import ClipStatus, ClipTally, Verdict
from core.domain.consensus import (
    DEFAULT_POLICY,
    ConsensusConfig,
    ConsensusPolicy,
    PolicyName,
    cast_vote,
    policy_named,
)
from core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class CrowdProfile:
    """Who validates: shares of honest, noisy and spamming validators (summing to 1)."""

    validators: int = 200
    honest_share: float = 0.6
    honest_accuracy: float = 0.95
    noisy_share: float = 0.2
    noisy_accuracy: float = 0.7
    spammer_share: float = 0.2
    spammer_valid_rate: float = 0.5

    def __post_init__(self) -> None:
        shares = (self.honest_share, self.noisy_share, self.spammer_share)
        if min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-9:
            raise InvalidInput("Crowd shares must be ≥ 0 and sum to 1.", code="invalid_config")
        if self.validators < 1:
            raise InvalidInput("A crowd needs at least one validator.", code="invalid_config")


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """Everything one run depends on; the same params always give the same result."""

    clips: int = 2000
    crowd: CrowdProfile = field(default_factory=CrowdProfile)
    valid_share: float = 0.8
    gold_rate: float = DEFAULT_GOLD_RATE
    policy: PolicyName = DEFAULT_POLICY
    consensus: ConsensusConfig = field(default_factory=ConsensusConfig)
    accuracy: AccuracyConfig = field(default_factory=AccuracyConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.clips < 1 or not 0.0 <= self.valid_share <= 1.0:
            raise InvalidInput("Need ≥ 1 clip and valid_share in [0, 1].", code="invalid_config")
        if not 0.0 <= self.gold_rate < 0.5:
            raise InvalidInput("gold_rate must lie in [0, 0.5).", code="invalid_config")


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Counts from one run, and the ratios operators look at."""

    policy: PolicyName
    clips: int
    accepted: int
    rejected: int
    disputed: int
    unsettled: int  # still pending: every validator of a tiny crowd had voted
    correct: int
    votes_cast: int  # real votes, counted or not; gold answers are apart
    gold_answers: int
    validators_on_probation: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def decided_label_accuracy(self) -> float:
        """Share of decided clips whose decision matches the truth."""
        return self.correct / self.decided if self.decided else 0.0

    @property
    def label_accuracy(self) -> float:
        """Share of all clips decided rightly (disputed and unsettled count as not right)."""
        return self.correct / self.clips

    @property
    def votes_per_clip(self) -> float:
        return self.votes_cast / self.clips

    @property
    def disputed_share(self) -> float:
        return self.disputed / self.clips


@dataclass(frozen=True, slots=True)
class _Validator:
    says_valid_if_valid: float
    says_valid_if_invalid: float

    def answer(self, truth: Verdict, draw: float) -> Verdict:
        chance = self.says_valid_if_valid if truth is Verdict.VALID else self.says_valid_if_invalid
        return Verdict.VALID if draw < chance else Verdict.INVALID


def _build_crowd(crowd: CrowdProfile, rng: random.Random) -> list[_Validator]:
    honest = round(crowd.validators * crowd.honest_share)
    noisy = round(crowd.validators * crowd.noisy_share)
    spammers = max(crowd.validators - honest - noisy, 0)
    members = (
        [_Validator(crowd.honest_accuracy, 1 - crowd.honest_accuracy)] * honest
        + [_Validator(crowd.noisy_accuracy, 1 - crowd.noisy_accuracy)] * noisy
        + [_Validator(crowd.spammer_valid_rate, crowd.spammer_valid_rate)] * spammers
    )[: crowd.validators]
    rng.shuffle(members)
    return members


@dataclass(slots=True)
class _Run:
    """Mutable state of one run; never leaves this module."""

    params: SimulationParams
    policy: ConsensusPolicy
    crowd: list[_Validator]
    records: list[ValidatorAccuracy]
    statuses: dict[ClipStatus, int] = field(default_factory=dict)
    correct: int = 0
    votes_cast: int = 0
    gold_answers: int = 0

    def play_clip(self, rng: random.Random) -> None:
        params = self.params
        truth = Verdict.VALID if rng.random() < params.valid_share else Verdict.INVALID
        # Distinct voters; more than the cap, as ignored votes do not count toward it.
        shown_to = rng.sample(
            range(len(self.crowd)), min(len(self.crowd), 4 * params.consensus.vote_cap)
        )
        tally, answers = ClipTally(), []
        for index in shown_to:
            # Always four draws per voter, so that both policies meet the same answers.
            gold_draw, gold_truth_draw, gold_answer_draw, answer_draw = (
                rng.random() for _ in range(4)
            )
            if gold_draw < params.gold_rate / (1.0 - params.gold_rate):
                self._answer_gold(index, gold_truth_draw, gold_answer_draw)
            verdict = self.crowd[index].answer(truth, answer_draw)
            vote = self.records[index].standing(params.accuracy).vote(UUID(int=index), verdict)
            tally = cast_vote(tally, vote, self.policy).tally
            answers.append((index, verdict))
            self.votes_cast += 1
            if tally.status.is_settled:
                break
        for index, verdict in answers:
            self.records[index] = self.records[index].after_settled_clip(verdict, tally.status)
        self.statuses[tally.status] = self.statuses.get(tally.status, 0) + 1
        self.correct += tally.status.verdict is truth

    def _answer_gold(self, index: int, truth_draw: float, answer_draw: float) -> None:
        gold = Verdict.VALID if truth_draw < self.params.valid_share else Verdict.INVALID
        answer = self.crowd[index].answer(gold, answer_draw)
        self.records[index] = self.records[index].after_gold_answer(answer, gold)
        self.gold_answers += 1

    def result(self) -> SimulationResult:
        config = self.params.accuracy
        return SimulationResult(
            policy=self.policy.name,
            clips=self.params.clips,
            accepted=self.statuses.get(ClipStatus.ACCEPTED, 0),
            rejected=self.statuses.get(ClipStatus.REJECTED, 0),
            disputed=self.statuses.get(ClipStatus.DISPUTED, 0),
            unsettled=self.statuses.get(ClipStatus.PENDING, 0),
            correct=self.correct,
            votes_cast=self.votes_cast,
            gold_answers=self.gold_answers,
            validators_on_probation=sum(r.is_on_probation(config) for r in self.records),
        )


def simulate(params: SimulationParams) -> SimulationResult:
    """Replay a simulated crowd through ``params.policy``; deterministic for given params."""
    master = random.Random(params.seed)  # noqa: S311 - reproducible simulation, not security
    crowd = _build_crowd(params.crowd, master)
    run = _Run(
        params=params,
        policy=policy_named(params.policy, params.consensus),
        crowd=crowd,
        records=[ValidatorAccuracy()] * len(crowd),
    )
    for _ in range(params.clips):
        run.play_clip(random.Random(master.getrandbits(64)))  # noqa: S311
    return run.result()


def compare_policies(params: SimulationParams) -> tuple[SimulationResult, SimulationResult]:
    """``majority`` then ``weighted`` on the very same crowd, clips and seed."""
    return (
        simulate(replace(params, policy=PolicyName.MAJORITY)),
        simulate(replace(params, policy=PolicyName.WEIGHTED)),
    )


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One point of a threshold sweep; thresholds are ``None`` for ``majority``."""

    policy: PolicyName
    accept_threshold: float | None
    reject_threshold: float | None
    vote_cap: int
    label_accuracy: float
    decided_label_accuracy: float
    votes_per_clip: float
    disputed_share: float


def sweep_thresholds(
    params: SimulationParams,
    accept_thresholds: Sequence[float] = (0.8, 0.9, 0.95, 0.98, 0.99),
    vote_caps: Sequence[int] | None = None,
) -> tuple[SweepRow, ...]:
    """For each cap: one ``majority`` baseline row, then one ``weighted`` row per accept
    threshold t (reject threshold 1 − t). All runs share ``params.seed``."""
    rows: list[SweepRow] = []
    for cap in vote_caps or (params.consensus.vote_cap,):
        base = replace(params, consensus=replace(params.consensus, vote_cap=cap))
        rows.append(_row(simulate(replace(base, policy=PolicyName.MAJORITY)), None, cap))
        for threshold in accept_thresholds:
            consensus = replace(
                base.consensus, accept_threshold=threshold, reject_threshold=1.0 - threshold
            )
            run = simulate(replace(base, policy=PolicyName.WEIGHTED, consensus=consensus))
            rows.append(_row(run, threshold, cap))
    return tuple(rows)


def _row(result: SimulationResult, threshold: float | None, cap: int) -> SweepRow:
    return SweepRow(
        policy=result.policy,
        accept_threshold=threshold,
        reject_threshold=None if threshold is None else 1.0 - threshold,
        vote_cap=cap,
        label_accuracy=result.label_accuracy,
        decided_label_accuracy=result.decided_label_accuracy,
        votes_per_clip=result.votes_per_clip,
        disputed_share=result.disputed_share,
    )
