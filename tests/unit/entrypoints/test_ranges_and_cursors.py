from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.exceptions import HTTPException

from core.domain.pagination import (
    MAX_CURSOR_LENGTH,
    decode_keyed_position,
    decode_stamped_position,
    encode_keyed_position,
    encode_stamped_position,
)
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


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
)
def test_keyed_cursors_round_trip(at, key):
    assert decode_keyed_position(encode_keyed_position(at, key)) == (at, key)


@given(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=3), st.uuids())
def test_stamped_cursors_round_trip(stamps, item_id):
    cursor = encode_stamped_position(tuple(stamps), item_id)
    assert decode_stamped_position(cursor, len(stamps)) == (tuple(stamps), item_id)
    with pytest.raises(InvalidInput):  # a cursor of another list's shape
        decode_stamped_position(cursor, len(stamps) + 1)


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGEgY3Vyc29y", "x" * 300])
def test_bad_keyed_and_stamped_cursors_are_refused_naming_the_cursor(cursor):
    for decode in (decode_keyed_position, lambda text: decode_stamped_position(text, 2)):
        with pytest.raises(InvalidInput) as refused:
            decode(cursor)
        assert (refused.value.code, refused.value.extra["field"]) == ("invalid_cursor", "cursor")


def test_the_longest_device_token_fits_in_a_cursor():
    token = "ExponentPushToken[" + "x" * 200 + "]"
    at = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    cursor = encode_keyed_position(at, token)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_keyed_position(cursor) == (at, token)
