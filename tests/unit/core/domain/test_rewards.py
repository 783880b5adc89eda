"""Reward rates, what a clip decision earns, holding period and reversal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.ledger import Ledger, reward_earned, reward_released, reward_reversed
from core.domain.money import Money
from core.domain.rewards import (
    AGREEING_VERDICT,
    DEFAULT_HOLDING_PERIOD,
    Decision,
    Earning,
    InvalidRewardRate,
    RewardKind,
    RewardRate,
    ValidatorVote,
    calculate_rewards,
    check_new_rate,
    earnings_due_for_release,
    earnings_to_reverse,
    release_due,
    select_rate,
)
from core.errors import Conflict, InvalidInput

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CONTRIBUTOR = UUID(int=1)


def rate(
    n: int,
    kind: RewardKind = RewardKind.CLIP_ACCEPTED,
    minor: int = 1_000,
    *,
    currency: str = "NGN",
    language: str | None = None,
    days: int = 0,
    until_days: int | None = None,
) -> RewardRate:
    return RewardRate(
        id=UUID(int=n),
        kind=kind,
        amount=Money(minor, currency),
        valid_from=T0 + timedelta(days=days),
        valid_to=None if until_days is None else T0 + timedelta(days=until_days),
        language=language,
    )


def pick(
    rates: list[RewardRate], *, at_days: float = 10, language: str = "yo"
) -> RewardRate | None:
    return select_rate(
        rates,
        kind=RewardKind.CLIP_ACCEPTED,
        currency="NGN",
        language=language,
        at=T0 + timedelta(days=at_days),
    )


# -- rate rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [0, -5])
def test_rates_are_positive(minor: int) -> None:
    with pytest.raises(InvalidRewardRate) as error:
        rate(1, minor=minor)
    assert error.value.code == "non_positive_rate"


@pytest.mark.parametrize("until_days", [0, -1])
def test_rates_end_after_they_start(until_days: int) -> None:
    with pytest.raises(InvalidRewardRate) as error:
        rate(1, until_days=until_days)
    assert error.value.code == "invalid_rate_period"


def test_rate_times_are_aware_and_languages_normalised() -> None:
    with pytest.raises(InvalidInput):
        RewardRate(UUID(int=1), RewardKind.CLIP_ACCEPTED, Money(1, "NGN"), datetime(2025, 1, 1))
    assert rate(1, language="EN-ng").language == "en-NG"


def test_new_rates_start_now_or_later_and_never_collide() -> None:
    existing = [rate(1, days=5)]
    with pytest.raises(InvalidRewardRate) as error:
        check_new_rate(rate(2, days=3), existing, now=T0 + timedelta(days=4))
    assert error.value.code == "rate_in_past"
    with pytest.raises(Conflict) as conflict:
        check_new_rate(rate(2, minor=2_000, days=5), existing, now=T0)
    assert conflict.value.code == "rate_exists"
    check_new_rate(rate(2, days=5, language="yo"), existing, now=T0)
    check_new_rate(rate(2, days=6), existing, now=T0)


# -- choosing the rate in force ------------------------------------------------------------


def test_a_language_specific_rate_beats_a_newer_generic_one() -> None:
    rates = [rate(1, language="yo", days=0), rate(2, days=5)]
    assert pick(rates) == rates[0]
    assert pick(rates, language="ha") == rates[1]


def test_the_latest_start_wins_and_the_end_is_exclusive() -> None:
    old, new = rate(1, days=0), rate(2, days=5, until_days=8)
    assert pick([new, old], at_days=4) == old
    assert pick([new, old], at_days=5) == new
    assert pick([new, old], at_days=8) == old


def test_no_rate_in_force_means_none() -> None:
    assert pick([rate(1, days=20)]) is None
    assert pick([rate(1, currency="USD")]) is None
    assert pick([rate(1, kind=RewardKind.VALIDATION_AGREED)]) is None
    assert pick([rate(1, language="ha")]) is None


rate_lists = st.lists(
    st.builds(
        rate,
        n=st.integers(1, 10**6),
        kind=st.sampled_from(RewardKind),
        minor=st.integers(1, 10_000),
        currency=st.sampled_from(["NGN", "USD"]),
        language=st.sampled_from([None, "yo", "ha"]),
        days=st.integers(0, 20),
        until_days=st.one_of(st.none(), st.integers(21, 40)),
    ),
    max_size=12,
    unique_by=lambda r: r.id,
)


@given(rate_lists, st.randoms(), st.integers(0, 45), st.sampled_from(["yo", "ha", "ig"]))
def test_the_chosen_rate_is_in_force_best_and_independent_of_order(
    rates: list[RewardRate], rnd: Random, at_days: int, language: str
) -> None:
    chosen = pick(rates, at_days=at_days, language=language)
    shuffled = rates[:]
    rnd.shuffle(shuffled)
    assert pick(shuffled, at_days=at_days, language=language) == chosen
    instant = T0 + timedelta(days=at_days)
    eligible = [
        r
        for r in rates
        if r.applies_to(RewardKind.CLIP_ACCEPTED, "NGN", language) and r.in_force_at(instant)
    ]
    if chosen is None:
        assert eligible == []
        return
    assert chosen in eligible
    for other in eligible:
        assert (other.language is not None, other.valid_from) <= (
            chosen.language is not None,
            chosen.valid_from,
        )


# -- what a decision earns -----------------------------------------------------------------

CLIP_RATE = rate(1, RewardKind.CLIP_ACCEPTED, 5_000)
VALIDATION_RATE = rate(2, RewardKind.VALIDATION_AGREED, 700)
RATES = [CLIP_RATE, VALIDATION_RATE]

votes_strategy = st.lists(
    st.builds(
        ValidatorVote,
        validator_id=st.integers(2, 10_000).map(lambda n: UUID(int=n)),
        verdict=st.sampled_from(["valid", "invalid"]),
        late=st.booleans(),
        on_probation=st.booleans(),
    ),
    max_size=8,
    unique_by=lambda v: v.validator_id,
)
decisions = st.sampled_from(Decision)


def decide(
    decision: str, votes: list[ValidatorVote], rates: list[RewardRate] = RATES
) -> tuple[Earning, ...]:
    return calculate_rewards(
        decision=decision,
        contributor_id=CONTRIBUTOR,
        votes=votes,
        currency="NGN",
        language="yo",
        decided_at=T0 + timedelta(days=1),
        rates=rates,
    )


def eligible_validators(decision: Decision, votes: list[ValidatorVote]) -> set[UUID]:
    return {
        v.validator_id
        for v in votes
        if v.verdict == AGREEING_VERDICT[decision] and not v.late and not v.on_probation
    }


def test_an_accepted_clip_pays_the_contributor_and_agreeing_validators() -> None:
    votes = [
        ValidatorVote(UUID(int=3), "valid"),
        ValidatorVote(UUID(int=2), "valid"),
        ValidatorVote(UUID(int=4), "invalid"),
        ValidatorVote(UUID(int=5), "valid", late=True),
        ValidatorVote(UUID(int=6), "valid", on_probation=True),
    ]
    earnings = calculate_rewards(
        decision="accepted",
        contributor_id=CONTRIBUTOR,
        votes=votes,
        currency="NGN",
        language="yo",
        decided_at=T0 + timedelta(days=1),
        rates=RATES,
    )
    assert [(e.profile_id, e.kind, e.amount.amount_minor, e.rate_id) for e in earnings] == [
        (CONTRIBUTOR, RewardKind.CLIP_ACCEPTED, 5_000, CLIP_RATE.id),
        (UUID(int=2), RewardKind.VALIDATION_AGREED, 700, VALIDATION_RATE.id),
        (UUID(int=3), RewardKind.VALIDATION_AGREED, 700, VALIDATION_RATE.id),
    ]


@given(decisions, votes_strategy)
def test_only_eligible_people_earn_and_the_total_is_the_sum_of_rates(
    decision: Decision, votes: list[ValidatorVote]
) -> None:
    earnings = decide(decision, votes)
    eligible = eligible_validators(decision, votes)
    paid = {e.profile_id: e for e in earnings}
    assert len(paid) == len(earnings)  # nobody earns twice
    assert (CONTRIBUTOR in paid) == (decision is Decision.ACCEPTED)
    assert set(paid) - {CONTRIBUTOR} == eligible
    expected_total = (5_000 if decision is Decision.ACCEPTED else 0) + 700 * len(eligible)
    assert Money.total((e.amount for e in earnings), "NGN") == Money(expected_total, "NGN")


@given(decisions, votes_strategy, st.randoms())
def test_earnings_do_not_depend_on_vote_order(
    decision: Decision, votes: list[ValidatorVote], rnd: Random
) -> None:
    shuffled = votes[:]
    rnd.shuffle(shuffled)
    assert decide(decision, votes) == decide(decision, shuffled)


@given(decisions, votes_strategy)
def test_no_rate_in_force_means_no_earning(decision: Decision, votes: list[ValidatorVote]) -> None:
    assert decide(decision, votes, rates=[]) == ()
    only_clip = decide(decision, votes, rates=[CLIP_RATE])
    assert all(e.kind is RewardKind.CLIP_ACCEPTED for e in only_clip)


@pytest.mark.parametrize(
    ("decision", "votes", "code"),
    [
        ("disputed", [], "invalid_decision"),
        ("accepted", [ValidatorVote(UUID(int=2), "valid")] * 2, "duplicate_vote"),
        ("accepted", [ValidatorVote(CONTRIBUTOR, "valid")], "own_clip_vote"),
    ],
)
def test_malformed_decisions_are_refused(
    decision: str, votes: list[ValidatorVote], code: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        decide(decision, votes)
    assert error.value.code == code


def test_a_skip_is_not_a_vote() -> None:
    with pytest.raises(InvalidInput) as error:
        ValidatorVote(UUID(int=2), "skip")
    assert error.value.code == "invalid_verdict"


# -- holding period and reversal -----------------------------------------------------------


@given(st.integers(-(10**6), 10**6))
def test_release_is_due_exactly_when_the_holding_period_is_over(seconds: int) -> None:
    now = T0 + timedelta(seconds=seconds)
    assert release_due(T0, now) == (now - T0 >= DEFAULT_HOLDING_PERIOD)
    assert release_due(T0, T0 + timedelta(hours=72))
    assert not release_due(T0, T0 + timedelta(hours=71, minutes=59))
    assert release_due(T0, T0 + timedelta(hours=1), holding=timedelta(hours=1))


def test_a_removed_clip_reverses_only_what_is_still_pending() -> None:
    clip = UUID(int=100)
    earnings = [
        reward_earned(
            transaction_id=UUID(int=10 + n),
            profile_id=UUID(int=n),
            clip_id=clip,
            reward_kind=kind,
            amount=Money(500, "NGN"),
            occurred_at=T0 + timedelta(days=n),
        )
        for n, kind in ((1, "clip_accepted"), (2, "validation_agreed"))
    ]
    ledger = Ledger(earnings)
    now = T0 + timedelta(days=1, hours=80)
    due = earnings_due_for_release(ledger.transactions, closed=_closed(ledger), now=now)
    assert due == (earnings[0],)
    ledger.apply(reward_released(transaction_id=UUID(int=20), earning=due[0], occurred_at=now))
    assert earnings_due_for_release(ledger.transactions, closed=_closed(ledger), now=now) == ()

    to_reverse = earnings_to_reverse(ledger.transactions, closed=_closed(ledger))
    assert to_reverse == (earnings[1],)
    ledger.apply(
        reward_reversed(transaction_id=UUID(int=21), earning=to_reverse[0], occurred_at=now)
    )
    assert ledger.member_balance(UUID(int=1), "NGN").available == Money(500, "NGN")
    assert ledger.member_balance(UUID(int=2), "NGN").pending == Money(0, "NGN")
    assert ledger.member_balance(UUID(int=2), "NGN").lifetime_earned == Money(0, "NGN")
    assert earnings_to_reverse(ledger.transactions, closed=_closed(ledger)) == ()


def _closed(ledger: Ledger) -> set[UUID]:
    return {tx.id for tx in ledger.transactions if ledger.is_closed(tx.id)}
