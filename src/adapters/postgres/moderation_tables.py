"""Tables of moderation and fraud defences (SQLAlchemy Core mirrors of migration
0011_moderation)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("target_type", sa.Text, nullable=False),
    sa.Column("target_id", UUID, nullable=False),
    sa.Column("owner_id", UUID, nullable=False),
    sa.Column("reporter_id", UUID),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("counts", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("resolved_at", TIMESTAMP),
)

moderation_cases = sa.Table(
    "moderation_cases",
    metadata,
    sa.Column("target_type", sa.Text, primary_key=True),
    sa.Column("target_id", UUID, primary_key=True),
    sa.Column("id", UUID, nullable=False),
    sa.Column("owner_id", UUID, nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("auto_hidden", sa.Boolean, nullable=False),
    sa.Column("opened_at", TIMESTAMP, nullable=False),
    sa.Column("closed_at", TIMESTAMP),
)

moderation_decisions = sa.Table(
    "moderation_decisions",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("target_type", sa.Text, nullable=False),
    sa.Column("target_id", UUID, nullable=False),
    sa.Column("owner_id", UUID, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("actor_id", UUID),
    sa.Column("actor_kind", sa.Text, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("summary", pg.JSONB, nullable=False),
)

fraud_signals = sa.Table(
    "fraud_signals",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("detail", pg.JSONB, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

daily_earnings = sa.Table(
    "daily_earnings",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("currency", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("earned_minor", sa.BigInteger, nullable=False),
    sa.Column("withheld_minor", sa.BigInteger, nullable=False),
)
