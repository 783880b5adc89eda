"""Validator histories: what teaches them, probation, establishment, the legacy accuracy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.accuracy import (
    MAX_ACCURACY,
    MIN_ACCURACY,
    AccuracyConfig,
    ValidatorAccuracy,
    ValidatorRecord,
    clamp_accuracy,
)
from core.domain.clips import ClipStatus, Verdict
from core.domain.dawid_skene import ConfusionCounts, CrowdModel
from core.errors import InvalidInput

DEFAULT = AccuracyConfig()
MODEL = CrowdModel()
counts = st.integers(min_value=0, max_value=10_000)
soft = st.floats(min_value=0.0, max_value=1e4)
histories = st.builds(
    ValidatorAccuracy,
    confusion=st.builds(ConfusionCounts, soft, soft, soft, soft),
    gold_right=counts,
    gold_wrong=counts,
    consensus_agreed=counts,
    consensus_disagreed=counts,
    rushed_votes=counts,
)
accuracy_configs = st.builds(
    AccuracyConfig,
    prior_alpha=st.floats(min_value=0.01, max_value=1000),
    prior_beta=st.floats(min_value=0.01, max_value=1000),
    consensus_weight=st.floats(min_value=0.0, max_value=1.0),
    probation_floor=st.floats(min_value=MIN_ACCURACY, max_value=MAX_ACCURACY),
    probation_min_gold_answers=st.integers(min_value=0, max_value=50),
)
verdicts = st.sampled_from(Verdict)
probabilities = st.floats(min_value=0.0, max_value=1.0)


@given(record=histories, config=accuracy_configs)
def test_the_legacy_accuracy_stays_within_its_clamp(
    record: ValidatorAccuracy, config: AccuracyConfig
) -> None:
    assert MIN_ACCURACY <= record.legacy_accuracy(config) <= MAX_ACCURACY


@given(a=histories, b=histories, c=histories)
def test_adding_histories_is_associative_and_commutative(
    a: ValidatorAccuracy, b: ValidatorAccuracy, c: ValidatorAccuracy
) -> None:
    assert a.plus(b).plus(c).gold_answers == a.plus(b.plus(c)).gold_answers
    assert a.plus(b).confusion.as_tuple() == pytest.approx(b.plus(a).confusion.as_tuple())
    assert a.plus(ValidatorAccuracy()) == a


@given(record=histories, answer=verdicts, truth=verdicts)
def test_a_right_gold_answer_never_lowers_the_rate_of_its_class(
    record: ValidatorAccuracy, answer: Verdict, truth: Verdict
) -> None:
    before = record.reliability(MODEL)
    after = record.after_gold_answer(answer, truth).reliability(MODEL)
    rate = "sensitivity" if truth is Verdict.VALID else "specificity"
    if answer is truth:
        assert getattr(after, rate) >= getattr(before, rate)
    else:
        assert getattr(after, rate) <= getattr(before, rate)
    other = "specificity" if truth is Verdict.VALID else "sensitivity"
    assert getattr(after, other) == getattr(before, other)


@given(answer=verdicts, q=probabilities, status=st.sampled_from(list(ClipStatus)))
def test_a_settled_clip_adds_one_answer_split_by_its_probability(
    answer: Verdict, q: float, status: ClipStatus
) -> None:
    learned = ValidatorAccuracy().after_settled_clip(answer, status, q)
    assert learned.confusion.total == pytest.approx(1.0)
    valid_part = learned.confusion.said_valid_on_valid + learned.confusion.said_invalid_on_valid
    assert valid_part == pytest.approx(q)
    decided = status.verdict is not None
    assert learned.consensus_agreed + learned.consensus_disagreed == (1 if decided else 0)


@given(answer=verdicts)
def test_a_rushed_vote_counts_as_a_wrong_answer(answer: Verdict) -> None:
    rushed = ValidatorAccuracy().after_rushed_vote(answer)
    assert rushed.rushed_votes == 1
    wrong = ConfusionCounts.of_answer(answer, 0.0 if answer is Verdict.VALID else 1.0)
    assert rushed.confusion == wrong


def test_a_newcomer_is_the_crowds_average_validator() -> None:
    model = CrowdModel(sensitivity=0.9, specificity=0.7, valid_share=0.8)
    assert ValidatorAccuracy().reliability(model) == model.average_validator
    assert ValidatorAccuracy().legacy_accuracy(DEFAULT) == pytest.approx(0.8)


def test_no_probation_before_enough_gold_answers_however_wrong() -> None:
    record = ValidatorAccuracy()
    for _ in range(DEFAULT.probation_min_gold_answers - 1):
        record = record.after_gold_answer(Verdict.VALID, Verdict.INVALID)
    assert not record.is_due_for_probation(DEFAULT, MODEL)
    record = record.after_gold_answer(Verdict.VALID, Verdict.INVALID)
    assert record.is_due_for_probation(DEFAULT, MODEL)


def test_a_coin_flipper_is_due_for_probation_within_a_reachable_sample() -> None:
    record = ValidatorAccuracy()
    for truth in [Verdict.VALID, Verdict.INVALID] * 6:  # says valid whatever the clip
        record = record.after_gold_answer(Verdict.VALID, truth)
    assert record.is_due_for_probation(DEFAULT, MODEL)


def test_an_honest_validator_is_not_due_for_probation_and_recovery_is_possible() -> None:
    record = ValidatorAccuracy()
    for truth in [Verdict.VALID, Verdict.INVALID] * 5:
        record = record.after_gold_answer(truth, truth)
    assert not record.is_due_for_probation(DEFAULT, MODEL)
    for _ in range(10):
        record = record.after_gold_answer(Verdict.VALID, Verdict.INVALID)
    assert record.is_due_for_probation(DEFAULT, MODEL)
    for _ in range(30):
        record = record.after_gold_answer(Verdict.INVALID, Verdict.INVALID)
    assert not record.is_due_for_probation(DEFAULT, MODEL)


def test_established_after_enough_gold_answers() -> None:
    record = ValidatorAccuracy()
    for _ in range(DEFAULT.established_gold_answers):
        assert not record.is_established(DEFAULT)
        record = record.after_gold_answer(Verdict.VALID, Verdict.VALID)
    assert record.is_established(DEFAULT)


def test_the_standing_reads_the_stored_probation_not_a_live_one() -> None:
    record = ValidatorRecord(history=ValidatorAccuracy(), on_probation=True)
    standing = record.standing(DEFAULT, MODEL)
    assert standing.on_probation
    assert standing.reliability == MODEL.average_validator
    assert not standing.established


def test_clamp() -> None:
    assert clamp_accuracy(0.1) == MIN_ACCURACY
    assert clamp_accuracy(1.0) == MAX_ACCURACY
    assert clamp_accuracy(0.75) == 0.75


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prior_alpha": 0.0},
        {"prior_beta": -1.0},
        {"consensus_weight": 1.5},
        {"probation_floor": 0.4},
        {"probation_min_gold_answers": -1},
        {"established_gold_answers": -1},
    ],
)
def test_invalid_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        AccuracyConfig(**kwargs)  # type: ignore[arg-type]
