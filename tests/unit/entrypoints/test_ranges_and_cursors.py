from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.exceptions import HTTPException

from core.errors import InvalidInput
from entrypoints.http.cursors import decode_cursor, encode_cursor
from entrypoints.http.ranges import byte_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=5-", (5, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=0-1,5-6", None),
        ("items=0-5", None),
    ],
)
def test_byte_ranges(header, expected):
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-40", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(header):
    with pytest.raises(HTTPException) as refused:
        byte_range(header, 100)
    assert refused.value.status_code == 416


@given(size=st.integers(1, 10_000), start=st.integers(0, 20_000), length=st.integers(0, 20_000))
def test_satisfiable_ranges_stay_inside_the_body(size, start, length):
    try:
        chosen = byte_range(f"bytes={start}-{start + length}", size)
    except HTTPException:
        assert start >= size
    else:
        assert chosen is not None
        assert 0 <= chosen[0] <= chosen[1] < size


@given(st.datetimes(timezones=st.just(UTC)), st.uuids())
def test_cursors_round_trip(at, item_id):
    assert decode_cursor(encode_cursor(at, item_id)) == (at, item_id)


@pytest.mark.parametrize(
    "cursor", ["%%%", "bm90IGEgY3Vyc29y", encode_cursor(datetime(2026, 1, 1), uuid.uuid4())]
)
def test_bad_cursors_are_refused(cursor):
    with pytest.raises(InvalidInput):
        decode_cursor(cursor)
