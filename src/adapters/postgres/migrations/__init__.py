"""Alembic migration scripts for the Chorus schema."""
