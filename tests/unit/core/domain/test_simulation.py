"""The crowd simulation: reproducible, fast, and weighted beats majority against spammers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from core.domain.consensus import ConsensusConfig, PolicyName
from core.domain.simulation import (
    CrowdProfile,
    SimulationParams,
    SimulationResult,
    compare_policies,
    simulate,
    sweep_thresholds,
)
from core.errors import InvalidInput

SPAMMY_CROWD = CrowdProfile(honest_share=0.6, noisy_share=0.2, spammer_share=0.2)
SAME_BUDGET = ConsensusConfig(accept_threshold=0.75, reject_threshold=0.25)


def assert_consistent(result: SimulationResult, params: SimulationParams) -> None:
    assert result.clips == params.clips
    assert result.accepted + result.rejected + result.disputed + result.unsettled == result.clips
    assert 0 <= result.correct <= result.decided
    for share in (result.label_accuracy, result.decided_label_accuracy, result.disputed_share):
        assert 0.0 <= share <= 1.0
    assert result.votes_per_clip >= 1.0


def test_same_params_give_the_same_result() -> None:
    params = SimulationParams(clips=300, seed=7)
    assert simulate(params) == simulate(params)
    assert simulate(params) != simulate(replace(params, seed=8))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_beats_majority_against_spammers_at_no_more_votes(seed: int) -> None:
    params = SimulationParams(crowd=SPAMMY_CROWD, consensus=SAME_BUDGET, seed=seed)
    majority, weighted = compare_policies(params)
    assert_consistent(majority, params)
    assert_consistent(weighted, params)
    assert weighted.label_accuracy > majority.label_accuracy
    assert weighted.decided_label_accuracy > majority.decided_label_accuracy
    assert weighted.votes_per_clip <= majority.votes_per_clip


def test_default_thresholds_buy_more_confident_decisions() -> None:
    majority, weighted = compare_policies(SimulationParams(crowd=SPAMMY_CROWD, seed=0))
    assert weighted.decided_label_accuracy > majority.decided_label_accuracy + 0.05
    assert weighted.disputed > 0
    assert majority.disputed == 0  # an odd cap of 5 always lets Common Voice's rule decide


def test_two_thousand_clips_and_two_hundred_validators_run_in_seconds() -> None:
    started = time.perf_counter()
    result = simulate(SimulationParams(clips=2000, crowd=CrowdProfile(validators=200)))
    assert time.perf_counter() - started < 3.0
    assert result.votes_cast > 2000


def test_an_honest_crowd_labels_nearly_everything_right() -> None:
    crowd = CrowdProfile(honest_share=1.0, noisy_share=0.0, spammer_share=0.0, honest_accuracy=0.99)
    for policy in PolicyName:
        result = simulate(SimulationParams(clips=500, crowd=crowd, policy=policy))
        assert result.label_accuracy > 0.99


def test_spammers_end_on_probation_with_enough_gold() -> None:
    params = SimulationParams(clips=2000, crowd=CrowdProfile(validators=20), gold_rate=0.3)
    result = simulate(params)
    assert result.validators_on_probation >= 2
    assert result.gold_answers > 1000


def test_a_tiny_crowd_can_leave_clips_unsettled() -> None:
    params = SimulationParams(clips=300, crowd=CrowdProfile(validators=3), seed=3)
    result = simulate(params)
    assert_consistent(result, params)
    assert result.unsettled > 0


def test_sweep_gives_a_majority_baseline_and_one_row_per_threshold_and_cap() -> None:
    params = SimulationParams(clips=200)
    rows = sweep_thresholds(params, accept_thresholds=(0.8, 0.95), vote_caps=(3, 5))
    assert [(r.policy, r.accept_threshold, r.vote_cap) for r in rows] == [
        (PolicyName.MAJORITY, None, 3),
        (PolicyName.WEIGHTED, 0.8, 3),
        (PolicyName.WEIGHTED, 0.95, 3),
        (PolicyName.MAJORITY, None, 5),
        (PolicyName.WEIGHTED, 0.8, 5),
        (PolicyName.WEIGHTED, 0.95, 5),
    ]
    assert rows[2].reject_threshold == pytest.approx(0.05)
    assert all(0.0 <= r.label_accuracy <= r.decided_label_accuracy <= 1.0 for r in rows)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CrowdProfile(honest_share=0.9),
        lambda: CrowdProfile(validators=0),
        lambda: SimulationParams(clips=0),
        lambda: SimulationParams(gold_rate=0.5),
        lambda: SimulationParams(valid_share=1.5),
    ],
)
def test_invalid_params_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput):
        make()
