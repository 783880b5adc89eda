"""Table definitions (SQLAlchemy Core). The schema itself is owned by the Alembic migrations;
these mirror it for queries. Rows are mapped to core entities explicitly in each repository."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData()

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text),
    sa.Column("languages", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("payout_currency", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Migration 0009_badges: the member's time zone and leaderboard opt-in.
    sa.Column("time_zone", sa.Text),
    sa.Column("show_on_leaderboards", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("visibility", sa.Text, nullable=False),  # migration 0011_moderation
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("payload", pg.JSONB, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Worker leases (migration 0004_worker_notifications).
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("locked_by", sa.Text),
    sa.Column("handled_by", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

live_streams = sa.Table(
    "live_streams",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("host_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("room_name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("viewer_sessions", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("peak_viewers", sa.Integer, nullable=False),
    sa.Column("visibility", sa.Text, nullable=False),  # migration 0011_moderation
)

live_messages = sa.Table(
    "live_messages",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("stream_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("author_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("visibility", sa.Text, nullable=False),  # migration 0011_moderation
)

live_webhook_events = sa.Table(
    "live_webhook_events",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
