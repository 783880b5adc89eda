"""Keyset pages, newest first: the one way every listing in this adapter pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa


def newest_first(
    query: sa.Select[Any],
    at: sa.ColumnElement[datetime],
    id_: sa.ColumnElement[UUID],
    *,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> sa.Select[Any]:
    """``query`` ordered by (``at``, ``id_``) descending, limited to ``limit`` rows strictly
    before the key ``before`` (the last row of the previous page) when given. An index on
    (``at``, ``id_``) — or one that starts with the query's equality filter — serves it."""
    if before is not None:
        key = sa.tuple_(sa.literal(before[0], at.type), sa.literal(before[1], id_.type))
        query = query.where(sa.tuple_(at, id_) < key)
    return query.order_by(at.desc(), id_.desc()).limit(limit)
