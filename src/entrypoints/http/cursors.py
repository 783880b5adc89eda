"""Opaque pagination cursors on the wire (see ``core.domain.pagination``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from core.domain.pagination import decode_position, encode_position


def encode_cursor(at: datetime, item_id: UUID) -> str:
    return encode_position(at, item_id)


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """``None`` for the first page; 422 ``invalid_cursor`` for a cursor we did not make."""
    return decode_position(cursor) if cursor else None
