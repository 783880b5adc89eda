"""Tables of offline sync (SQLAlchemy Core mirrors of migration 0010_sync). The ``sync_xid``
columns it adds to other tables are written by the database only and read with SQL text."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

sync_ops = sa.Table(
    "sync_ops",
    metadata,
    sa.Column("member_id", UUID, primary_key=True),
    sa.Column("op_id", UUID, primary_key=True),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("body", pg.JSONB),
    sa.Column("occurred_at", TIMESTAMP),
    sa.Column("received_at", TIMESTAMP, nullable=False),
)

clip_reservations = sa.Table(
    "clip_reservations",
    metadata,
    sa.Column("validator_id", UUID, primary_key=True),
    sa.Column("clip_id", UUID, primary_key=True),
    sa.Column("batch_id", UUID, nullable=False),
    sa.Column("reserved_at", TIMESTAMP, nullable=False),
    sa.Column("expires_at", TIMESTAMP, nullable=False),
    sa.Column("used_at", TIMESTAMP),
)

listening_clocks = sa.Table(
    "listening_clocks",
    metadata,
    sa.Column("validator_id", UUID, primary_key=True),
    sa.Column("listened_until", TIMESTAMP),
)
