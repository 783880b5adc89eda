"""Tables of payouts (SQLAlchemy Core mirrors of migration 0008_payouts)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

payout_destinations = sa.Table(
    "payout_destinations",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("recipient_code", sa.Text, nullable=False),
    sa.Column("bank_code", sa.Text),
    sa.Column("bank_name", sa.Text, nullable=False),
    sa.Column("account_name", sa.Text, nullable=False),
    sa.Column("last4", sa.Text, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("removed_at", TIMESTAMP),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("destination_id", UUID, nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("recipient_code", sa.Text, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("transfer_code", sa.Text),
    sa.Column("failure_code", sa.Text),
    sa.Column("failure_detail", sa.Text),
    sa.Column("requested_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
    sa.Column("finished_at", TIMESTAMP),
)

payout_webhook_events = sa.Table(
    "payout_webhook_events",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("event_key", sa.Text, primary_key=True),
    sa.Column("received_at", TIMESTAMP, nullable=False),
)

payout_freezes = sa.Table(
    "payout_freezes",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("frozen_at", TIMESTAMP, nullable=False),
)
