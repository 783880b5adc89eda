"""The write rate limit in PostgreSQL: one statement per write, on the request's connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.errors import storage_errors
from adapters.postgres.shared_connection import autocommit_connection
from core.domain.rate_limits import SlidingWindowLimit, retry_after_seconds

# ``write_rate_limits.hits`` holds the times of the last admitted writes, newest last — the
# state of ``SlidingWindowLimit.admit``. The upsert locks the member's row, so concurrent
# writes of one member take turns; every SET expression sees the old row. The clock is the
# database's, shared by every app instance.
_HIT = sa.text(
    """
    INSERT INTO write_rate_limits AS r (key, hits, allowed)
    VALUES (:key, ARRAY[statement_timestamp()], true)
    ON CONFLICT (key) DO UPDATE SET
      allowed = (cardinality(r.hits) < :limit
                 OR r.hits[cardinality(r.hits) - :limit + 1]
                    <= statement_timestamp() - make_interval(secs => :window)),
      hits = CASE
        WHEN cardinality(r.hits) < :limit
          OR r.hits[cardinality(r.hits) - :limit + 1]
             <= statement_timestamp() - make_interval(secs => :window)
        THEN (r.hits || statement_timestamp())[greatest(1, cardinality(r.hits) + 2 - :limit):]
        ELSE r.hits
      END
    RETURNING allowed,
      extract(epoch FROM r.hits[greatest(1, cardinality(r.hits) - :limit + 1)]
                         + make_interval(secs => :window) - statement_timestamp()) AS wait
    """
).bindparams(
    sa.bindparam("key", type_=sa.Text),
    sa.bindparam("limit", type_=sa.Integer),
    sa.bindparam("window", type_=sa.Float),
)


_PRUNE = sa.text(
    "DELETE FROM write_rate_limits "
    "WHERE hits[cardinality(hits)] < statement_timestamp() - make_interval(secs => :window)"
).bindparams(sa.bindparam("window", type_=sa.Float))


class PostgresWriteRateLimiter:
    """Implements ``core.ports.rate_limits.WriteRateLimiter`` with the ``write_rate_limits``
    table (UNLOGGED: a crash forgets recent writes, nothing else)."""

    def __init__(self, engine: AsyncEngine, limit: SlidingWindowLimit) -> None:
        self._engine = engine
        self._parameters = {"limit": limit.limit, "window": limit.window_seconds}

    async def hit(self, key: str) -> int | None:
        async with storage_errors(), autocommit_connection(self._engine) as connection:
            row = (await connection.execute(_HIT, {"key": key, **self._parameters})).one()
        return None if row.allowed else retry_after_seconds(float(row.wait))

    async def prune(self) -> int:
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(_PRUNE, {"window": self._parameters["window"]})
        return int(result.rowcount)

    async def close(self) -> None:
        return None
