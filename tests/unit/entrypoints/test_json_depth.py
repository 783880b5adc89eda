"""The nesting check agrees with the real depth of any JSON document, whatever its strings
hold, including hostile bodies of a mebibyte."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.json_depth import MAX_JSON_DEPTH, nested_deeper_than

tricky_text = st.text(alphabet='[]{}"\\ab,:\u00e9', max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=60,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    return 0


@given(json_values, st.integers(min_value=0, max_value=6), st.booleans(), st.booleans())
def test_agrees_with_the_real_depth(value, limit, spaced, ascii_only):
    body = json.dumps(value, indent=1 if spaced else None, ensure_ascii=ascii_only).encode()
    assert nested_deeper_than(body, limit) is (depth_of(value) > limit)


@given(st.text(alphabet='[]{}"\\a,', max_size=200), st.integers(min_value=0, max_value=6))
def test_never_under_estimates_what_a_decoder_would_open(text, limit):
    # For any bytes at all: the most arrays and objects open at once outside strings, up to
    # the first backslash outside a string (where a decoder stops), bounds what a recursive
    # decoder reaches before it fails.
    body = text.encode()
    if not nested_deeper_than(body, limit):
        assert _deepest_open_outside_strings(body) <= limit


def _deepest_open_outside_strings(body: bytes) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        char = chr(byte)
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char == "\\":
            break
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def test_the_reported_attack_is_refused():
    assert nested_deeper_than(b"[" * 1000 + b"]" * 1000)
    assert nested_deeper_than(b'{"a":' * 1000 + b"1" + b"}" * 1000)


def test_exactly_the_limit_passes_and_one_more_does_not():
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert not nested_deeper_than(at_limit)
    assert nested_deeper_than(b"[" + at_limit + b"]")


def test_brackets_inside_strings_do_not_count():
    body = json.dumps({"body": "[" * 500, "quote": '\\"[[[' * 50}).encode()
    assert not nested_deeper_than(body)


def test_a_mebibyte_of_hostile_brackets_gets_the_right_answer():
    # How cheap the scan is, is a benchmark's business, not a timed test's (a loaded CI
    # machine would make that flaky); here each hostile shape must be judged right.
    bodies = {
        b"[" * 500_000 + b"]" * 500_000: True,
        b"[]," * 350_000: False,
        (b"[" * 30 + b"]" * 30 + b",") * 17_000: False,
        (b"[" * 9 + b"]" * 9) * 55_000: False,
        b'{"a":1}' * 150_000: False,
        b'"\\"' * 350_000: False,
    }
    for body, too_deep in bodies.items():
        assert nested_deeper_than(body) is too_deep
