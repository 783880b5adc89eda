"""Engine construction: one pooled async engine per process."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def async_url(database_url: str) -> str:
    """Accept ``postgres://`` / ``postgresql://`` URLs (as Supabase hands them out) and use the
    asyncpg driver. A ``host=/path`` query (Unix socket) is kept as asyncpg understands it."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    database_url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    statement_timeout_ms: int = 15_000,
) -> AsyncEngine:
    """A pooled engine. Statement timeout bounds runaway queries; ``pool_pre_ping`` survives
    database restarts and Supabase's idle connection reaping."""
    return create_async_engine(
        async_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "chorus",
            },
            # asyncpg's own statement cache is unused (SQLAlchemy prepares and caches
            # statements itself; behind a transaction-mode pooler add
            # ``?prepared_statement_cache_size=0`` to DATABASE_URL to turn that off too).
            "statement_cache_size": 0,
        },
    )
