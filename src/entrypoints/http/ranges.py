"""HTTP Range requests (RFC 9110 §14): a single byte range, as audio players send."""

from __future__ import annotations

import re

from litestar.exceptions import HTTPException

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive, or ``None`` for the whole body. Unsatisfiable → 416;
    forms we do not serve (several ranges) → the whole body, as the RFC allows."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> HTTPException:
    return HTTPException(
        status_code=416,
        detail="The requested range is outside the audio.",
        headers={"Content-Range": f"bytes */{size}"},
    )
