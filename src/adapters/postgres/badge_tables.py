"""Tables of badges, member statistics and leaderboards (SQLAlchemy Core mirrors of migration
0009_badges)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

badges = sa.Table(
    "badges",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("metric", sa.Text, nullable=False),
    sa.Column("threshold", sa.Numeric(asdecimal=True), nullable=False),
    sa.Column("language", sa.Text),
    sa.Column("currency", sa.Text),
    sa.Column("min_sample", sa.Integer),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
    sa.Column("retired_at", TIMESTAMP),
)

user_badges = sa.Table(
    "user_badges",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, nullable=False),
    sa.Column("badge_id", UUID, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("awarded_at", TIMESTAMP, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("awarded_by", UUID),
)

member_stats = sa.Table(
    "member_stats",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("streams_hosted", sa.Integer, nullable=False),
    sa.Column("payouts_paid", sa.Integer, nullable=False),
    sa.Column("streak_runs", pg.ARRAY(sa.Date), nullable=False),
    sa.Column("longest_streak", sa.Integer, nullable=False),
    sa.Column("week_start", sa.Date),
    sa.Column("week_clips", sa.Integer, nullable=False),
    sa.Column("week_validations", sa.Integer, nullable=False),
    sa.Column("goal_clips", sa.Integer),
    sa.Column("goal_validations", sa.Integer),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)

member_language_stats = sa.Table(
    "member_language_stats",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("language", sa.Text, primary_key=True),
    sa.Column("clips_submitted", sa.Integer, nullable=False),
    sa.Column("clips_accepted", sa.Integer, nullable=False),
    sa.Column("validations", sa.Integer, nullable=False),
)

member_earnings = sa.Table(
    "member_earnings",
    metadata,
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("currency", sa.Text, primary_key=True),
    sa.Column("lifetime_minor", sa.BigInteger, nullable=False),
)

member_stat_events = sa.Table(
    "member_stat_events",
    metadata,
    sa.Column("event_id", UUID, primary_key=True),
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("counted_at", TIMESTAMP, nullable=False),
)

leaderboard_entries = sa.Table(
    "leaderboard_entries",
    metadata,
    sa.Column("language", sa.Text, primary_key=True),
    sa.Column("week_start", sa.Date, primary_key=True),
    sa.Column("profile_id", UUID, primary_key=True),
    sa.Column("clips", sa.Integer, nullable=False),
    sa.Column("validations", sa.Integer, nullable=False),
)
