"""Tables of the worker and notifications area (SQLAlchemy Core mirrors of migration
0004_worker_notifications). The ``outbox`` table itself is in ``tables.py``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

scheduled_tasks = sa.Table(
    "scheduled_tasks",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("interval_seconds", sa.Float, nullable=False),
    sa.Column("next_run_at", TIMESTAMP, nullable=False),
    sa.Column("locked_until", TIMESTAMP),
    sa.Column("locked_by", sa.Text),
    sa.Column("last_started_at", TIMESTAMP),
    sa.Column("last_finished_at", TIMESTAMP),
    sa.Column("last_error", sa.Text),
    sa.Column("run_count", sa.BigInteger, nullable=False),
    sa.Column("failure_count", sa.BigInteger, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

push_tokens = sa.Table(
    "push_tokens",
    metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("platform", sa.Text),
    sa.Column("device_name", sa.Text),
    sa.Column("device_id", sa.Text),  # 0007_edge_hardening
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("deactivated_at", TIMESTAMP),
    sa.Column("deactivated_reason", sa.Text),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column("source_event_id", UUID),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("read_at", TIMESTAMP),
)

notification_preferences = sa.Table(
    "notification_preferences",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)

push_deliveries = sa.Table(
    "push_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("notification_id", UUID, nullable=False),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("available_at", TIMESTAMP, nullable=False),
    sa.Column("locked_by", sa.Text),
    sa.Column("sending_since", TIMESTAMP),
    sa.Column("ticket_id", sa.Text),
    sa.Column("sent_at", TIMESTAMP),
    sa.Column("receipt_status", sa.Text),
    sa.Column("receipt_checked_at", TIMESTAMP),
    sa.Column("error", sa.Text),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)
