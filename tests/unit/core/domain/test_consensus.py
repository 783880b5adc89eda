"""Consensus rules: Common Voice's majority, Dawid–Skene and legacy weighted log-odds, the
sybil guard, the cap, late votes, gold, distance to a decision."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.domain.accuracy import ValidatorStanding
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import (
    ConsensusConfig,
    ConsensusPolicy,
    DawidSkenePolicy,
    MajorityPolicy,
    PolicyName,
    WeightedPolicy,
    cast_vote,
    distance_to_decision,
    logit,
    policy_named,
    vote_log_odds,
)
from core.domain.dawid_skene import MAX_EVIDENCE, CrowdModel, Reliability
from core.errors import Conflict, InvalidInput

NEWCOMER_EVIDENCE = math.log(0.8 / 0.2)  # the default crowd's average validator
MODEL = CrowdModel()

verdicts = st.sampled_from(Verdict)
strengths = st.floats(min_value=0.0, max_value=MAX_EVIDENCE)


@st.composite
def votes(draw: st.DrawFn) -> Vote:
    verdict = draw(verdicts)
    strength = draw(strengths)
    return Vote(
        uuid4(),
        verdict,
        strength if verdict is Verdict.VALID else -strength,
        on_probation=draw(st.integers(min_value=0, max_value=5).map(lambda n: n == 0)),
        established=draw(st.booleans()),
    )


vote_sequences = st.lists(votes(), max_size=12)
priors = st.floats(min_value=-3.0, max_value=3.0)


@st.composite
def configs(draw: st.DrawFn) -> ConsensusConfig:
    accept = draw(st.floats(min_value=0.55, max_value=0.999))
    reject = draw(st.floats(min_value=0.001, max_value=0.45))
    min_votes = draw(st.integers(min_value=1, max_value=3))
    cap = draw(st.integers(min_value=min_votes, max_value=7))
    return ConsensusConfig(
        accept_threshold=accept,
        reject_threshold=reject,
        min_votes=min_votes,
        vote_cap=cap,
        dispute_band=draw(st.sampled_from([0.0, 0.1, 0.3])),
        require_established=draw(st.booleans()),
    )


@st.composite
def policies(draw: st.DrawFn) -> ConsensusPolicy:
    return policy_named(draw(st.sampled_from(PolicyName)), draw(configs()))


def vote(
    verdict: Verdict,
    strength: float = NEWCOMER_EVIDENCE,
    *,
    on_probation: bool = False,
    established: bool = True,
) -> Vote:
    evidence = strength if verdict is Verdict.VALID else -strength
    return Vote(uuid4(), verdict, evidence, on_probation, established)


def replay(
    policy: ConsensusPolicy,
    sequence: Sequence[Vote],
    tally: ClipTally | None = None,
    prior: float = 0.0,
) -> list[tuple[ClipTally, VoteOutcome]]:
    """Cast every vote in order; the tally and outcome after each."""
    current = tally or ClipTally()
    history = []
    for each in sequence:
        result = cast_vote(current, each, policy, prior)
        current = result.tally
        history.append((current, result.outcome))
    return history


def final(policy: ConsensusPolicy, sequence: Sequence[Vote], prior: float = 0.0) -> ClipTally:
    history = replay(policy, sequence, prior=prior)
    return history[-1][0] if history else ClipTally()


OPEN = ConsensusConfig(require_established=False)


# --- majority: Common Voice ------------------------------------------------------------


def common_voice_reference(sequence: Sequence[Vote], cap: int) -> list[ClipStatus]:
    """Independent statement of the rule: ≥ 2 up and more up than down → accepted, ≥ 2 down
    and more down than up → rejected, checked after each vote; probation votes are skipped;
    ``cap`` counted votes without a decision → disputed; nothing moves afterwards."""
    up = down = 0
    status = ClipStatus.PENDING
    statuses = []
    for each in sequence:
        if status is ClipStatus.PENDING and not each.on_probation:
            up += each.verdict is Verdict.VALID
            down += each.verdict is Verdict.INVALID
            if up >= 2 and up > down:
                status = ClipStatus.ACCEPTED
            elif down >= 2 and down > up:
                status = ClipStatus.REJECTED
            elif up + down >= cap:
                status = ClipStatus.DISPUTED
        statuses.append(status)
    return statuses


@given(sequence=vote_sequences, cap=st.integers(min_value=2, max_value=8))
def test_majority_reproduces_common_voice_on_every_sequence(sequence: list[Vote], cap: int) -> None:
    policy = MajorityPolicy(replace(OPEN, vote_cap=cap))
    statuses = [tally.status for tally, _ in replay(policy, sequence)]
    assert statuses == common_voice_reference(sequence, cap)


@pytest.mark.parametrize("length", range(1, 8))
def test_majority_matches_common_voice_on_all_short_sequences(length: int) -> None:
    policy = MajorityPolicy()
    for combo in itertools.product(Verdict, repeat=length):
        sequence = [vote(v, strength=0.0) for v in combo]
        statuses = [tally.status for tally, _ in replay(policy, sequence)]
        assert statuses == common_voice_reference(sequence, cap=5), combo


def test_majority_with_odd_cap_always_decides() -> None:
    policy = MajorityPolicy()
    for combo in itertools.product(Verdict, repeat=5):
        assert final(policy, [vote(v) for v in combo]).status in {
            ClipStatus.ACCEPTED,
            ClipStatus.REJECTED,
        }


# --- evidence policies: dawid_skene and weighted ----------------------------------------


def _evidence_policies(config: ConsensusConfig) -> list[ConsensusPolicy]:
    return [DawidSkenePolicy(config), WeightedPolicy(config)]


@given(sequence=vote_sequences, config=configs(), verdict=verdicts, prior=priors)
def test_a_vote_without_evidence_changes_nothing(
    sequence: list[Vote], config: ConsensusConfig, verdict: Verdict, prior: float
) -> None:
    for policy in _evidence_policies(config):
        before = final(policy, sequence, prior)
        result = cast_vote(before, vote(verdict, 0.0), policy, prior)
        assert result.tally == before
        assert result.outcome in {VoteOutcome.IGNORED_WEIGHTLESS, VoteOutcome.LATE}


@given(sequence=vote_sequences, config=configs(), strength=strengths, prior=priors)
def test_a_valid_vote_never_lowers_the_log_odds(
    sequence: list[Vote], config: ConsensusConfig, strength: float, prior: float
) -> None:
    for policy in _evidence_policies(config):
        before = final(policy, sequence, prior)
        if before.status.is_settled or before.counted_votes == 0:
            continue  # a settled clip does not move; an empty one has no prior yet
        valid_after = cast_vote(before, vote(Verdict.VALID, strength), policy, prior).tally
        invalid_after = cast_vote(before, vote(Verdict.INVALID, strength), policy, prior).tally
        assert valid_after.log_odds >= before.log_odds >= invalid_after.log_odds


def _flipped(sequence: Sequence[Vote]) -> list[Vote]:
    return [replace(v, verdict=v.verdict.flipped(), evidence=-v.evidence) for v in sequence]


MIRROR = {
    ClipStatus.ACCEPTED: ClipStatus.REJECTED,
    ClipStatus.REJECTED: ClipStatus.ACCEPTED,
    ClipStatus.PENDING: ClipStatus.PENDING,
    ClipStatus.DISPUTED: ClipStatus.DISPUTED,
}


@given(
    sequence=vote_sequences,
    name=st.sampled_from(PolicyName),
    confidence=st.floats(min_value=0.55, max_value=0.999),
    cap=st.integers(min_value=2, max_value=7),
    prior=priors,
    guarded=st.booleans(),
)
def test_flipping_every_verdict_flips_the_decision(
    sequence: list[Vote],
    name: PolicyName,
    confidence: float,
    cap: int,
    prior: float,
    guarded: bool,
) -> None:
    config = ConsensusConfig(
        accept_threshold=confidence,
        reject_threshold=1.0 - confidence,
        vote_cap=cap,
        require_established=guarded,
    )
    policy = policy_named(name, config)
    if name is PolicyName.WEIGHTED:
        prior = 0.0  # its prior is configuration: ½ here
    history = replay(policy, sequence, prior=prior)
    # Exactly on a threshold, rounding in logit(t) vs logit(1 − t) could break the mirror.
    for tally, _ in history:
        for threshold in (config.accept_log_odds, config.reject_log_odds):
            assume(abs(abs(tally.log_odds) - abs(threshold)) > 1e-9)
    mirrored = replay(policy, _flipped(sequence), prior=-prior)
    assert [MIRROR[t.status] for t, _ in history] == [t.status for t, _ in mirrored]


# --- every policy: finality, cap, late votes, gold, probation, the sybil guard -----------


@given(policy=policies(), sequence=vote_sequences, prior=priors)
def test_a_settled_clip_never_changes(
    policy: ConsensusPolicy, sequence: list[Vote], prior: float
) -> None:
    settled: ClipTally | None = None
    for tally, outcome in replay(policy, sequence, prior=prior):
        if settled is not None:
            assert tally == settled
            assert outcome is VoteOutcome.LATE
        elif tally.status.is_settled:
            settled = tally


@given(policy=policies(), sequence=vote_sequences)
def test_the_vote_cap_always_settles_the_clip(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    counted = 0
    for tally, outcome in replay(policy, sequence):
        counted += outcome is VoteOutcome.COUNTED
        assert tally.counted_votes == counted <= policy.config.vote_cap
        if counted == policy.config.vote_cap:
            assert tally.status.is_settled


@given(policy=policies(), sequence=vote_sequences)
def test_nothing_is_decided_without_an_established_vote_when_required(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    assume(policy.config.require_established)
    tally = final(policy, [replace(v, established=False) for v in sequence])
    assert tally.status in {ClipStatus.PENDING, ClipStatus.DISPUTED}


def test_dawid_skene_labels_by_the_sign_at_the_cap() -> None:
    policy = DawidSkenePolicy(ConsensusConfig(accept_threshold=0.99, reject_threshold=0.01))
    leaning = [vote(Verdict.VALID, 1.0), vote(Verdict.INVALID, 0.5)] * 2 + [vote(Verdict.VALID)]
    assert final(policy, leaning).status is ClipStatus.ACCEPTED
    assert final(policy, _flipped(leaning)).status is ClipStatus.REJECTED


def test_dawid_skene_disputes_only_inside_the_band() -> None:
    close = [vote(Verdict.VALID, 1.0), vote(Verdict.INVALID, 0.9)] * 2 + [vote(Verdict.VALID, 0.1)]
    banded = DawidSkenePolicy(
        ConsensusConfig(accept_threshold=0.99, reject_threshold=0.01, dispute_band=0.1)
    )
    assert final(banded, close).status is ClipStatus.DISPUTED
    open_band = DawidSkenePolicy(ConsensusConfig(accept_threshold=0.99, reject_threshold=0.01))
    assert final(open_band, close).status is ClipStatus.ACCEPTED


def test_an_undecided_weighted_clip_at_the_cap_is_disputed() -> None:
    sequence = [vote(Verdict.VALID), vote(Verdict.INVALID)] * 2
    assert final(WeightedPolicy(ConsensusConfig(vote_cap=4)), sequence).status is (
        ClipStatus.DISPUTED
    )


def test_without_an_established_vote_majority_disputes_at_the_cap() -> None:
    sequence = [vote(Verdict.VALID, established=False)] * 5
    assert final(MajorityPolicy(), sequence).status is ClipStatus.DISPUTED


@given(policy=policies(), sequence=vote_sequences, late=votes())
def test_late_vote_changes_nothing(
    policy: ConsensusPolicy, sequence: list[Vote], late: Vote
) -> None:
    tally = final(policy, sequence)
    assume(tally.status.is_settled)
    result = cast_vote(tally, late, policy)
    assert (result.tally, result.outcome, result.settled_now) == (tally, VoteOutcome.LATE, False)


@given(policy=policies(), gold=verdicts, sequence=vote_sequences)
def test_gold_clips_never_change(
    policy: ConsensusPolicy, gold: Verdict, sequence: list[Vote]
) -> None:
    tally = ClipTally.gold(gold)
    for after, outcome in replay(policy, sequence, tally):
        assert after == tally
        assert outcome is VoteOutcome.GOLD
    assert tally.status.verdict is gold


@given(status=st.sampled_from(list(ClipStatus)), verdict=verdicts)
def test_gold_keeps_a_decision_and_decides_the_undecided(
    status: ClipStatus, verdict: Verdict
) -> None:
    tally = ClipTally(status=status, valid_votes=2, log_odds_sum=2.0)
    if status.verdict is not None and status.verdict is not verdict:
        with pytest.raises(Conflict):
            tally.as_gold(verdict)
        return
    gold = tally.as_gold(verdict)
    assert gold.is_gold
    assert gold.status is ClipStatus.deciding(verdict)
    assert gold.counted_votes == 0  # the shadow tally starts over


@given(policy=policies(), sequence=vote_sequences, verdict=verdicts, strength=strengths)
def test_probation_votes_weigh_nothing(
    policy: ConsensusPolicy, sequence: list[Vote], verdict: Verdict, strength: float
) -> None:
    tally = final(policy, sequence)
    result = cast_vote(tally, vote(verdict, strength, on_probation=True), policy)
    assert result.tally == tally
    assert result.outcome in {VoteOutcome.IGNORED_PROBATION, VoteOutcome.LATE}


@given(policy=policies(), sequence=vote_sequences)
def test_settled_now_marks_exactly_the_settling_vote(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    tally = ClipTally()
    for each in sequence:
        result = cast_vote(tally, each, policy)
        assert result.settled_now == (
            not tally.status.is_settled and result.tally.status.is_settled
        )
        tally = result.tally


def test_the_prior_is_fixed_at_the_first_counted_vote() -> None:
    policy = DawidSkenePolicy()
    first = cast_vote(ClipTally(), vote(Verdict.VALID), policy, prior_log_odds=1.0).tally
    second = cast_vote(first, vote(Verdict.INVALID), policy, prior_log_odds=-2.0).tally
    assert second.prior_log_odds == 1.0
    ignored = cast_vote(ClipTally(), vote(Verdict.VALID, 0.0), policy, prior_log_odds=1.0)
    assert ignored.tally.prior_log_odds == 0.0


# --- the business examples ---------------------------------------------------------------


def _standing(sensitivity: float, specificity: float, *, established: bool = True) -> Any:
    return ValidatorStanding(
        reliability=Reliability(sensitivity, specificity),
        accuracy=(sensitivity + specificity) / 2,
        on_probation=False,
        established=established,
        gold_answers=10,
    )


def test_two_average_validators_decide_under_dawid_skene() -> None:
    policy = DawidSkenePolicy()
    average = _standing(0.8, 0.8)
    valid = Vote(uuid4(), Verdict.VALID, policy.evidence(Verdict.VALID, average))
    assert final(policy, [valid, valid]).status is ClipStatus.ACCEPTED


def test_an_always_valid_voter_moves_nothing_under_dawid_skene() -> None:
    always_valid = _standing(0.95, 0.05)  # says valid 95 % of the time, whatever the clip
    assert DawidSkenePolicy().evidence(Verdict.VALID, always_valid) == 0.0
    assert DawidSkenePolicy().evidence(Verdict.INVALID, always_valid) == 0.0
    mostly_valid = _standing(0.97, 0.3)  # an invalid answer from such a voter means a lot
    assert DawidSkenePolicy().evidence(Verdict.INVALID, mostly_valid) < -2.0


def test_legacy_weighted_accuracy_is_clamped_in_vote_weight() -> None:
    assert vote_log_odds(0.2) == 0.0
    assert vote_log_odds(1.0) == pytest.approx(math.log(99))
    policy = WeightedPolicy(ConsensusConfig(prior_valid=0.8))
    assert policy.prior_log_odds(MODEL) == pytest.approx(logit(0.8))


# --- distance to decision --------------------------------------------------------------


@given(policy=policies(), sequence=vote_sequences)
def test_distance_to_decision_is_the_fewest_typical_votes_that_settle(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    prior = policy.prior_log_odds(MODEL)
    tally = final(policy, sequence, prior)
    distance = distance_to_decision(tally, policy, MODEL)
    assert 0 <= distance <= policy.config.vote_cap
    assert (distance == 0) == tally.status.is_settled
    if distance == 0:
        return
    settles = []
    for verdict in Verdict:
        typical = policy.reference_vote(verdict, MODEL)
        after = replay(policy, [typical] * distance, tally, prior)
        assert not any(t.status.is_settled for t, _ in after[:-1])
        settles.append(after[-1][0].status.is_settled)
    assert any(settles)


def test_distance_shrinks_as_agreeing_votes_arrive() -> None:
    policy = WeightedPolicy(ConsensusConfig(accept_threshold=0.95, reject_threshold=0.05))
    sequence = [vote(Verdict.VALID, vote_log_odds(0.8))] * 3
    distances = [distance_to_decision(t, policy, MODEL) for t, _ in replay(policy, sequence)]
    assert [distance_to_decision(ClipTally(), policy, MODEL), *distances] == [3, 2, 1, 0]
    assert distance_to_decision(ClipTally(), MajorityPolicy(), MODEL) == 2
    assert distance_to_decision(ClipTally(), DawidSkenePolicy(), MODEL) == 2


# --- configuration ---------------------------------------------------------------------


def test_policies_are_chosen_by_name() -> None:
    assert isinstance(policy_named("majority"), MajorityPolicy)
    assert isinstance(policy_named(PolicyName.WEIGHTED), WeightedPolicy)
    assert isinstance(policy_named("dawid_skene"), DawidSkenePolicy)
    with pytest.raises(InvalidInput):
        policy_named("unanimity")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"accept_threshold": 0.4},
        {"reject_threshold": 0.0},
        {"reject_threshold": 0.5},
        {"prior_valid": 0.97},
        {"min_votes": 0},
        {"vote_cap": 1},
        {"reference_accuracy": 0.5},
        {"dispute_band": 0.5},
    ],
)
def test_invalid_config_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ConsensusConfig(**kwargs)


def test_a_vote_cannot_carry_evidence_against_its_own_verdict() -> None:
    with pytest.raises(InvalidInput):
        Vote(uuid4(), Verdict.VALID, -1.0)
    with pytest.raises(InvalidInput):
        Vote(uuid4(), Verdict.INVALID, 1.0)
