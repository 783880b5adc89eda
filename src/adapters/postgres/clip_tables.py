"""Tables of the clips and validation area (SQLAlchemy Core mirrors of migration 0002)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from adapters.postgres.tables import metadata

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

voice_clips = sa.Table(
    "voice_clips",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("contributor_id", UUID, nullable=False),
    sa.Column("client_id", UUID, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("audio_key", sa.Text, nullable=False),
    sa.Column("audio_format", sa.Text, nullable=False),
    sa.Column("mime_type", sa.Text, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("valid_votes", sa.SmallInteger, nullable=False),
    sa.Column("invalid_votes", sa.SmallInteger, nullable=False),
    sa.Column("log_odds_sum", sa.Float, nullable=False),
    sa.Column("is_gold", sa.Boolean, nullable=False),
    sa.Column("visibility", sa.Text, nullable=False),
    sa.Column("queue_rank", sa.SmallInteger, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("decided_at", TIMESTAMP),
)

validations = sa.Table(
    "validations",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("clip_id", UUID, nullable=False),
    sa.Column("validator_id", UUID, nullable=False),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("accuracy", sa.Float, nullable=False),
    sa.Column("on_probation", sa.Boolean, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

clip_skips = sa.Table(
    "clip_skips",
    metadata,
    sa.Column("validator_id", UUID, primary_key=True),
    sa.Column("clip_id", UUID, primary_key=True),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

validator_stats = sa.Table(
    "validator_stats",
    metadata,
    sa.Column("validator_id", UUID, primary_key=True),
    sa.Column("gold_right", sa.Integer, nullable=False),
    sa.Column("gold_wrong", sa.Integer, nullable=False),
    sa.Column("consensus_agreed", sa.Integer, nullable=False),
    sa.Column("consensus_disagreed", sa.Integer, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)
