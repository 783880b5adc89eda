"""The domain definitions ``chorus doctor`` checks the data against are the ones the code
acts on: what a tally counts, which votes earn, which decisions pay."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from core.domain import invariants as inv
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import PolicyName, cast_vote, policy_named
from core.domain.money import Money
from core.domain.rewards import (
    RewardKind,
    RewardRate,
    ValidatorVote,
    calculate_rewards,
    gold_answers_that_may_earn,
    votes_that_may_earn,
)
from core.domain.validation import VoteRecord, tally_of_counted_votes

NOW = datetime(2026, 1, 1, tzinfo=UTC)
tallies = st.builds(
    ClipTally,
    status=st.sampled_from(ClipStatus),
    valid_votes=st.integers(0, 6),
    invalid_votes=st.integers(0, 6),
    log_odds_sum=st.floats(-8, 8),
    is_gold=st.booleans(),
)


@st.composite
def ballots(draw: st.DrawFn) -> Vote:
    verdict = draw(st.sampled_from(Verdict))
    strength = draw(st.floats(0.0, 4.595))
    return Vote(
        draw(st.uuids()),
        verdict,
        strength if verdict is Verdict.VALID else -strength,
        on_probation=draw(st.booleans()),
        established=draw(st.booleans()),
    )


records = st.builds(
    VoteRecord,
    id=st.uuids(),
    clip_id=st.just(uuid4()),
    validator_id=st.uuids(),
    verdict=st.sampled_from(Verdict),
    outcome=st.sampled_from(VoteOutcome),
    evidence=st.just(0.0),
    accuracy=st.floats(0.5, 0.99),
    on_probation=st.booleans(),
    established=st.booleans(),
    created_at=st.just(NOW),
)


@given(tally=tallies, ballot=ballots(), policy=st.sampled_from(PolicyName))
def test_a_tally_counts_exactly_the_tallied_outcomes(
    tally: ClipTally, ballot: Vote, policy: PolicyName
) -> None:
    result = cast_vote(tally, ballot, policy_named(policy))
    added = result.tally.counted_votes - tally.counted_votes
    assert added == (1 if result.outcome in inv.TALLIED_OUTCOMES else 0)
    if added:
        counted = (
            result.tally.valid_votes
            if ballot.verdict is Verdict.VALID
            else (result.tally.invalid_votes)
        )
        before = tally.valid_votes if ballot.verdict is Verdict.VALID else tally.invalid_votes
        assert counted == before + 1


@given(st.lists(records, max_size=12))
def test_exactly_the_earning_outcomes_may_earn(votes: list[VoteRecord]) -> None:
    earning = votes_that_may_earn(votes)
    assert [vote.validator_id for vote in earning] == [
        vote.validator_id for vote in votes if vote.outcome in inv.EARNING_OUTCOMES
    ]
    gold = gold_answers_that_may_earn(votes)
    assert [vote.validator_id for vote in gold] == [
        vote.validator_id for vote in votes if vote.outcome in inv.GOLD_EARNING_OUTCOMES
    ]


@given(st.lists(ballots(), max_size=8), st.sampled_from(PolicyName))
def test_a_tally_rebuilt_from_its_counted_votes_is_the_tally(
    ballots_cast: list[Vote], policy: PolicyName
) -> None:
    tally, stored = ClipTally(), []
    for ballot in ballots_cast:
        result = cast_vote(tally, ballot, policy_named(policy))
        tally = result.tally
        stored.append(
            VoteRecord(uuid4(), uuid4(), ballot.validator_id, ballot.verdict, result.outcome,
                       ballot.evidence, 0.8, ballot.on_probation, ballot.established, NOW)
        )  # fmt: skip
    rebuilt = tally_of_counted_votes(tally.status, stored)
    assert (rebuilt.valid_votes, rebuilt.invalid_votes, rebuilt.established_votes) == (
        tally.valid_votes,
        tally.invalid_votes,
        tally.established_votes,
    )
    assert abs(rebuilt.log_odds_sum - tally.log_odds_sum) <= inv.EVIDENCE_TOLERANCE


@given(
    decision=st.sampled_from(list(inv.DECISION_VERDICTS)),
    voters=st.lists(st.tuples(st.sampled_from(Verdict), st.booleans()), max_size=6),
)
def test_a_decision_pays_the_contributor_and_the_agreeing_voters_the_checks_expect(
    decision: ClipStatus, voters: list[tuple[Verdict, bool]]
) -> None:
    contributor = uuid4()
    votes = [ValidatorVote(uuid4(), verdict.value, on_probation=p) for verdict, p in voters]
    earnings = calculate_rewards(
        decision=decision.value,
        contributor_id=contributor,
        votes=votes,
        currency="NGN",
        language="yo",
        decided_at=NOW,
        rates=[RewardRate(uuid4(), kind, Money(100, "NGN"), NOW) for kind in RewardKind],
    )
    reward, paying = inv.CONTRIBUTOR_REWARD
    paid_contributor = [e for e in earnings if e.profile_id == contributor]
    assert [e.kind for e in paid_contributor] == ([reward] if decision is paying else [])
    agreeing = inv.DECISION_VERDICTS[decision].value
    assert {e.profile_id for e in earnings if e.kind is inv.VALIDATOR_REWARD} == {
        vote.validator_id for vote in votes if vote.verdict == agreeing and not vote.on_probation
    }


def test_invariant_codes_are_unique() -> None:
    codes = [invariant.code for invariant in inv.INVARIANTS]
    assert len(codes) == len(set(codes))
