"""The daily earnings cap as a pure rule, and the content hash of clips."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.fraud import (
    FraudRules,
    audio_fingerprint,
    earning_day,
    split_by_daily_cap,
    totals_by_member,
)
from core.domain.money import Money
from core.domain.rewards import Earning, RewardKind
from core.errors import InvalidInput

MEMBERS = [UUID(int=n) for n in range(1, 5)]
RATE = UUID(int=99)


def earning(member: int, minor: int, currency: str = "NGN") -> Earning:
    return Earning(MEMBERS[member], RewardKind.VALIDATION_AGREED, Money(minor, currency), RATE)


earnings_lists = st.lists(st.builds(earning, st.integers(0, 3), st.integers(1, 5_000)), max_size=30)
earlier = st.dictionaries(st.sampled_from(MEMBERS), st.integers(0, 20_000))


@given(earnings_lists, earlier, st.integers(1, 20_000))
def test_nobody_passes_the_cap_and_nothing_is_lost(
    earnings: list[Earning], today: dict[UUID, int], cap_minor: int
) -> None:
    split = split_by_daily_cap(earnings, today, Money(cap_minor, "NGN"))
    # Every earning is either paid or withheld, each list keeping the given order.
    assert sorted(map(id, split.paid + split.withheld)) == sorted(map(id, earnings))
    assert [e for e in earnings if any(e is p for p in split.paid)] == list(split.paid)
    paid = totals_by_member(split.paid)
    for member, amount in paid.items():
        assert today.get(member, 0) + amount <= cap_minor
    # A withheld earning did not fit when its turn came.
    running = dict(today)
    for item in earnings:
        so_far = running.get(item.profile_id, 0)
        fits = so_far + item.amount.amount_minor <= cap_minor
        assert fits == any(item is p for p in split.paid)
        if fits:
            running[item.profile_id] = so_far + item.amount.amount_minor


@given(earnings_lists, earlier)
def test_without_a_cap_everything_is_paid(earnings: list[Earning], today: dict[UUID, int]) -> None:
    split = split_by_daily_cap(earnings, today, None)
    assert split.paid == tuple(earnings)
    assert split.withheld == ()


def test_a_later_smaller_earning_may_still_fit() -> None:
    big, small = earning(0, 600), earning(0, 300)
    split = split_by_daily_cap([big, small], {MEMBERS[0]: 500}, Money(1_000, "NGN"))
    assert (split.paid, split.withheld) == ((small,), (big,))


def test_exactly_at_the_cap_is_paid() -> None:
    split = split_by_daily_cap([earning(1, 400)], {MEMBERS[1]: 600}, Money(1_000, "NGN"))
    assert len(split.paid) == 1


def test_the_cap_and_the_earnings_share_a_currency() -> None:
    with pytest.raises(InvalidInput):
        split_by_daily_cap([earning(0, 1, "GHS")], {}, Money(10, "NGN"))


def test_the_day_is_the_utc_day() -> None:
    lagos = timezone(timedelta(hours=1))
    assert earning_day(datetime(2026, 3, 1, 0, 30, tzinfo=lagos)) == date(2026, 2, 28)
    assert earning_day(datetime(2026, 3, 1, 23, 59, tzinfo=UTC)) == date(2026, 3, 1)


def test_rates_cannot_be_negative() -> None:
    with pytest.raises(InvalidInput):
        FraudRules(uploads_per_hour=-1)
    assert FraudRules(votes_per_hour=0).votes_per_hour == 0


@given(st.binary(max_size=512))
def test_the_fingerprint_is_the_sha256_of_the_bytes(audio: bytes) -> None:
    assert audio_fingerprint(audio) == hashlib.sha256(audio).hexdigest()
    assert audio_fingerprint(audio + b"\0") != audio_fingerprint(audio)
