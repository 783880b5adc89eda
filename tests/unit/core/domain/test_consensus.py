"""Consensus rules: Common Voice's majority, weighted log-odds, cap, late votes, distance."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import (
    ConsensusConfig,
    ConsensusPolicy,
    MajorityPolicy,
    PolicyName,
    WeightedPolicy,
    cast_vote,
    distance_to_decision,
    logit,
    policy_named,
    vote_log_odds,
)
from core.errors import Conflict, InvalidInput

NEWCOMER = 0.8  # Beta(4, 1) prior mean
TRUSTED = 5 / 6  # a newcomer after one right gold answer

verdicts = st.sampled_from(Verdict)
accuracies = st.floats(min_value=0.0, max_value=1.0)
votes = st.builds(
    Vote,
    validator_id=st.uuids(),
    verdict=verdicts,
    accuracy=accuracies,
    on_probation=st.integers(min_value=0, max_value=5).map(lambda n: n == 0),
)
vote_sequences = st.lists(votes, max_size=12)


@st.composite
def configs(draw: st.DrawFn) -> ConsensusConfig:
    accept = draw(st.floats(min_value=0.55, max_value=0.999))
    reject = draw(st.floats(min_value=0.001, max_value=0.45))
    prior = draw(st.floats(min_value=reject + 0.01, max_value=accept - 0.01))
    min_votes = draw(st.integers(min_value=1, max_value=3))
    cap = draw(st.integers(min_value=min_votes, max_value=7))
    return ConsensusConfig(
        accept_threshold=accept,
        reject_threshold=reject,
        prior_valid=prior,
        min_votes=min_votes,
        vote_cap=cap,
    )


@st.composite
def policies(draw: st.DrawFn) -> ConsensusPolicy:
    return policy_named(draw(st.sampled_from(PolicyName)), draw(configs()))


def vote(verdict: Verdict, accuracy: float = NEWCOMER, *, on_probation: bool = False) -> Vote:
    return Vote(uuid4(), verdict, accuracy, on_probation)


def replay(
    policy: ConsensusPolicy, sequence: Sequence[Vote], tally: ClipTally | None = None
) -> list[tuple[ClipTally, VoteOutcome]]:
    """Cast every vote in order; the tally and outcome after each."""
    current = tally or ClipTally()
    history = []
    for each in sequence:
        result = cast_vote(current, each, policy)
        current = result.tally
        history.append((current, result.outcome))
    return history


def final(policy: ConsensusPolicy, sequence: Sequence[Vote]) -> ClipTally:
    history = replay(policy, sequence)
    return history[-1][0] if history else ClipTally()


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
    policy = MajorityPolicy(ConsensusConfig(vote_cap=cap))
    statuses = [tally.status for tally, _ in replay(policy, sequence)]
    assert statuses == common_voice_reference(sequence, cap)


@pytest.mark.parametrize("length", range(1, 8))
def test_majority_matches_common_voice_on_all_short_sequences(length: int) -> None:
    policy = MajorityPolicy()
    for combo in itertools.product(Verdict, repeat=length):
        sequence = [vote(v, accuracy=0.5) for v in combo]
        statuses = [tally.status for tally, _ in replay(policy, sequence)]
        assert statuses == common_voice_reference(sequence, cap=5), combo


def test_majority_with_odd_cap_always_decides() -> None:
    policy = MajorityPolicy()
    for combo in itertools.product(Verdict, repeat=5):
        assert final(policy, [vote(v) for v in combo]).status in {
            ClipStatus.ACCEPTED,
            ClipStatus.REJECTED,
        }


# --- weighted: log-odds ----------------------------------------------------------------


@given(
    sequence=vote_sequences,
    config=configs(),
    verdict=verdicts,
    accuracy=st.floats(min_value=0.0, max_value=0.5),
)
def test_weighted_coin_flipper_changes_nothing(
    sequence: list[Vote], config: ConsensusConfig, verdict: Verdict, accuracy: float
) -> None:
    policy = WeightedPolicy(config)
    before = final(policy, sequence)
    result = cast_vote(before, vote(verdict, accuracy), policy)
    assert result.tally == before
    assert result.outcome in {VoteOutcome.IGNORED_WEIGHTLESS, VoteOutcome.LATE}


@given(sequence=vote_sequences, config=configs(), accuracy=accuracies)
def test_weighted_valid_vote_never_lowers_probability_valid(
    sequence: list[Vote], config: ConsensusConfig, accuracy: float
) -> None:
    policy = WeightedPolicy(config)
    before = final(policy, sequence)
    valid_after = cast_vote(before, vote(Verdict.VALID, accuracy), policy).tally
    invalid_after = cast_vote(before, vote(Verdict.INVALID, accuracy), policy).tally
    assert policy.probability_valid(valid_after) >= policy.probability_valid(before)
    assert policy.probability_valid(invalid_after) <= policy.probability_valid(before)


def _flipped(sequence: Sequence[Vote]) -> list[Vote]:
    return [Vote(v.validator_id, v.verdict.flipped(), v.accuracy, v.on_probation) for v in sequence]


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
)
def test_flipping_every_verdict_flips_the_decision(
    sequence: list[Vote], name: PolicyName, confidence: float, cap: int
) -> None:
    config = ConsensusConfig(
        accept_threshold=confidence, reject_threshold=1.0 - confidence, vote_cap=cap
    )
    policy = policy_named(name, config)
    history = replay(policy, sequence)
    # Exactly on a threshold, rounding in logit(t) vs logit(1 − t) could break the mirror.
    for tally, _ in history:
        for threshold in (config.accept_log_odds, config.reject_log_odds):
            assume(abs(abs(tally.log_odds_sum) - abs(threshold)) > 1e-9)
    mirrored = replay(policy, _flipped(sequence))
    assert [MIRROR[t.status] for t, _ in history] == [t.status for t, _ in mirrored]


# --- both: finality, cap, late votes, gold, probation ----------------------------------


@given(policy=policies(), sequence=vote_sequences)
def test_a_settled_clip_never_changes_status(policy: ConsensusPolicy, sequence: list[Vote]) -> None:
    settled: ClipTally | None = None
    for tally, outcome in replay(policy, sequence):
        if settled is not None:
            assert tally == settled
            assert outcome is VoteOutcome.LATE
        elif tally.status.is_settled:
            settled = tally


@given(policy=policies(), sequence=vote_sequences)
def test_vote_cap_ends_in_a_decision_or_dispute(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    history = replay(policy, sequence)
    counted = 0
    for tally, outcome in history:
        counted += outcome is VoteOutcome.COUNTED
        assert tally.counted_votes == counted <= policy.config.vote_cap
        if counted == policy.config.vote_cap:
            assert tally.status.is_settled


def test_undecided_weighted_clip_at_cap_is_disputed() -> None:
    policy = WeightedPolicy(ConsensusConfig(vote_cap=4))
    sequence = [vote(Verdict.VALID), vote(Verdict.INVALID)] * 2
    assert final(policy, sequence).status is ClipStatus.DISPUTED


@given(policy=policies(), sequence=vote_sequences, late=votes)
def test_late_vote_changes_nothing(
    policy: ConsensusPolicy, sequence: list[Vote], late: Vote
) -> None:
    tally = final(policy, sequence)
    assume(tally.status.is_settled)
    result = cast_vote(tally, late, policy)
    assert (result.tally, result.outcome, result.settled_now) == (
        tally,
        VoteOutcome.LATE,
        False,
    )


@given(policy=policies(), gold=verdicts, sequence=vote_sequences)
def test_gold_clips_never_change_status(
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
    tally = ClipTally(status=status)
    if status.verdict is not None and status.verdict is not verdict:
        with pytest.raises(Conflict):
            tally.as_gold(verdict)
        return
    gold = tally.as_gold(verdict)
    assert gold.is_gold
    assert gold.status is ClipStatus.deciding(verdict)


@given(policy=policies(), sequence=vote_sequences, verdict=verdicts, accuracy=accuracies)
def test_probation_votes_weigh_nothing(
    policy: ConsensusPolicy, sequence: list[Vote], verdict: Verdict, accuracy: float
) -> None:
    tally = final(policy, sequence)
    result = cast_vote(tally, vote(verdict, accuracy, on_probation=True), policy)
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


# --- weighted: the business examples ---------------------------------------------------


def test_two_trusted_validators_decide_but_two_newcomers_need_a_third() -> None:
    policy = WeightedPolicy()
    assert final(policy, [vote(Verdict.VALID, TRUSTED)] * 2).status is ClipStatus.ACCEPTED
    two = final(policy, [vote(Verdict.INVALID, NEWCOMER)] * 2)
    assert two.status is ClipStatus.PENDING
    assert final(policy, [vote(Verdict.INVALID, NEWCOMER)] * 3).status is ClipStatus.REJECTED


def test_one_very_accurate_vote_is_not_enough() -> None:
    tally = final(WeightedPolicy(), [vote(Verdict.VALID, 0.99)])
    assert tally.status is ClipStatus.PENDING
    assert WeightedPolicy().probability_valid(tally) > 0.95


def test_accuracy_is_clamped_in_vote_weight() -> None:
    assert vote_log_odds(0.2) == 0.0
    assert vote_log_odds(1.0) == pytest.approx(math.log(99))


def test_prior_shifts_the_log_odds() -> None:
    policy = WeightedPolicy(ConsensusConfig(prior_valid=0.8))
    assert policy.log_odds(ClipTally()) == pytest.approx(logit(0.8))
    two = final(policy, [vote(Verdict.VALID, NEWCOMER)] * 2)
    assert two.status is ClipStatus.ACCEPTED


# --- distance to decision --------------------------------------------------------------


def _reference_vote(policy: ConsensusPolicy, verdict: Verdict) -> Vote:
    accuracy = policy.config.reference_accuracy if policy.name is PolicyName.WEIGHTED else 0.5
    return Vote(UUID(int=0), verdict, accuracy)


@given(policy=policies(), sequence=vote_sequences)
def test_distance_to_decision_is_the_fewest_votes_that_settle(
    policy: ConsensusPolicy, sequence: list[Vote]
) -> None:
    tally = final(policy, sequence)
    distance = distance_to_decision(tally, policy)
    assert 0 <= distance <= policy.config.vote_cap
    assert (distance == 0) == tally.status.is_settled
    if distance == 0:
        return
    settles = []
    for verdict in Verdict:
        after = replay(policy, [_reference_vote(policy, verdict)] * distance, tally)
        assert not any(t.status.is_settled for t, _ in after[:-1])
        settles.append(after[-1][0].status.is_settled)
    assert any(settles)


def test_distance_shrinks_as_agreeing_votes_arrive() -> None:
    policy = WeightedPolicy()
    distances = [
        distance_to_decision(tally, policy)
        for tally, _ in replay(policy, [vote(Verdict.VALID, NEWCOMER)] * 3)
    ]
    assert [distance_to_decision(ClipTally(), policy), *distances] == [3, 2, 1, 0]
    assert distance_to_decision(ClipTally(), MajorityPolicy()) == 2


# --- configuration ---------------------------------------------------------------------


def test_policies_are_chosen_by_name() -> None:
    assert isinstance(policy_named("majority"), MajorityPolicy)
    assert isinstance(policy_named(PolicyName.WEIGHTED), WeightedPolicy)
    with pytest.raises(InvalidInput):
        policy_named("unanimity")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"accept_threshold": 0.4},
        {"reject_threshold": 0.0},
        {"prior_valid": 0.97},
        {"min_votes": 0},
        {"vote_cap": 1},
        {"reference_accuracy": 0.5},
    ],
)
def test_invalid_config_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ConsensusConfig(**kwargs)


def test_vote_accuracy_must_be_a_probability() -> None:
    with pytest.raises(InvalidInput):
        vote(Verdict.VALID, 1.5)
