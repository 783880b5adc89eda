"""The Dawid–Skene model: evidence of a vote, learning, and the batch EM refit."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.clips import Verdict
from core.domain.dawid_skene import (
    MAX_EVIDENCE,
    VALID_SHARE_PSEUDO_CLIPS,
    Answer,
    ConfusionCounts,
    CrowdModel,
    Reliability,
    penalised_log_likelihood,
    pooled_model,
    refit,
)
from core.errors import InvalidInput

rates = st.floats(min_value=0.001, max_value=0.999)
verdicts = st.sampled_from(Verdict)


@given(s=rates, p=rates, said=verdicts)
def test_evidence_never_points_against_the_votes_own_verdict(
    s: float, p: float, said: Verdict
) -> None:
    evidence = Reliability(s, p).evidence(said)
    assert 0.0 <= abs(evidence) <= MAX_EVIDENCE
    if said is Verdict.VALID:
        assert evidence >= 0.0
    else:
        assert evidence <= 0.0


@given(said=verdicts)
def test_a_coin_flipper_carries_no_evidence(said: Verdict) -> None:
    assert Reliability(0.5, 0.5).evidence(said) == 0.0


@given(s=rates, p=rates, said=verdicts)
def test_flipping_the_verdict_and_swapping_the_rates_negates_the_evidence(
    s: float, p: float, said: Verdict
) -> None:
    assert Reliability(p, s).evidence(said.flipped()) == pytest.approx(
        -Reliability(s, p).evidence(said)
    )


@given(s=rates, p=rates)
def test_an_adversary_is_neutralised_not_inverted(s: float, p: float) -> None:
    reliability = Reliability(s, p)
    if reliability.informedness <= 0:
        assert reliability.evidence(Verdict.VALID) == 0.0
        assert reliability.evidence(Verdict.INVALID) == 0.0


@given(said=verdicts, q=st.floats(min_value=0.0, max_value=1.0))
def test_an_answer_adds_exactly_one_to_the_counts(said: Verdict, q: float) -> None:
    assert ConfusionCounts.of_answer(said, q).total == pytest.approx(1.0)


def test_counts_and_models_refuse_nonsense() -> None:
    with pytest.raises(InvalidInput):
        ConfusionCounts(said_valid_on_valid=-1.0)
    with pytest.raises(InvalidInput):
        CrowdModel(sensitivity=0.99)
    with pytest.raises(InvalidInput):
        CrowdModel(valid_share=0.01)
    with pytest.raises(InvalidInput):
        Reliability(1.0, 0.5)


def test_the_pooled_model_is_clipped_and_falls_back_without_data() -> None:
    perfect = [ConfusionCounts(said_valid_on_valid=100, said_invalid_on_invalid=100)]
    model = pooled_model(perfect, valid_share=0.999, prior_strength=4.0, fallback=CrowdModel())
    assert (model.sensitivity, model.specificity, model.valid_share) == (0.97, 0.97, 0.95)
    assert pooled_model([], 0.5, 4.0, CrowdModel(sensitivity=0.7)).sensitivity == 0.7


@st.composite
def histories(draw: st.DrawFn) -> list[Answer]:
    """A small vote history: some validators, clips with 1–5 answers, a few gold answers."""
    validators = draw(st.integers(min_value=1, max_value=6))
    clips = draw(st.integers(min_value=0, max_value=12))
    answers = []
    for clip in range(clips):
        voters = draw(st.lists(st.integers(0, validators - 1), min_size=1, max_size=5, unique=True))
        answers += [Answer(v, clip, draw(verdicts)) for v in voters]
    for index in range(draw(st.integers(min_value=0, max_value=6))):
        who = draw(st.integers(0, validators - 1))
        answers.append(Answer(who, f"gold-{index}", draw(verdicts), draw(verdicts)))
    return answers


@given(
    answers=histories(),
    start=st.builds(
        CrowdModel,
        sensitivity=st.floats(min_value=0.55, max_value=0.97),
        specificity=st.floats(min_value=0.55, max_value=0.97),
        valid_share=st.floats(min_value=0.05, max_value=0.95),
    ),
    rushed=st.integers(min_value=0, max_value=3),
)
@settings(max_examples=150, deadline=None)
def test_the_em_refit_never_lowers_the_penalised_likelihood(
    answers: list[Answer], start: CrowdModel, rushed: int
) -> None:
    extra = {0: ConfusionCounts(said_valid_on_invalid=float(rushed))}
    result = refit(answers, start=start, extra=extra, max_iterations=25, tolerance=0.0)
    objective = result.objective
    for before, after in itertools.pairwise(objective):
        assert after >= before - 1e-9 * max(1.0, abs(before))


def test_the_objective_reported_is_the_one_computed_from_the_fitted_rates() -> None:
    rng = random.Random(3)
    answers = [Answer(v, c, rng.choice(list(Verdict))) for c in range(30) for v in range(4)]
    result = refit(answers, start=CrowdModel(), max_iterations=40)
    start = CrowdModel()
    priors = start.priors
    fitted = {who: priors.reliability(counts) for who, counts in result.counts.items()}
    q = list(result.valid_probability.values())
    share = (sum(q) + VALID_SHARE_PSEUDO_CLIPS) / (len(q) + 2 * VALID_SHARE_PSEUDO_CLIPS)
    direct = penalised_log_likelihood(answers, fitted, min(0.95, max(0.05, share)), priors)
    assert direct == pytest.approx(result.objective[-1], rel=1e-9)


def test_the_refit_finds_the_adversary_and_the_one_sided_voter() -> None:
    rng = random.Random(7)
    truth = {clip: rng.random() < 0.7 for clip in range(400)}
    answers = []
    for clip, valid in truth.items():
        for honest in range(4):
            said_valid = valid if rng.random() < 0.9 else not valid
            answers.append(Answer(honest, clip, Verdict.VALID if said_valid else Verdict.INVALID))
        answers.append(Answer("liar", clip, Verdict.INVALID if valid else Verdict.VALID))
        answers.append(Answer("yes-man", clip, Verdict.VALID))
    result = refit(answers, start=CrowdModel())
    reliability = {who: CrowdModel().priors.reliability(c) for who, c in result.counts.items()}
    assert all(reliability[h].informedness > 0.7 for h in range(4))
    assert reliability["liar"].informedness < -0.5
    assert abs(reliability["yes-man"].informedness) < 0.1
    assert result.model.valid_share == pytest.approx(0.7, abs=0.06)
    labelled = sum((result.valid_probability[c] > 0.5) == v for c, v in truth.items())
    assert labelled / len(truth) > 0.97


def test_gold_answers_are_clamped_to_their_truth() -> None:
    answers = [Answer("a", f"g{i}", Verdict.INVALID, Verdict.VALID) for i in range(10)]
    result = refit(answers, start=CrowdModel())
    counts = result.counts["a"]
    assert counts.said_invalid_on_valid == 10.0
    assert counts.said_valid_on_valid == 0.0
    assert math.isclose(counts.total, 10.0)


def test_a_small_history_does_not_run_away_to_an_extreme_valid_share() -> None:
    """Six clips where a yes-man agrees with an honest validator, two where two honest
    validators say invalid: the refit must not decide those two are valid after all."""
    answers = []
    for clip in range(8):
        truth = Verdict.VALID if clip % 4 else Verdict.INVALID
        answers += [Answer("yes-man", clip, Verdict.VALID), Answer("honest", clip, truth)]
        if truth is Verdict.INVALID:
            answers.append(Answer("other", clip, truth))
    result = refit(answers, start=CrowdModel())
    assert result.valid_probability[0] < 0.2
    assert result.valid_probability[1] > 0.9
    rates = {who: CrowdModel().priors.reliability(c) for who, c in result.counts.items()}
    assert rates["honest"].balanced_accuracy > rates["yes-man"].balanced_accuracy
