"""voice clips, validations, skips, validator stats (gold is a flag on the clip)

Revision ID: 0002_clips
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002_clips"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "voice_clips",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("contributor_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("client_id", UUID, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("audio_key", sa.Text, nullable=False),
        sa.Column("audio_format", sa.Text, nullable=False),
        sa.Column("mime_type", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("valid_votes", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("invalid_votes", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("log_odds_sum", sa.Float, nullable=False, server_default="0"),
        sa.Column("is_gold", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("visibility", sa.Text, nullable=False, server_default="visible"),
        sa.Column("queue_rank", sa.SmallInteger, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP),
        sa.UniqueConstraint("contributor_id", "client_id", name="voice_clips_client_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'disputed')", name="voice_clips_status"
        ),
        sa.CheckConstraint(
            "visibility IN ('visible', 'hidden', 'removed')", name="voice_clips_visibility"
        ),
        sa.CheckConstraint("duration_ms BETWEEN 1000 AND 15000", name="voice_clips_duration"),
        sa.CheckConstraint("size_bytes BETWEEN 1 AND 5242880", name="voice_clips_size"),
        sa.CheckConstraint("valid_votes >= 0 AND invalid_votes >= 0", name="voice_clips_votes"),
        sa.CheckConstraint(
            "char_length(prompt) BETWEEN 1 AND 500", name="voice_clips_prompt_length"
        ),
        sa.CheckConstraint(
            "NOT is_gold OR status IN ('accepted', 'rejected')", name="voice_clips_gold_decided"
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="voice_clips_decided_at"
        ),
    )
    # The validation queue reads this index in order and stops after a page: no scan of
    # the table, whatever its size.
    op.create_index(
        "voice_clips_queue",
        "voice_clips",
        ["language", "queue_rank", "created_at", "id"],
        postgresql_where=sa.text("status = 'pending' AND visibility = 'visible' AND NOT is_gold"),
    )
    op.create_index(
        "voice_clips_gold",
        "voice_clips",
        ["language", "id"],
        postgresql_where=sa.text("is_gold AND visibility = 'visible'"),
    )
    op.create_index(
        "voice_clips_by_contributor",
        "voice_clips",
        ["contributor_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )

    op.create_table(
        "validations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("clip_id", UUID, sa.ForeignKey("voice_clips.id"), nullable=False),
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=False),
        sa.Column("on_probation", sa.Boolean, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("validator_id", "clip_id", name="validations_one_per_validator"),
        sa.CheckConstraint("verdict IN ('valid', 'invalid')", name="validations_verdict"),
        sa.CheckConstraint(
            "outcome IN ('counted', 'late', 'ignored_probation', 'ignored_weightless', 'gold')",
            name="validations_outcome",
        ),
        sa.CheckConstraint("accuracy BETWEEN 0 AND 1", name="validations_accuracy"),
    )
    op.create_index("validations_by_clip", "validations", ["clip_id", "created_at"])

    op.create_table(
        "clip_skips",
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("clip_id", UUID, sa.ForeignKey("voice_clips.id"), primary_key=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )

    op.create_table(
        "validator_stats",
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("gold_right", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gold_wrong", sa.Integer, nullable=False, server_default="0"),
        sa.Column("consensus_agreed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("consensus_disagreed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "gold_right >= 0 AND gold_wrong >= 0 AND consensus_agreed >= 0 "
            "AND consensus_disagreed >= 0",
            name="validator_stats_non_negative",
        ),
    )


def downgrade() -> None:
    op.drop_table("validator_stats")
    op.drop_table("clip_skips")
    op.drop_index("validations_by_clip", table_name="validations")
    op.drop_table("validations")
    op.drop_index("voice_clips_by_contributor", table_name="voice_clips")
    op.drop_index("voice_clips_gold", table_name="voice_clips")
    op.drop_index("voice_clips_queue", table_name="voice_clips")
    op.drop_table("voice_clips")
