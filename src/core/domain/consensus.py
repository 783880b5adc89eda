"""Validation consensus: when a clip's votes make it ``accepted``, ``rejected`` or ``disputed``.

Rules shared by both policies (see ``cast_vote``):

- A settled clip never changes status again; a vote reaching it is ``late`` and changes
  nothing. A gold clip never changes status; a vote on it is ``gold`` and only scores.
- Votes of validators on probation weigh nothing (``ignored_probation``).
- Once ``vote_cap`` votes have counted, a clip still undecided becomes ``disputed``.

Policies, chosen by name (``policy_named``):

- ``majority`` — Common Voice: accepted when ≥ 2 valid votes and more valid than invalid;
  rejected when ≥ 2 invalid and more invalid than valid (2 is ``min_votes``).
- ``weighted`` (default) — log-odds(valid) = logit(prior) + Σ ±log(a/(1−a)), ``a`` the
  voter's clamped accuracy; accepted when P(valid) ≥ 0.95, rejected when ≤ 0.05, both needing
  ≥ 2 counted votes. A vote with a = 0.5 carries no evidence and changes nothing at all
  (``ignored_weightless``: it counts neither toward ``min_votes`` nor toward the cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from core.domain.accuracy import MAX_ACCURACY, MIN_ACCURACY, clamp_accuracy
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.errors import InvalidInput


class PolicyName(StrEnum):
    """The consensus policies, chosen by configuration; both are always available."""

    MAJORITY = "majority"
    WEIGHTED = "weighted"


DEFAULT_POLICY = PolicyName.WEIGHTED


def logit(probability: float) -> float:
    """log(p/(1−p)), for p in (0, 1)."""
    return math.log(probability / (1.0 - probability))


def sigmoid(log_odds: float) -> float:
    """The inverse of ``logit``, stable for large |log_odds|."""
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


def vote_log_odds(accuracy: float) -> float:
    """Evidence carried by one vote: log(a/(1−a)) with ``a`` clamped to [0.5, 0.99]; 0 for a
    coin-flipping validator, at most ≈ 4.6."""
    return logit(clamp_accuracy(accuracy))


@dataclass(frozen=True, slots=True)
class ConsensusConfig:
    """Thresholds, prior, minimum votes and cap. ``reference_accuracy`` is the voter assumed
    by ``distance_to_decision`` under ``weighted`` (default: a newcomer under Beta(4, 1))."""

    accept_threshold: float = 0.95
    reject_threshold: float = 0.05
    prior_valid: float = 0.5
    min_votes: int = 2
    vote_cap: int = 5
    reference_accuracy: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 < self.reject_threshold < self.accept_threshold < 1.0:
            raise InvalidInput(
                "Thresholds must satisfy 0 < reject < accept < 1.", code="invalid_config"
            )
        if not self.reject_threshold < self.prior_valid < self.accept_threshold:
            raise InvalidInput(
                "prior_valid must lie strictly between the thresholds.", code="invalid_config"
            )
        if not 1 <= self.min_votes <= self.vote_cap:
            raise InvalidInput("Need 1 ≤ min_votes ≤ vote_cap.", code="invalid_config")
        if not MIN_ACCURACY < self.reference_accuracy <= MAX_ACCURACY:
            raise InvalidInput("reference_accuracy must lie in (0.5, 0.99].", code="invalid_config")

    @property
    def prior_log_odds(self) -> float:
        return logit(self.prior_valid)

    @property
    def accept_log_odds(self) -> float:
        return logit(self.accept_threshold)

    @property
    def reject_log_odds(self) -> float:
        return logit(self.reject_threshold)


class ConsensusPolicy(Protocol):
    """A rule turning a clip's counted votes into a status. Implementations are pure."""

    @property
    def name(self) -> PolicyName: ...

    @property
    def config(self) -> ConsensusConfig: ...

    def counts(self, vote: Vote) -> bool:
        """Whether a (non-probation) vote counts toward consensus and the cap."""
        ...

    def decide(self, tally: ClipTally) -> ClipStatus:
        """The status the counted votes imply, ignoring the cap: pending/accepted/rejected."""
        ...

    def votes_to_decide(self, tally: ClipTally) -> int:
        """Fewest further counted votes that could decide the clip (0 if already decided)."""
        ...


@dataclass(frozen=True, slots=True)
class MajorityPolicy:
    """Common Voice's rule; every vote weighs the same."""

    config: ConsensusConfig = field(default_factory=ConsensusConfig)

    @property
    def name(self) -> PolicyName:
        return PolicyName.MAJORITY

    def counts(self, vote: Vote) -> bool:
        return True

    def decide(self, tally: ClipTally) -> ClipStatus:
        valid, invalid, needed = tally.valid_votes, tally.invalid_votes, self.config.min_votes
        if valid >= needed and valid > invalid:
            return ClipStatus.ACCEPTED
        if invalid >= needed and invalid > valid:
            return ClipStatus.REJECTED
        return ClipStatus.PENDING

    def votes_to_decide(self, tally: ClipTally) -> int:
        valid, invalid, needed = tally.valid_votes, tally.invalid_votes, self.config.min_votes
        to_accept = max(needed - valid, invalid + 1 - valid, 0)
        to_reject = max(needed - invalid, valid + 1 - invalid, 0)
        return min(to_accept, to_reject)


