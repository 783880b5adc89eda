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
    sa.Column("prior_log_odds", sa.Float, nullable=False),
    sa.Column("established_votes", sa.SmallInteger, nullable=False),
    sa.Column("shadow_status", sa.Text),
    sa.Column("shadow_settled_at", TIMESTAMP),
    sa.Column("reserved_until", TIMESTAMP),
    sa.Column("audio_sha256", sa.Text),  # migration 0011_moderation
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
    sa.Column("evidence", sa.Float, nullable=False),
    sa.Column("established", sa.Boolean, nullable=False),
)

clip_servings = sa.Table(
    "clip_servings",
    metadata,
    sa.Column("validator_id", UUID, primary_key=True),
    sa.Column("clip_id", UUID, primary_key=True),
    sa.Column("served_at", TIMESTAMP, nullable=False),
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
    sa.Column("n11", sa.Float, nullable=False),
    sa.Column("n01", sa.Float, nullable=False),
    sa.Column("n00", sa.Float, nullable=False),
    sa.Column("n10", sa.Float, nullable=False),
    sa.Column("rushed_votes", sa.Integer, nullable=False),
    sa.Column("on_probation", sa.Boolean, nullable=False),
    sa.Column("published_accuracy", sa.Float),
    sa.Column("published_at", TIMESTAMP),
    # Migration 0009_badges: the gold answers behind the published accuracy.
    sa.Column("published_gold_answers", sa.Integer),
)

consensus_model = sa.Table(
    "consensus_model",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("sensitivity", sa.Float, nullable=False),
    sa.Column("specificity", sa.Float, nullable=False),
    sa.Column("valid_share", sa.Float, nullable=False),
    sa.Column("prior_strength", sa.Float, nullable=False),
    sa.Column("refit_at", TIMESTAMP),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)
