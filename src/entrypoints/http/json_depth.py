"""Refuse deeply nested JSON before it is decoded.

msgspec decodes recursively: a body like ``[[[[…]]]]`` a thousand levels deep raises
``RecursionError`` (a 500 with a traceback) instead of a decode error. No Chorus body nests
deeper than a few levels, so anything past ``MAX_JSON_DEPTH`` is refused with 400 before
authentication and before decoding.
"""

from __future__ import annotations

import re
from itertools import accumulate, cycle
from operator import mul

MAX_JSON_DEPTH = 32

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_RUNS = re.compile(rb"\[+|\]+")


def nested_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a decoder would open more than ``limit`` arrays and objects at once.

    Any body with at most ``limit`` opening brackets costs two ``bytes.count`` calls (every
    real request). Otherwise only C-speed ``bytes`` methods and iterators run: at most a few
    tens of milliseconds for a MiB of hostile brackets. For invalid JSON the answer may
    over-estimate the depth, never under-estimate it.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    return _depth_bound(_brackets_outside_strings(body), limit) > limit


def _brackets_outside_strings(body: bytes) -> bytes:
    # Escaped backslashes first, then escaped quotes: each '"' left opens or closes a string.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    # Only how deep the decoder goes matters, not which kind of bracket it opens.
    return outside.translate(None, _NOT_BRACKETS).replace(b"{", b"[").replace(b"}", b"]")


def _depth_bound(brackets: bytes, limit: int) -> int:
    # Removing every innermost "[]" lowers the deepest point by one level; do it while that
    # shrinks the text a lot (wide, shallow documents vanish in a round or two) ...
    removed = 0
    while brackets and removed <= limit:
        shallower = brackets.replace(b"[]", b"")
        if len(shallower) > len(brackets) - len(brackets) // 8:
            break
        brackets, removed = shallower, removed + 1
    # ... then add the deepest running total of what is left, one run of brackets at a time.
    runs = _RUNS.findall(brackets)
    if not runs:
        return removed
    signs = cycle((1, -1) if runs[0].startswith(b"[") else (-1, 1))
    deepest: int = max(0, *accumulate(map(mul, map(len, runs), signs)))
    return removed + deepest