@dataclass(frozen=True, slots=True)
class WeightedPolicy:
    """Votes weigh log(a/(1−a)); decide on the posterior probability that the clip is valid."""

    config: ConsensusConfig = field(default_factory=ConsensusConfig)

    @property
    def name(self) -> PolicyName:
        return PolicyName.WEIGHTED

    def counts(self, vote: Vote) -> bool:
        return vote_log_odds(vote.accuracy) > 0.0

    def log_odds(self, tally: ClipTally) -> float:
        """Posterior log-odds that the clip is valid."""
        return self.config.prior_log_odds + tally.log_odds_sum

    def probability_valid(self, tally: ClipTally) -> float:
        """Posterior P(valid) given the counted votes."""
        return sigmoid(self.log_odds(tally))

    def decide(self, tally: ClipTally) -> ClipStatus:
        if tally.counted_votes < self.config.min_votes:
            return ClipStatus.PENDING
        log_odds = self.log_odds(tally)
        if log_odds >= self.config.accept_log_odds:
            return ClipStatus.ACCEPTED
        if log_odds <= self.config.reject_log_odds:
            return ClipStatus.REJECTED
        return ClipStatus.PENDING

    def votes_to_decide(self, tally: ClipTally) -> int:
        """Assumes every further vote comes from a ``reference_accuracy`` validator siding
        with the outcome being reached; adds them one by one (as ``cast_vote`` would) up to
        the cap, so the answer matches what those votes would really do."""
        if self.decide(tally) is not ClipStatus.PENDING:
            return 0
        step = vote_log_odds(self.config.reference_accuracy)
        towards_valid, towards_invalid = tally, tally
        for added in range(1, self.config.vote_cap + 1):
            towards_valid = towards_valid.with_counted_vote(Verdict.VALID, step)
            towards_invalid = towards_invalid.with_counted_vote(Verdict.INVALID, step)
            if (
                self.decide(towards_valid) is ClipStatus.ACCEPTED
                or self.decide(towards_invalid) is ClipStatus.REJECTED
            ):
                return added
        return self.config.vote_cap + 1


def policy_named(name: PolicyName | str, config: ConsensusConfig | None = None) -> ConsensusPolicy:
    """The policy called ``name`` (``majority`` | ``weighted``) with ``config``."""
    try:
        policy_name = PolicyName(name)
    except ValueError:
        raise InvalidInput(f"Unknown consensus policy {name!r}.", code="unknown_policy") from None
    chosen = config if config is not None else ConsensusConfig()
    if policy_name is PolicyName.MAJORITY:
        return MajorityPolicy(chosen)
    return WeightedPolicy(chosen)


@dataclass(frozen=True, slots=True)
class VoteResult:
    """The tally after a vote and what the vote did. ``settled_now`` is true for the one vote
    that takes the clip out of ``pending`` (time to score its voters and emit an event)."""

    tally: ClipTally
    outcome: VoteOutcome
    settled_now: bool = False


def cast_vote(tally: ClipTally, vote: Vote, policy: ConsensusPolicy) -> VoteResult:
    """Apply one vote (one per validator per clip, checked by the caller) to a clip's tally."""
    if tally.is_gold:
        return VoteResult(tally, VoteOutcome.GOLD)
    if tally.status.is_settled:
        return VoteResult(tally, VoteOutcome.LATE)
    if vote.on_probation:
        return VoteResult(tally, VoteOutcome.IGNORED_PROBATION)
    if not policy.counts(vote):
        return VoteResult(tally, VoteOutcome.IGNORED_WEIGHTLESS)
    counted = tally.with_counted_vote(vote.verdict, vote_log_odds(vote.accuracy))
    status = policy.decide(counted)
    if status is ClipStatus.PENDING and counted.counted_votes >= policy.config.vote_cap:
        status = ClipStatus.DISPUTED
    return VoteResult(
        replace(counted, status=status), VoteOutcome.COUNTED, settled_now=status.is_settled
    )


def distance_to_decision(tally: ClipTally, policy: ConsensusPolicy) -> int:
    """A small integer the queue sorts pending clips by (smaller first, then oldest).

    It is the fewest further counted votes after which the clip leaves ``pending`` in the
    best case: ``min(votes_to_decide, vote_cap − counted_votes)``, 0 for a settled clip.
    Under ``majority`` the votes to decide are exact counts; under ``weighted`` they assume
    votes of ``reference_accuracy``. It ranges over 0‥``vote_cap`` and is O(vote_cap) to
    recompute from the tally alone, so the vote use case stores it with the clip.
    """
    if tally.status.is_settled:
        return 0
    to_cap = max(policy.config.vote_cap - tally.counted_votes, 0)
    return min(policy.votes_to_decide(tally), to_cap)
