"""What changed for a member, read by transaction visibility (docs/sync.md, "Pull").

Rows a pull returns carry ``sync_xid``: the transaction that last changed them (migration
0010_sync). A window (since, until] holds the rows whose ``sync_xid`` is visible in the
snapshot ``until`` but not in ``since`` — PostgreSQL's own ``pg_visible_in_snapshot``, the
rule its MVCC uses, so a row is in the window exactly when the reads of ``until`` see that
version of it. Each page runs in a REPEATABLE READ, READ ONLY transaction; the first page
of a window takes ``until`` from that transaction's snapshot (``pg_current_snapshot()``), so
everything the page reads is that snapshot's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.notifications import to_notification
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.clips import ClipStatus, Visibility
from core.domain.sync_cursor import (
    ORIGIN,
    ChangePage,
    ClipChange,
    FeedPosition,
    SyncCursor,
    XidSnapshot,
)

_SNAPSHOT_TRANSACTION = sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
_CURRENT_SNAPSHOT = sa.text("SELECT pg_current_snapshot()::text")
_IN_WINDOW = (
    "NOT pg_visible_in_snapshot(sync_xid, CAST(CAST(:since AS text) AS pg_snapshot)) "
    "AND pg_visible_in_snapshot(sync_xid, CAST(CAST(:until AS text) AS pg_snapshot))"
)
# Keyset order (sync_xid, id) on the (member, sync_xid, id) index; the lower bound starts at
# since's xmin (every older transaction is visible in since).
_AFTER = "(sync_xid, id) > (CAST(CAST(:after_xid AS text) AS xid8), CAST(:after_id AS uuid))"


# The queries are built from this module's constants only, at import.
def _list_query(columns: str, table: str, member_column: str) -> sa.TextClause:
    return sa.text(
        f"SELECT {columns}, sync_xid::text AS xid FROM {table} "  # noqa: S608
        f"WHERE {member_column} = :member_id AND {_AFTER} AND {_IN_WINDOW} "
        "ORDER BY sync_xid, id LIMIT :limit"
    )


def _changed_query(table: str, condition: str) -> sa.TextClause:
    return sa.text(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {condition} "  # noqa: S608
        f"AND sync_xid >= CAST(CAST(:since_xmin AS text) AS xid8) AND {_IN_WINDOW})"
    )


_BALANCE_CHANGED = _changed_query("transactions", "member_id = :member_id")
_RATES_CHANGED = _changed_query("reward_rates", "currency = :currency")


def _to_clip_change(row: sa.Row[Any]) -> ClipChange:
    return ClipChange(
        id=row.id,
        client_id=row.client_id,
        language=row.language,
        status=ClipStatus(row.status),
        visibility=Visibility(row.visibility),
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


@dataclass(frozen=True, slots=True)
class _Source:
    """One list of a pull, paged in (xid, id) order."""

    name: str
    query: sa.TextClause
    to_item: Callable[[sa.Row[Any]], Any]


_SOURCES = (
    _Source(
        "clips",
        _list_query(
            "id, client_id, language, status, visibility, created_at, decided_at",
            "voice_clips",
            "contributor_id",
        ),
        _to_clip_change,
    ),
    _Source(
        "notifications",
        _list_query(
            "id, profile_id, category, title, body, data, created_at, read_at, source_event_id",
            "notifications",
            "profile_id",
        ),
        to_notification,
    ),
)
_SOURCE_NAMES = tuple(source.name for source in _SOURCES)


@dataclass(frozen=True, slots=True)
class _Found:
    source: str
    xid: int
    item_id: UUID
    item: Any


class PostgresChangeFeed:
    """Implements ``core.ports.sync.ChangeFeed``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(
        self, member_id: UUID, cursor: SyncCursor, limit: int, *, currency: str, now: datetime
    ) -> ChangePage:
        if cursor.position is not None and cursor.position.source not in _SOURCE_NAMES:
            cursor = SyncCursor(cursor.since)  # a list this version no longer has
        async with PostgresUnitOfWork(self._engine) as uow:
            connection = uow.connection
            await connection.execute(_SNAPSHOT_TRANSACTION)
            until = cursor.until or XidSnapshot.parse(
                (await connection.execute(_CURRENT_SNAPSHOT)).scalar_one()
            )
            window = {"member_id": member_id, "since": cursor.since.text, "until": until.text}
            found = await self._items(connection, window, cursor, limit + 1)
            page = found[:limit]
            balance = rates = None
            if cursor.is_first_page:
                first_pull = cursor.since == ORIGIN
                changed = {**window, "since_xmin": str(cursor.since.xmin), "currency": currency}
                if first_pull or await _scalar(connection, _BALANCE_CHANGED, changed):
                    balance = await uow.ledger.member_balance(member_id, currency)
                if first_pull or await _scalar(connection, _RATES_CHANGED, changed):
                    records = await uow.reward_rates.list_rates(currency=currency)
                    rates = [
                        r.rate for r in records if r.rate.valid_to is None or r.rate.valid_to > now
                    ]
        if len(found) > limit:
            last = page[-1]
            next_cursor = cursor.next_page(until, FeedPosition(last.source, last.xid, last.item_id))
        else:
            next_cursor = cursor.next_window(until)
        return ChangePage(
            cursor=next_cursor,
            has_more=len(found) > limit,
            clips=[f.item for f in page if f.source == "clips"],
            notifications=[f.item for f in page if f.source == "notifications"],
            balance=balance,
            reward_rates=rates,
        )

    async def _items(
        self,
        connection: AsyncConnection,
        window: dict[str, Any],
        cursor: SyncCursor,
        wanted: int,
    ) -> Sequence[_Found]:
        """Up to ``wanted`` items after the cursor's position, source after source."""
        position = cursor.position
        start = _SOURCE_NAMES.index(position.source) if position else 0
        found: list[_Found] = []
        for source in _SOURCES[start:]:
            if position is not None and source.name == position.source:
                after = (position.xid, position.item_id)
            else:
                after = (cursor.since.xmin, UUID(int=0))
            rows = await connection.execute(
                source.query,
                {
                    **window,
                    "after_xid": str(after[0]),
                    "after_id": after[1],
                    "limit": wanted - len(found),
                },
            )
            found += [_Found(source.name, int(r.xid), r.id, source.to_item(r)) for r in rows]
            if len(found) >= wanted:
                break
        return found


async def _scalar(connection: AsyncConnection, query: sa.TextClause, values: dict[str, Any]) -> Any:
    return (await connection.execute(query, values)).scalar_one()
