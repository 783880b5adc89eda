"""Validation consensus: when a clip's votes make it ``accepted``, ``rejected`` or ``disputed``.

Rules shared by every policy (see ``cast_vote``):

- A settled clip never changes status again; a gold clip never changes status.
- Votes of validators on probation weigh nothing (``ignored_probation``); a vote the policy
  gives no weight (``ignored_weightless``) counts neither toward ``min_votes`` nor the cap.
- A decision needs at least ``min_votes`` counted votes and, with ``require_established``, at
  least one of them by an established validator (``core.domain.accuracy``); a vote's
  ``established`` flag is set for everyone in a language without gold clips.
- Once ``vote_cap`` votes have counted, a clip still undecided is settled by the policy's
  ``at_cap`` rule.

Policies, chosen by name (``policy_named``):

- ``majority`` — Common Voice: accepted when ≥ 2 valid votes and more valid than invalid;
  rejected when ≥ 2 invalid and more invalid than valid; ``disputed`` at the cap.
- ``dawid_skene`` (default) — the clip's log-odds L = logit(π) + Σ evidence, each vote's
  evidence from its validator's sensitivity and specificity (``core.domain.dawid_skene``);
  accepted when σ(L) ≥ t, rejected when σ(L) ≤ 1 − t (t = ``accept_threshold``, default
  0.85); at the cap, labelled by the sign of L, ``disputed`` only inside ``dispute_band``
  around ½ (default 0: off).
- ``weighted`` (legacy) — log-odds = logit(``prior_valid``) + Σ ±log(a/(1−a)), ``a`` one
  clamped accuracy per validator; thresholds as above; ``disputed`` at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from core.domain.accuracy import (
    MAX_ACCURACY,
    MIN_ACCURACY,
    ValidatorStanding,
    clamp_accuracy,
)
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.dawid_skene import CrowdModel, logit, sigmoid
from core.errors import InvalidInput

__all__ = [
    "DEFAULT_POLICY",
    "ConsensusConfig",
    "ConsensusPolicy",
    "DawidSkenePolicy",
    "MajorityPolicy",
    "PolicyName",
    "VoteResult",
    "WeightedPolicy",
    "cast_vote",
    "distance_to_decision",
    "logit",
    "policy_named",
    "sigmoid",
    "vote_log_odds",
]


class PolicyName(StrEnum):
    """The consensus policies, chosen by configuration; all are always available."""

    MAJORITY = "majority"
    DAWID_SKENE = "dawid_skene"
    WEIGHTED = "weighted"


DEFAULT_POLICY = PolicyName.DAWID_SKENE
_REFERENCE_ID = UUID(int=0)  # the typical voter ``votes_to_decide`` imagines


def vote_log_odds(accuracy: float) -> float:
    """The legacy ``weighted`` evidence of one vote: log(a/(1−a)) with ``a`` clamped to
    [0.5, 0.99]; 0 for a coin-flipping validator, at most ≈ 4.6."""
    return logit(clamp_accuracy(accuracy))


@dataclass(frozen=True, slots=True)
class ConsensusConfig:
    """Thresholds, minimum votes, cap, the sybil guard and the dispute band.
    ``prior_valid`` and ``reference_accuracy`` concern the legacy ``weighted`` policy only."""

    accept_threshold: float = 0.85
    reject_threshold: float = 0.15
    min_votes: int = 2
    vote_cap: int = 5
    dispute_band: float = 0.0
    require_established: bool = True
    prior_valid: float = 0.5
    reference_accuracy: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 < self.reject_threshold < 0.5 < self.accept_threshold < 1.0:
            raise InvalidInput(
                "Thresholds must satisfy 0 < reject < ½ < accept < 1.", code="invalid_config"
            )
        if not self.reject_threshold < self.prior_valid < self.accept_threshold:
            raise InvalidInput(
                "prior_valid must lie strictly between the thresholds.", code="invalid_config"
            )
        if not 1 <= self.min_votes <= self.vote_cap:
            raise InvalidInput("Need 1 ≤ min_votes ≤ vote_cap.", code="invalid_config")
        if not 0.0 <= self.dispute_band < 0.5:
            raise InvalidInput("dispute_band must lie in [0, ½).", code="invalid_config")
        if not MIN_ACCURACY < self.reference_accuracy <= MAX_ACCURACY:
            raise InvalidInput("reference_accuracy must lie in (0.5, 0.99].", code="invalid_config")

    @property
    def accept_log_odds(self) -> float:
        return logit(self.accept_threshold)

    @property
    def reject_log_odds(self) -> float:
        return logit(self.reject_threshold)

    def has_deciding_quorum(self, tally: ClipTally) -> bool:
        """Enough counted votes, and an established one among them when required."""
        if tally.counted_votes < self.min_votes:
            return False
        return not self.require_established or tally.established_votes > 0


class ConsensusPolicy(Protocol):
    """A rule turning a clip's counted votes into a status. Implementations are pure."""

    @property
    def name(self) -> PolicyName: ...

    @property
    def config(self) -> ConsensusConfig: ...

    def evidence(self, verdict: Verdict, standing: ValidatorStanding) -> float:
        """What a vote of this validator adds to the clip's log-odds (signed; 0 for none)."""
        ...

    def prior_log_odds(self, model: CrowdModel) -> float:
        """Where a clip starts, fixed on its tally at its first counted vote."""
        ...

    def counts(self, vote: Vote) -> bool:
        """Whether a (non-probation) vote counts toward consensus and the cap."""
        ...

    def decide(self, tally: ClipTally) -> ClipStatus:
        """The status the counted votes imply, ignoring the cap: pending/accepted/rejected."""
        ...

    def at_cap(self, tally: ClipTally) -> ClipStatus:
        """The status of a clip that reached the cap undecided."""
        ...

    def reference_vote(self, verdict: Verdict, model: CrowdModel) -> Vote:
        """A typical further vote, for estimating how far a clip is from a decision."""
        ...


