"""The sliding window never admits more than the limit in any interval of its length, and
refuses only when it must."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.rate_limits import SlidingWindowLimit, retry_after_seconds

gaps = st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), max_size=120)


def replay(limit: SlidingWindowLimit, times: list[float]) -> tuple[list[float], list[float]]:
    recent: tuple[float, ...] = ()
    admitted, waits = [], []
    for now in times:
        recent, wait = limit.admit(recent, now)
        if wait is None:
            admitted.append(now)
        else:
            waits.append(wait)
            assert 0 < wait <= limit.window_seconds
    return admitted, waits


@given(gaps, st.integers(min_value=1, max_value=10), st.floats(min_value=0.5, max_value=20))
def test_no_interval_of_the_window_holds_more_than_the_limit(gap_list, count, window):
    limit = SlidingWindowLimit(count, window)
    times, now = [], 0.0
    for gap in gap_list:
        now += gap
        times.append(now)
    admitted, _ = replay(limit, times)
    for start in admitted:
        inside = [t for t in admitted if start <= t < start + window]
        assert len(inside) <= count


@given(gaps, st.integers(min_value=1, max_value=10), st.floats(min_value=0.5, max_value=20))
def test_a_write_is_refused_only_when_the_window_is_full(gap_list, count, window):
    limit = SlidingWindowLimit(count, window)
    recent: tuple[float, ...] = ()
    admitted: list[float] = []
    now = 0.0
    for gap in gap_list:
        now += gap
        recent, wait = limit.admit(recent, now)
        if wait is None:
            admitted.append(now)
        else:
            assert len([t for t in admitted if now - t < window]) >= count


def test_the_reported_burst_across_a_minute_boundary_gets_the_limit_and_no_more():
    # Issue 11: 260 writes in 3.1 s across a minute boundary let 231 through at 120/min.
    limit = SlidingWindowLimit(120, 60)
    start = 59.0  # a fixed window would reset at 60.0
    admitted, waits = replay(limit, [start + 3.1 * n / 259 for n in range(260)])
    assert len(admitted) == 120
    assert all(56 < wait <= 60 for wait in waits)


def test_retry_after_is_whole_seconds_and_never_zero():
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.0) == 1
    assert retry_after_seconds(1.2) == 2
    with pytest.raises(ValueError, match="positive"):
        SlidingWindowLimit(0, 60)
