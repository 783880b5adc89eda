"""Validator accuracy (Beta posterior), clamping, probation and gold answers."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.accuracy import (
    MAX_ACCURACY,
    MIN_ACCURACY,
    AccuracyConfig,
    ValidatorAccuracy,
    clamp_accuracy,
)
from core.domain.clips import ClipStatus, ClipTally, Verdict, VoteOutcome
from core.domain.consensus import WeightedPolicy, cast_vote
from core.errors import InvalidInput

DEFAULT = AccuracyConfig()
counts = st.integers(min_value=0, max_value=10_000)
histories = st.builds(
    ValidatorAccuracy,
    gold_right=counts,
    gold_wrong=counts,
    consensus_agreed=counts,
    consensus_disagreed=counts,
)
accuracy_configs = st.builds(
    AccuracyConfig,
    prior_alpha=st.floats(min_value=0.01, max_value=1000),
    prior_beta=st.floats(min_value=0.01, max_value=1000),
    consensus_weight=st.floats(min_value=0.0, max_value=1.0),
    probation_floor=st.floats(min_value=MIN_ACCURACY, max_value=MAX_ACCURACY),
    probation_min_gold_answers=st.integers(min_value=0, max_value=50),
)
answers = st.lists(st.tuples(st.booleans(), st.sampled_from(Verdict), st.sampled_from(Verdict)))


def gold_answers(record: ValidatorAccuracy, right: int, wrong: int) -> ValidatorAccuracy:
    for _ in range(right):
        record = record.after_gold_answer(Verdict.VALID, Verdict.VALID)
    for _ in range(wrong):
        record = record.after_gold_answer(Verdict.INVALID, Verdict.VALID)
    return record


@given(record=histories, config=accuracy_configs)
def test_accuracy_stays_within_clamp_for_any_counts(
    record: ValidatorAccuracy, config: AccuracyConfig
) -> None:
    assert MIN_ACCURACY <= record.accuracy(config) <= MAX_ACCURACY


@given(history=answers, config=accuracy_configs)
def test_accuracy_stays_within_clamp_for_any_answer_history(
    history: list[tuple[bool, Verdict, Verdict]], config: AccuracyConfig
) -> None:
    record = ValidatorAccuracy()
    for is_gold, answer, truth in history:
        if is_gold:
            record = record.after_gold_answer(answer, truth)
        else:
            record = record.after_settled_clip(answer, ClipStatus.deciding(truth))
        assert MIN_ACCURACY <= record.accuracy(config) <= MAX_ACCURACY


@given(record=histories, answer=st.sampled_from(Verdict))
def test_a_right_answer_never_lowers_accuracy_and_a_wrong_one_never_raises_it(
    record: ValidatorAccuracy, answer: Verdict
) -> None:
    before = record.accuracy(DEFAULT)
    assert record.after_gold_answer(answer, answer).accuracy(DEFAULT) >= before
    assert record.after_gold_answer(answer, answer.flipped()).accuracy(DEFAULT) <= before
    decided = ClipStatus.deciding(answer)
    assert record.after_settled_clip(answer, decided).accuracy(DEFAULT) >= before


def test_clamp() -> None:
    assert clamp_accuracy(0.1) == MIN_ACCURACY
    assert clamp_accuracy(1.0) == MAX_ACCURACY
    assert clamp_accuracy(0.7) == 0.7


def test_newcomer_is_trusted_at_the_prior_mean() -> None:
    assert ValidatorAccuracy().accuracy(DEFAULT) == pytest.approx(0.8)
    assert ValidatorAccuracy().posterior(DEFAULT) == (4.0, 1.0)


def test_consensus_agreement_counts_as_a_weighted_answer() -> None:
    record = ValidatorAccuracy().after_settled_clip(Verdict.INVALID, ClipStatus.ACCEPTED)
    assert record.posterior(DEFAULT) == (4.0, 1.5)
    assert record.gold_answers == 0


@pytest.mark.parametrize("status", [ClipStatus.PENDING, ClipStatus.DISPUTED])
def test_undecided_clips_teach_nothing(status: ClipStatus) -> None:
    record = ValidatorAccuracy()
    assert record.after_settled_clip(Verdict.VALID, status) is record


# --- probation -------------------------------------------------------------------------


def test_no_probation_before_enough_gold_answers_however_wrong() -> None:
    record = gold_answers(ValidatorAccuracy(), right=0, wrong=19)
    assert record.accuracy(DEFAULT) == MIN_ACCURACY
    assert not record.is_on_probation(DEFAULT)
    assert gold_answers(record, right=0, wrong=1).is_on_probation(DEFAULT)


def test_spammer_goes_on_probation_after_twenty_gold_answers() -> None:
    spammer = gold_answers(ValidatorAccuracy(), right=10, wrong=10)
    assert spammer.accuracy(DEFAULT) == pytest.approx(14 / 25)
    assert spammer.standing(DEFAULT).on_probation


def test_honest_validator_is_not_on_probation() -> None:
    honest = gold_answers(ValidatorAccuracy(), right=18, wrong=2)
    assert not honest.is_on_probation(DEFAULT)


def test_probation_ends_when_accuracy_recovers() -> None:
    record = gold_answers(ValidatorAccuracy(), right=10, wrong=10)
    steps = 0
    while record.is_on_probation(DEFAULT):
        record = gold_answers(record, right=1, wrong=0)
        steps += 1
    assert record.accuracy(DEFAULT) >= DEFAULT.probation_floor
    assert steps == 12  # (14 + k) / (25 + k) ≥ 0.7 first holds at k = 12


def test_consensus_agreement_also_helps_recovery() -> None:
    record = gold_answers(ValidatorAccuracy(), right=10, wrong=10)
    for _ in range(40):
        record = record.after_settled_clip(Verdict.VALID, ClipStatus.ACCEPTED)
    assert not record.is_on_probation(DEFAULT)


@given(record=histories, config=accuracy_configs)
def test_probation_is_exactly_low_accuracy_after_enough_gold(
    record: ValidatorAccuracy, config: AccuracyConfig
) -> None:
    expected = (
        record.gold_answers >= config.probation_min_gold_answers
        and record.accuracy(config) < config.probation_floor
    )
    assert record.is_on_probation(config) is expected
    assert record.standing(config).on_probation is expected


def test_standing_is_snapshotted_into_the_vote() -> None:
    validator = uuid4()
    vote = gold_answers(ValidatorAccuracy(), 1, 0).standing(DEFAULT).vote(validator, Verdict.VALID)
    assert (vote.validator_id, vote.verdict, vote.on_probation) == (validator, Verdict.VALID, False)
    assert vote.accuracy == pytest.approx(5 / 6)


# --- gold clips ------------------------------------------------------------------------


@given(record=histories, gold=st.sampled_from(Verdict), answer=st.sampled_from(Verdict))
def test_gold_answer_scores_validator_and_leaves_clip_alone(
    record: ValidatorAccuracy, gold: Verdict, answer: Verdict
) -> None:
    clip = ClipTally.gold(gold)
    vote = record.standing(DEFAULT).vote(uuid4(), answer)
    result = cast_vote(clip, vote, WeightedPolicy())
    assert result.tally == clip
    assert result.outcome is VoteOutcome.GOLD
    scored = record.after_gold_answer(answer, clip.status.verdict or gold)
    assert scored.gold_answers == record.gold_answers + 1
    assert scored.gold_right == record.gold_right + (answer is gold)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prior_alpha": 0},
        {"prior_beta": -1},
        {"consensus_weight": 1.5},
        {"probation_floor": 0.3},
        {"probation_min_gold_answers": -1},
    ],
)
def test_invalid_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        AccuracyConfig(**kwargs)