def _threshold_decision(config: ConsensusConfig, tally: ClipTally) -> ClipStatus:
    if not config.has_deciding_quorum(tally):
        return ClipStatus.PENDING
    if tally.log_odds >= config.accept_log_odds:
        return ClipStatus.ACCEPTED
    if tally.log_odds <= config.reject_log_odds:
        return ClipStatus.REJECTED
    return ClipStatus.PENDING


@dataclass(frozen=True, slots=True)
class MajorityPolicy:
    """Common Voice's rule; every vote weighs the same. Votes still carry Dawid–Skene
    evidence, which the clip's settlement teaches validators with."""

    config: ConsensusConfig = field(default_factory=ConsensusConfig)

    @property
    def name(self) -> PolicyName:
        return PolicyName.MAJORITY

    def evidence(self, verdict: Verdict, standing: ValidatorStanding) -> float:
        return standing.reliability.evidence(verdict)

    def prior_log_odds(self, model: CrowdModel) -> float:
        return model.prior_log_odds

    def counts(self, vote: Vote) -> bool:
        return True

    def decide(self, tally: ClipTally) -> ClipStatus:
        config = self.config
        if config.require_established and tally.established_votes == 0:
            return ClipStatus.PENDING
        valid, invalid, needed = tally.valid_votes, tally.invalid_votes, config.min_votes
        if valid >= needed and valid > invalid:
            return ClipStatus.ACCEPTED
        if invalid >= needed and invalid > valid:
            return ClipStatus.REJECTED
        return ClipStatus.PENDING

    def at_cap(self, tally: ClipTally) -> ClipStatus:
        return ClipStatus.DISPUTED

    def reference_vote(self, verdict: Verdict, model: CrowdModel) -> Vote:
        return Vote(_REFERENCE_ID, verdict, model.average_validator.evidence(verdict))


@dataclass(frozen=True, slots=True)
class DawidSkenePolicy:
    """Decide on the posterior probability that the clip is valid under the Dawid–Skene
    model: each vote weighs what its validator's sensitivity and specificity make it worth."""

    config: ConsensusConfig = field(default_factory=ConsensusConfig)

    @property
    def name(self) -> PolicyName:
        return PolicyName.DAWID_SKENE

    def evidence(self, verdict: Verdict, standing: ValidatorStanding) -> float:
        return standing.reliability.evidence(verdict)

    def prior_log_odds(self, model: CrowdModel) -> float:
        return model.prior_log_odds

    def counts(self, vote: Vote) -> bool:
        return vote.evidence != 0.0

    def decide(self, tally: ClipTally) -> ClipStatus:
        return _threshold_decision(self.config, tally)

    def at_cap(self, tally: ClipTally) -> ClipStatus:
        config = self.config
        if config.require_established and tally.established_votes == 0:
            return ClipStatus.DISPUTED
        probability = sigmoid(tally.log_odds)
        if tally.log_odds == 0.0 or abs(probability - 0.5) < config.dispute_band:
            return ClipStatus.DISPUTED
        return ClipStatus.ACCEPTED if tally.log_odds > 0 else ClipStatus.REJECTED

    def reference_vote(self, verdict: Verdict, model: CrowdModel) -> Vote:
        return Vote(_REFERENCE_ID, verdict, model.average_validator.evidence(verdict))


