"""PostgreSQL adapters: SQLAlchemy 2 (Core) on asyncpg, Alembic migrations."""
