"""Tables of the money ledger (SQLAlchemy Core mirrors of migration 0005_ledger)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("owner_id", UUID),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("balance_minor", sa.BigInteger),
    sa.Column("lifetime_earned_minor", sa.BigInteger),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

transactions = sa.Table(
    "transactions",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("member_id", UUID, nullable=False),
    sa.Column("occurred_at", TIMESTAMP, nullable=False),
    sa.Column("closes_transaction_id", UUID),
    sa.Column("clip_id", UUID),
    sa.Column("reward_kind", sa.Text),
    sa.Column("memo", sa.Text, nullable=False),
    sa.Column("metadata", pg.JSONB, nullable=False),
    sa.Column("recorded_at", TIMESTAMP, nullable=False),
)

postings = sa.Table(
    "postings",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("transaction_id", UUID, nullable=False),
    sa.Column("account_id", UUID, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
)

open_earnings = sa.Table(
    "open_earnings",
    metadata,
    sa.Column("earning_id", UUID, primary_key=True),
    sa.Column("member_id", UUID, nullable=False),
    sa.Column("clip_id", UUID),
    sa.Column("earned_at", TIMESTAMP, nullable=False),
)

reward_rates = sa.Table(
    "reward_rates",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("language", sa.Text),
    sa.Column("valid_from", TIMESTAMP, nullable=False),
    sa.Column("valid_to", TIMESTAMP),
    sa.Column("created_by", UUID),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)