@dataclass(frozen=True, slots=True)
class WeightedPolicy:
    """Legacy: votes weigh log(a/(1−a)) of one accuracy number per validator."""

    config: ConsensusConfig = field(default_factory=ConsensusConfig)

    @property
    def name(self) -> PolicyName:
        return PolicyName.WEIGHTED

    def evidence(self, verdict: Verdict, standing: ValidatorStanding) -> float:
        weight = vote_log_odds(standing.accuracy)
        return weight if verdict is Verdict.VALID else -weight

    def prior_log_odds(self, model: CrowdModel) -> float:
        return logit(self.config.prior_valid)

    def counts(self, vote: Vote) -> bool:
        return vote.evidence != 0.0

    def decide(self, tally: ClipTally) -> ClipStatus:
        return _threshold_decision(self.config, tally)

    def at_cap(self, tally: ClipTally) -> ClipStatus:
        return ClipStatus.DISPUTED

    def reference_vote(self, verdict: Verdict, model: CrowdModel) -> Vote:
        weight = vote_log_odds(self.config.reference_accuracy)
        return Vote(_REFERENCE_ID, verdict, weight if verdict is Verdict.VALID else -weight)


def policy_named(name: PolicyName | str, config: ConsensusConfig | None = None) -> ConsensusPolicy:
    """The policy called ``name`` (``majority`` | ``dawid_skene`` | ``weighted``)."""
    try:
        policy_name = PolicyName(name)
    except ValueError:
        raise InvalidInput(f"Unknown consensus policy {name!r}.", code="unknown_policy") from None
    chosen = config if config is not None else ConsensusConfig()
    if policy_name is PolicyName.MAJORITY:
        return MajorityPolicy(chosen)
    if policy_name is PolicyName.WEIGHTED:
        return WeightedPolicy(chosen)
    return DawidSkenePolicy(chosen)


@dataclass(frozen=True, slots=True)
class VoteResult:
    """The tally after a vote and what the vote did. ``settled_now`` is true for the one vote
    that takes the clip out of ``pending`` (time to teach its voters and emit an event)."""

    tally: ClipTally
    outcome: VoteOutcome
    settled_now: bool = False


def cast_vote(
    tally: ClipTally, vote: Vote, policy: ConsensusPolicy, prior_log_odds: float = 0.0
) -> VoteResult:
    """Apply one admissible vote (served, in time, one per validator per clip — checked by
    the caller) to a clip's tally. ``prior_log_odds`` becomes the tally's prior if this is its
    first counted vote."""
    if tally.is_gold:
        return VoteResult(tally, VoteOutcome.GOLD)
    if tally.status.is_settled:
        return VoteResult(tally, VoteOutcome.LATE)
    if vote.on_probation:
        return VoteResult(tally, VoteOutcome.IGNORED_PROBATION)
    if not policy.counts(vote):
        return VoteResult(tally, VoteOutcome.IGNORED_WEIGHTLESS)
    if tally.counted_votes == 0:
        tally = replace(tally, prior_log_odds=prior_log_odds)
    counted = tally.with_counted_vote(vote)
    status = policy.decide(counted)
    if status is ClipStatus.PENDING and counted.counted_votes >= policy.config.vote_cap:
        status = policy.at_cap(counted)
    return VoteResult(
        replace(counted, status=status), VoteOutcome.COUNTED, settled_now=status.is_settled
    )


def votes_to_decide(tally: ClipTally, policy: ConsensusPolicy, model: CrowdModel) -> int:
    """Fewest further counted votes that could decide a pending clip, assuming typical votes
    (``policy.reference_vote``, established) all siding with the outcome being reached; added
    one by one as ``cast_vote`` would, up to the cap."""
    if tally.status.is_settled:
        return 0
    towards_valid = towards_invalid = tally
    if tally.counted_votes == 0:
        start = replace(tally, prior_log_odds=policy.prior_log_odds(model))
        towards_valid = towards_invalid = start
    for added in range(1, policy.config.vote_cap + 1):
        towards_valid = towards_valid.with_counted_vote(policy.reference_vote(Verdict.VALID, model))
        towards_invalid = towards_invalid.with_counted_vote(
            policy.reference_vote(Verdict.INVALID, model)
        )
        if (
            policy.decide(towards_valid) is ClipStatus.ACCEPTED
            or policy.decide(towards_invalid) is ClipStatus.REJECTED
        ):
            return added
    return policy.config.vote_cap + 1


def distance_to_decision(
    tally: ClipTally, policy: ConsensusPolicy, model: CrowdModel | None = None
) -> int:
    """A small integer the queue sorts pending clips by (smaller first, then oldest).

    The fewest further counted votes after which the clip leaves ``pending`` in the best
    case: ``min(votes_to_decide, vote_cap − counted_votes)``, 0 for a settled clip. It ranges
    over 0‥``vote_cap`` and is O(vote_cap) to compute from the tally and the crowd model, so
    the vote use case stores it with the clip. Without ``model``, the default crowd (before any
    refit) stands in.
    """
    if tally.status.is_settled:
        return 0
    to_cap = max(policy.config.vote_cap - tally.counted_votes, 0)
    return min(votes_to_decide(tally, policy, model or CrowdModel()), to_cap)
