"""Member statistics from committed facts: what each event counts, and the invariants."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.badges import BadgeStanding, Criterion, MetricSnapshot
from core.domain.events import DomainEvent
from core.domain.jobs import PermanentFailure
from core.domain.member_stats import (
    LanguageCounts,
    MemberStats,
    Metric,
    agreeing_voters,
    apply_change,
    change_of,
)

ADA = uuid.UUID(int=0xADA)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def event(name: str, at: datetime = T0, **payload: object) -> DomainEvent:
    return DomainEvent(uuid.uuid4(), name, at, payload)


def fold(events: list[DomainEvent], zone: str | None = None) -> MemberStats:
    stats = MemberStats()
    for item in events:
        change = change_of(item)
        if change is not None:
            stats = apply_change(stats, change, zone)
    return stats


def test_each_fact_counts_what_it_says():
    member = str(ADA)
    stats = fold(
        [
            event("clip.submitted", profileId=member, language="yo"),
            event("clip.submitted", profileId=member, language="ha"),
            event("clip.decided", contributorId=member, status="accepted", language="yo"),
            event("clip.decided", contributorId=member, status="rejected", language="ha"),
            event("validation.submitted", profileId=member, language="ig", outcome="counted"),
            event("validation.submitted", profileId=member, language="ig", outcome="gold"),
            event("validation.submitted", profileId=member, language="ig", outcome="late"),
            event("validation.submitted", profileId=member, language="ig", outcome="unsolicited"),
            event("validation.submitted", profileId=member, language="ig", outcome="too_fast"),
            event("reward.earned", profileId=member, amountMinor=5_000, currency="NGN"),
            event("reward.earned", profileId=member, amountMinor=300, currency="kes"),
            event("stream.started", hostId=member, streamId=str(uuid.uuid4())),
            event("payout.paid", profileId=member, payoutId=str(uuid.uuid4())),
            event("profile.created", profileId=member),
        ]
    )
    assert stats.clips_submitted == 2
    assert stats.clips_accepted == 1
    assert stats.validations == 3  # unsolicited and rushed votes were never heard
    assert stats.in_language("ig") == LanguageCounts(validations=3)
    assert dict(stats.earnings) == {"NGN": 5_000, "KES": 300}
    assert stats.streams_hosted == 1
    assert stats.payouts_paid == 1
    assert stats.languages_contributed == 2  # yo (accepted clip) and ig (validations)
    assert stats.streak.longest == 1
    assert stats.week.clips == 2
    assert stats.week.validations == 3


def test_a_reversal_takes_back_earnings_and_the_accepted_clip():
    member, clip = str(ADA), str(uuid.uuid4())
    stats = fold(
        [
            event("clip.decided", contributorId=member, status="accepted", language="yo"),
            event("reward.earned", profileId=member, amountMinor=5_000, currency="NGN"),
        ]
    )
    reversal = change_of(
        event(
            "reward.reversed",
            profileId=member,
            clipId=clip,
            rewardKind="clip_accepted",
            amountMinor=5_000,
            currency="NGN",
        )
    )
    assert reversal is not None
    assert reversal.reverses_accepted_clip == uuid.UUID(clip)
    after = apply_change(stats, reversal.in_language("yo"), None)
    assert after.clips_accepted == 0
    assert after.earnings["NGN"] == 0
    assert after.languages_contributed == 0
    # A validator's reversed agreement pay takes back only money.
    agreed = change_of(
        event(
            "reward.reversed",
            profileId=member,
            clipId=clip,
            rewardKind="validation_agreed",
            amountMinor=100,
            currency="NGN",
        )
    )
    assert agreed is not None
    assert agreed.reverses_accepted_clip is None
    assert agreed.counts == LanguageCounts()


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("clip.submitted", {"language": "yo"}),
        ("validation.submitted", {"profileId": "nobody", "outcome": "counted"}),
        ("stream.started", {}),
        ("payout.paid", {"profileId": 42}),
    ],
)
def test_a_payload_naming_no_member_is_a_permanent_failure(name, payload):
    with pytest.raises(PermanentFailure):
        change_of(event(name, **payload))


def test_agreeing_voters_are_those_whose_heard_vote_matched():
    agree, disagree, late, probation = (uuid.uuid4() for _ in range(4))
    decided = event(
        "clip.decided",
        contributorId=str(ADA),
        status="rejected",
        votes=[
            {"validatorId": str(agree), "verdict": "invalid", "outcome": "counted"},
            {"validatorId": str(disagree), "verdict": "valid", "outcome": "counted"},
            {"validatorId": str(late), "verdict": "invalid", "outcome": "late"},
            {"validatorId": str(probation), "verdict": "invalid", "outcome": "ignored_probation"},
            {"validatorId": "garbage", "verdict": "invalid", "outcome": "counted"},
        ],
    )
    assert agreeing_voters(decided) == {agree, probation}
    assert agreeing_voters(event("clip.decided", status="disputed", votes=[])) == frozenset()


# -- invariants over any sequence of events -----------------------------------------------------

LANGUAGES = ("yo", "ha", "ig")
OUTCOMES = ("counted", "late", "gold", "unsolicited", "too_fast", "ignored_probation")

non_reversal_events = st.one_of(
    st.builds(
        lambda lang, hours: event(
            "clip.submitted", T0 + timedelta(hours=hours), profileId=str(ADA), language=lang
        ),
        st.sampled_from(LANGUAGES),
        st.integers(-500, 500),
    ),
    st.builds(
        lambda lang, status: event(
            "clip.decided", contributorId=str(ADA), status=status, language=lang
        ),
        st.sampled_from(LANGUAGES),
        st.sampled_from(["accepted", "rejected", "disputed"]),
    ),
    st.builds(
        lambda lang, outcome, hours: event(
            "validation.submitted",
            T0 + timedelta(hours=hours),
            profileId=str(ADA),
            language=lang,
            outcome=outcome,
        ),
        st.sampled_from(LANGUAGES),
        st.sampled_from(OUTCOMES),
        st.integers(-500, 500),
    ),
    st.builds(
        lambda amount, currency: event(
            "reward.earned", profileId=str(ADA), amountMinor=amount, currency=currency
        ),
        st.integers(1, 10**9),
        st.sampled_from(["NGN", "KES"]),
    ),
    st.just(event("stream.started", hostId=str(ADA))),
    st.just(event("payout.paid", profileId=str(ADA))),
)

CRITERIA = [
    Criterion(Metric.CLIPS_SUBMITTED, Decimal(1)),
    Criterion(Metric.CLIPS_ACCEPTED, Decimal(1)),
    Criterion(Metric.CLIPS_ACCEPTED, Decimal(1), language="yo"),
    Criterion(Metric.VALIDATIONS, Decimal(1)),
    Criterion(Metric.VALIDATIONS, Decimal(1), language="ha"),
    Criterion(Metric.STREAK_DAYS, Decimal(1)),
    Criterion(Metric.STREAMS_HOSTED, Decimal(1)),
    Criterion(Metric.LIFETIME_EARNINGS, Decimal(1), currency="NGN"),
    Criterion(Metric.PAYOUTS_PAID, Decimal(1)),
    Criterion(Metric.LANGUAGES_CONTRIBUTED, Decimal(1)),
]


def values(stats: MemberStats) -> list[Decimal]:
    snapshot = MetricSnapshot(stats, BadgeStanding(), date(2026, 3, 2), date(2026, 3, 2))
    return [snapshot.value(criterion) for criterion in CRITERIA]


@given(st.lists(non_reversal_events, max_size=40), st.sampled_from([None, "Africa/Lagos"]))
def test_no_metric_ever_decreases_without_a_reversal(events, zone):
    stats = MemberStats()
    before = values(stats)
    for item in events:
        change = change_of(item)
        if change is None:
            continue
        stats = apply_change(stats, change, zone)
        after = values(stats)
        assert all(new >= old for new, old in zip(after, before, strict=True)), item
        before = after


@given(st.lists(non_reversal_events, max_size=30), st.randoms())
def test_counters_and_streaks_do_not_depend_on_the_order_facts_arrive_in(events, random):
    shuffled = list(events)
    random.shuffle(shuffled)
    first, second = fold(events, "Africa/Nairobi"), fold(shuffled, "Africa/Nairobi")
    assert dict(first.languages) == dict(second.languages)
    assert dict(first.earnings) == dict(second.earnings)
    assert first.streak == second.streak
    assert (first.streams_hosted, first.payouts_paid) == (
        second.streams_hosted,
        second.payouts_paid,
    )


def test_the_weekly_activity_starts_over_each_week_and_ignores_late_past_weeks():
    member = str(ADA)
    monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    stats = fold(
        [
            event("clip.submitted", monday, profileId=member, language="yo"),
            event("clip.submitted", monday + timedelta(days=7), profileId=member, language="yo"),
            event("clip.submitted", monday + timedelta(days=1), profileId=member, language="yo"),
        ]
    )
    assert stats.week.week_start == date(2026, 3, 9)
    assert stats.week.clips == 1
