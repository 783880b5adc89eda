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


def encode_position(at: datetime, item_id: UUID) -> str:
    """An opaque cursor for the position ``(at, item_id)``."""
    raw = f"{at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_keyed_position(at: datetime, key: str) -> str:
    """An opaque cursor for the position ``(at, key)`` of a list keyed by text."""
    raw = f"{at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyed_position(cursor: str) -> tuple[datetime, str]:
    """The position in a cursor made by ``encode_keyed_position``; ``InvalidInput``
    (``invalid_cursor``) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, separator, key = raw.partition("|")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None or not separator or not key:
            raise ValueError(cursor)
        return at, key
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "The cursor is not valid; use nextCursor from a previous page.",
            code="invalid_cursor",
            field="cursor",
        ) from None


def encode_stamped_position(stamps: tuple[datetime, ...], item_id: UUID) -> str:
    """An opaque cursor for a position ordered by several timestamps, then an id."""
    raw = "|".join([*(stamp.isoformat() for stamp in stamps), str(item_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_stamped_position(cursor: str, stamps: int) -> tuple[tuple[datetime, ...], UUID]:
    """The position in a cursor made by ``encode_stamped_position`` with ``stamps``
    timestamps; ``InvalidInput`` (``invalid_cursor``) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        if len(parts) != stamps + 1:
            raise ValueError(cursor)
        found = tuple(datetime.fromisoformat(part) for part in parts[:-1])
        if any(at.tzinfo is None for at in found):
            raise ValueError(cursor)
        return found, UUID(parts[-1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "The cursor is not valid; use nextCursor from a previous page.",
            code="invalid_cursor",
            field="cursor",
        ) from None


def decode_position(cursor: str) -> tuple[datetime, UUID]:
    """The position in a cursor made by ``encode_position``; ``InvalidInput``
    (``invalid_cursor``) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, item_id = raw.partition("|")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError(cursor)
        return at, UUID(item_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "The cursor is not valid; use nextCursor from a previous page.",
            code="invalid_cursor",
            field="cursor",
        ) from None
