"""The crowd simulation: crowds built as specified, reproducible runs that replay production's
rules, and the sweep's reading of a policy at the CV rule's votes per clip."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.clips import ClipStatus, Verdict
from core.domain.consensus import PolicyName
from core.domain.simulation import (
    CROWD_MIXES,
    DRIFT_WINDOW,
    HONEST_ACCURACY,
    NOISY_ACCURACY,
    POOR_ACCURACY,
    Behaviour,
    CrowdKind,
    Role,
    SimulationParams,
    SimulationResult,
    SweepPoint,
    build_crowd,
    combine,
    error_at_votes,
    offline_dawid_skene,
    simulate,
    simulate_with_log,
    sweep,
    sweep_runs,
)
from core.errors import InvalidInput

SMALL = SimulationParams(clips=150, validators=40, open_clips=30, refit_every=50)


def within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


# -- crowds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(CrowdKind))
def test_each_crowd_has_its_roles_in_its_shares(kind: CrowdKind) -> None:
    crowd = build_crowd(kind, 200, random.Random(1))
    counts = Counter(member.role for member in crowd)
    assert len(crowd) == 200
    assert counts == {role: round(200 * share) for role, share in CROWD_MIXES[kind]}
    assert all(len(member.behaviour) == kind.languages for member in crowd)
    assert all(member.activity > 0 for member in crowd)


def test_the_crowd_mixes_are_the_issues() -> None:
    shares = {kind: dict(mix) for kind, mix in CROWD_MIXES.items()}
    standard = {Role.HONEST: 0.7, Role.NOISY: 0.2, Role.COIN_FLIPPER: 0.1}
    assert shares[CrowdKind.STANDARD] == standard
    assert shares[CrowdKind.COLD_START] == standard
    assert shares[CrowdKind.COIN_FLIPPERS][Role.COIN_FLIPPER] == 0.2
    one_sided = shares[CrowdKind.ONE_SIDED]
    assert one_sided[Role.ALWAYS_VALID] == one_sided[Role.ALWAYS_INVALID] == 0.15
    drift = shares[CrowdKind.DRIFT]
    assert drift[Role.HONEST] + drift[Role.DRIFTING] == pytest.approx(0.7)
    for mix in CROWD_MIXES.values():
        assert sum(share for _, share in mix) == pytest.approx(1.0)


@pytest.mark.parametrize("kind", list(CrowdKind))
def test_behaviours_lie_in_their_roles_ranges(kind: CrowdKind) -> None:
    for member in build_crowd(kind, 300, random.Random(2)):
        rates = {(b.sensitivity, b.specificity) for b in member.behaviour}
        if member.role is Role.HONEST:
            assert all(s == p and within(s, HONEST_ACCURACY) for s, p in rates)
        elif member.role is Role.NOISY:
            assert all(s == p and within(s, NOISY_ACCURACY) for s, p in rates)
        elif member.role is Role.COIN_FLIPPER:
            assert rates == {(0.5, 0.5)}
        elif member.role is Role.ALWAYS_VALID:
            assert rates == {(1.0, 0.0)}
        elif member.role is Role.ALWAYS_INVALID:
            assert rates == {(0.0, 1.0)}


def test_uneven_validators_are_good_in_some_languages_and_poor_in_the_others() -> None:
    crowd = build_crowd(CrowdKind.LANGUAGE, 300, random.Random(3))
    uneven = [member for member in crowd if member.role is Role.UNEVEN]
    assert len(uneven) == 270
    good_counts = Counter()
    for member in uneven:
        good = [b for b in member.behaviour if within(b.sensitivity, HONEST_ACCURACY)]
        poor = [b for b in member.behaviour if within(b.sensitivity, POOR_ACCURACY)]
        assert len(good) + len(poor) == 3
        assert 1 <= len(good) <= 2
        good_counts[len(good)] += 1
    assert good_counts[1] > 50
    assert good_counts[2] > 50


def test_drifting_validators_degrade_part_way() -> None:
    crowd = build_crowd(CrowdKind.DRIFT, 300, random.Random(4))
    drifting = [member for member in crowd if member.role is Role.DRIFTING]
    assert len(drifting) == 84  # 40 % of the 70 % honest
    for member in drifting:
        assert within(member.drifts_at, DRIFT_WINDOW)
        assert member.drifted is not None
        before = member.behaviour_at(0, member.drifts_at - 0.01)
        assert within(before.sensitivity, HONEST_ACCURACY)
        assert member.behaviour_at(0, member.drifts_at) == member.drifted
        assert within(member.drifted.sensitivity, POOR_ACCURACY)
    steady = [member for member in crowd if member.role is not Role.DRIFTING]
    assert all(m.behaviour_at(0, 1.0) == m.behaviour[0] for m in steady)


@given(
    sensitivity=st.floats(0.0, 1.0),
    specificity=st.floats(0.0, 1.0),
    draw=st.floats(0.0, 1.0, exclude_max=True),
)
def test_a_behaviour_answers_right_exactly_below_its_rate(
    sensitivity: float, specificity: float, draw: float
) -> None:
    behaviour = Behaviour(sensitivity, specificity)
    assert (behaviour.answer(Verdict.VALID, draw) is Verdict.VALID) == (draw < sensitivity)
    assert (behaviour.answer(Verdict.INVALID, draw) is Verdict.INVALID) == (draw < specificity)


# -- runs -------------------------------------------------------------------------------------


def assert_consistent(result: SimulationResult, params: SimulationParams) -> None:
    assert result.clips == params.clips
    assert result.accepted + result.rejected + result.disputed + result.unsettled == params.clips
    assert 0 <= result.correct <= result.decided
    assert result.counted_votes + result.late_votes <= result.votes_cast
    assert result.label_accuracy <= result.decided_label_accuracy or result.decided == 0
    assert 0.0 <= result.late_share <= 1.0
    assert result.refits >= 1


def test_same_params_give_the_same_result() -> None:
    params = replace(SMALL, seed=7)
    assert simulate(params) == simulate(params)
    assert simulate(params) != simulate(replace(params, seed=8))


@pytest.mark.parametrize("kind", list(CrowdKind))
@pytest.mark.parametrize("policy", list(PolicyName))
def test_every_crowd_and_policy_runs_to_a_consistent_end(
    kind: CrowdKind, policy: PolicyName
) -> None:
    params = replace(SMALL, kind=kind).with_policy(policy)
    result = simulate(params)
    assert_consistent(result, params)
    assert result.kind is kind
    assert result.policy is policy
    assert result.unsettled == 0
    assert result.gold_answers > 0


def test_a_tiny_crowd_stalls_and_leaves_clips_unsettled() -> None:
    params = replace(SMALL, validators=3, clips=60)
    result = simulate(params)
    assert_consistent(result, params)
    assert result.unsettled > 0


def test_concurrent_sessions_cast_late_votes_and_a_lone_one_none() -> None:
    alone = simulate(SMALL)
    crowded = simulate(replace(SMALL, sessions_at_once=6))
    assert alone.late_votes == 0
    assert crowded.late_votes > 0
    assert crowded.counted_votes <= crowded.votes_cast - crowded.late_votes


def test_the_vote_log_holds_each_validator_once_per_clip_and_gold_with_its_truth() -> None:
    result, log = simulate_with_log(SMALL)
    pairs = Counter((answer.validator, answer.clip) for answer in log.answers)
    assert max(pairs.values()) == 1
    gold = [answer for answer in log.answers if answer.truth is not None]
    assert len(gold) == result.gold_answers + SMALL.validators * SMALL.history_gold_answers
    assert set(log.truth) == set(range(SMALL.clips))
    assert len(log.status) == SMALL.clips - result.unsettled
    statuses = Counter(log.status.values())
    assert statuses[ClipStatus.ACCEPTED] == result.accepted
    decided_right = {
        clip: status.verdict for clip, status in log.status.items() if status.verdict is not None
    }
    assert log.accuracy_of(decided_right) == result.label_accuracy


def test_offline_dawid_skene_labels_every_voted_clip() -> None:
    _, log = simulate_with_log(SMALL)
    labels = offline_dawid_skene(log)
    assert set(labels) <= set(log.truth)
    assert len(labels) >= 0.95 * len(log.truth)
    assert log.accuracy_of(labels) > 0.8


def test_cold_start_begins_with_no_history_and_little_gold() -> None:
    params = replace(SMALL, kind=CrowdKind.COLD_START, clips=40, refit_every=1000)
    _, log = simulate_with_log(params)
    gold_clips = {answer.clip for answer in log.answers if answer.truth is not None}
    # 2 gold clips at first, one more per 20 clips settled: 4 after 40 clips.
    assert len(gold_clips) <= params.cold_start_gold_clips + params.clips // 20
    warm = replace(params, kind=CrowdKind.STANDARD)
    _, warm_log = simulate_with_log(warm)
    history = sum(answer.truth is not None for answer in warm_log.answers)
    assert history >= warm.validators * warm.history_gold_answers


def test_plain_common_voice_puts_nobody_on_probation() -> None:
    params = replace(SMALL, kind=CrowdKind.COIN_FLIPPERS)
    plain = simulate(params.as_plain_common_voice())
    production = simulate(params.with_policy(PolicyName.MAJORITY))
    assert plain.plain_common_voice
    assert plain.policy is PolicyName.MAJORITY
    assert plain.validators_on_probation == 0
    assert production.validators_on_probation > 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimulationParams(clips=0),
        lambda: SimulationParams(validators=0),
        lambda: SimulationParams(valid_share=1.5),
        lambda: SimulationParams(gold_valid_share=-0.1),
        lambda: SimulationParams(prior_strength=0.0),
        lambda: SimulationParams(page_size=0),
        lambda: SimulationParams(refit_every=0),
        lambda: SimulationParams(gold_clips=-1),
    ],
)
def test_invalid_params_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput):
        make()


# -- sweep ------------------------------------------------------------------------------------


def result_with(
    policy: PolicyName,
    threshold: float | None,
    errors: int,
    votes: int,
    kind: CrowdKind = CrowdKind.STANDARD,
    seed: int = 0,
    plain: bool = False,
) -> SimulationResult:
    return SimulationResult(
        kind=kind,
        policy=policy,
        accept_threshold=threshold,
        plain_common_voice=plain,
        seed=seed,
        clips=1000,
        accepted=1000 - errors,
        rejected=0,
        disputed=errors,
        unsettled=0,
        correct=1000 - errors,
        votes_cast=votes,
        counted_votes=votes,
        late_votes=0,
        gold_answers=100,
        validators_on_probation=0,
        refits=1,
    )


def point(threshold: float, errors: int, votes: int) -> SweepPoint:
    return SweepPoint(
        PolicyName.DAWID_SKENE,
        threshold,
        (result_with(PolicyName.DAWID_SKENE, threshold, errors, votes),),
    )


def test_the_error_at_given_votes_is_interpolated_between_the_bracketing_thresholds() -> None:
    curve = [point(0.7, 60, 2100), point(0.8, 40, 2300), point(0.9, 20, 2700)]
    at = error_at_votes(curve, 2.4)
    assert at is not None
    assert at.interpolated
    assert at.between == (0.8, 0.9)
    # a quarter of the way from (2.3, 4 %) to (2.7, 2 %)
    assert at.error_rate == pytest.approx(0.035)
    assert at.votes_per_clip == 2.4


def test_a_point_on_the_curve_reads_exactly() -> None:
    curve = [point(0.7, 60, 2100), point(0.8, 40, 2300)]
    at = error_at_votes(curve, 2.3)
    assert at is not None
    assert at.error_rate == pytest.approx(0.04)


def test_beyond_the_costliest_threshold_the_costliest_point_is_used_and_said() -> None:
    curve = [point(0.7, 60, 2100), point(0.8, 40, 2300)]
    at = error_at_votes(curve, 3.0)
    assert at is not None
    assert not at.interpolated
    assert at.between == (0.8, 0.8)
    assert at.votes_per_clip == 2.3
    assert at.error_rate == pytest.approx(0.04)


def test_below_the_cheapest_threshold_there_is_no_reading() -> None:
    assert error_at_votes([point(0.7, 60, 2100), point(0.8, 40, 2300)], 2.0) is None


@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(2000, 4000)), min_size=2, max_size=8),
    st.floats(2.0, 4.0),
)
def test_an_interpolated_error_lies_between_its_brackets(
    errors_and_votes: list[tuple[int, int]], votes: float
) -> None:
    curve = [
        point(0.55 + 0.05 * index, errors, cast)
        for index, (errors, cast) in enumerate(errors_and_votes)
    ]
    at = error_at_votes(curve, votes)
    if at is None:
        assert all(p.votes_per_clip > votes for p in curve)
        return
    if at.interpolated:
        low, high = (next(p for p in curve if p.accept_threshold == t) for t in at.between)
        assert min(low.votes_per_clip, high.votes_per_clip) <= votes
        assert votes <= max(low.votes_per_clip, high.votes_per_clip)
        bounds = sorted((low.error_rate, high.error_rate))
        assert bounds[0] - 1e-12 <= at.error_rate <= bounds[1] + 1e-12
    else:
        assert all(p.votes_per_clip < votes for p in curve)


def test_combine_groups_seeds_and_reads_policies_relative_to_both_baselines() -> None:
    results = [
        result_with(PolicyName.MAJORITY, None, 40, 2300, seed=0),
        result_with(PolicyName.MAJORITY, None, 60, 2300, seed=1),
        result_with(PolicyName.MAJORITY, None, 80, 2100, seed=0, plain=True),
        result_with(PolicyName.DAWID_SKENE, 0.8, 30, 2200, seed=0),
        result_with(PolicyName.DAWID_SKENE, 0.8, 30, 2200, seed=1),
        result_with(PolicyName.DAWID_SKENE, 0.9, 10, 2400, seed=0),
        result_with(PolicyName.DAWID_SKENE, 0.9, 10, 2400, seed=1),
    ]
    swept = combine(results)
    assert swept.kind is CrowdKind.STANDARD
    assert swept.majority.error_rate == pytest.approx(0.05)
    assert [p.accept_threshold for p in swept.curves[PolicyName.DAWID_SKENE]] == [0.8, 0.9]
    # CV: 5 % errors at 2.3 votes; DS: halfway from 3 % to 1 % → 2 %, i.e. ×0.4.
    assert swept.relative_errors(PolicyName.DAWID_SKENE) == pytest.approx(0.4)
    assert swept.common_voice is not None
    assert swept.relative_errors(PolicyName.DAWID_SKENE, plain=True) is None  # 2.1 < 2.2


def test_combine_needs_majority_runs_of_one_crowd() -> None:
    with pytest.raises(InvalidInput):
        combine([result_with(PolicyName.DAWID_SKENE, 0.8, 30, 2200)])
    with pytest.raises(InvalidInput):
        combine(
            [
                result_with(PolicyName.MAJORITY, None, 40, 2300),
                result_with(PolicyName.MAJORITY, None, 40, 2300, kind=CrowdKind.DRIFT),
            ]
        )


def test_a_sweep_runs_both_baselines_and_every_threshold_on_the_same_seed() -> None:
    runs = sweep_runs(replace(SMALL, seed=5), thresholds=(0.9, 0.8))
    assert [(r.policy, r.plain_common_voice) for r in runs[:2]] == [
        (PolicyName.MAJORITY, False),
        (PolicyName.MAJORITY, True),
    ]
    thresholded = [(r.policy, r.rules.policy.config.accept_threshold) for r in runs[2:]]
    assert thresholded == [
        (PolicyName.DAWID_SKENE, 0.8),
        (PolicyName.DAWID_SKENE, 0.9),
        (PolicyName.WEIGHTED, 0.8),
        (PolicyName.WEIGHTED, 0.9),
    ]
    assert {r.seed for r in runs} == {5}
    assert runs[3].rules.policy.config.reject_threshold == pytest.approx(0.1)


def test_a_small_sweep_end_to_end() -> None:
    swept = sweep(SMALL, thresholds=(0.7, 0.99), seeds=(0, 1))
    assert len(swept.majority.results) == 2
    assert set(swept.curves) == {PolicyName.DAWID_SKENE, PolicyName.WEIGHTED}
    cheap, dear = swept.curves[PolicyName.DAWID_SKENE]
    assert cheap.votes_per_clip < dear.votes_per_clip
