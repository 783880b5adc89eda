"""Keyset pagination: a page ends at a ``(timestamp, id)`` position, handed to clients as an
opaque cursor string."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from core.errors import InvalidInput

MAX_CURSOR_LENGTH = 400
"""Room for a timestamp and the longest Expo push token (a device list's position)."""

_NOT_A_CURSOR = (ValueError, binascii.Error, UnicodeDecodeError)


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _parts(cursor: str) -> list[str]:
    """The ``|``-separated text inside a cursor; ``ValueError`` (or a decoding error) when it
    is too long or not URL-safe base64 of UTF-8."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError(cursor)
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")


def _aware(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    if at.tzinfo is None:
        raise ValueError(stamp)
    return at


def _invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not valid; use nextCursor from a previous page.",
        code="invalid_cursor",
        field="cursor",
    )


def encode_position(at: datetime, item_id: UUID) -> str:
    """An opaque cursor for the position ``(at, item_id)``."""
    return _encode(at.isoformat(), str(item_id))


def decode_position(cursor: str) -> tuple[datetime, UUID]:
    """The position in a cursor made by ``encode_position``; ``InvalidInput``
    (``invalid_cursor``) for anything else."""
    try:
        stamp, item_id = _parts(cursor)
        return _aware(stamp), UUID(item_id)
    except _NOT_A_CURSOR:
        raise _invalid_cursor() from None


def encode_keyed_position(at: datetime, key: str) -> str:
    """An opaque cursor for the position ``(at, key)`` of a list keyed by text."""
    return _encode(at.isoformat(), key)


def decode_keyed_position(cursor: str) -> tuple[datetime, str]:
    """The position in a cursor made by ``encode_keyed_position``; ``InvalidInput``
    (``invalid_cursor``) for anything else."""
    try:
        stamp, *rest = _parts(cursor)
        key = "|".join(rest)
        if not rest or not key:
            raise ValueError(cursor)
        return _aware(stamp), key
    except _NOT_A_CURSOR:
        raise _invalid_cursor() from None


def encode_stamped_position(stamps: tuple[datetime, ...], item_id: UUID) -> str:
    """An opaque cursor for a position ordered by several timestamps, then an id."""
    return _encode(*(stamp.isoformat() for stamp in stamps), str(item_id))


def decode_stamped_position(cursor: str, stamps: int) -> tuple[tuple[datetime, ...], UUID]:
    """The position in a cursor made by ``encode_stamped_position`` with ``stamps``
    timestamps; ``InvalidInput`` (``invalid_cursor``) for anything else."""
    try:
        parts = _parts(cursor)
        if len(parts) != stamps + 1:
            raise ValueError(cursor)
        return tuple(_aware(part) for part in parts[:-1]), UUID(parts[-1])
    except _NOT_A_CURSOR:
        raise _invalid_cursor() from None
