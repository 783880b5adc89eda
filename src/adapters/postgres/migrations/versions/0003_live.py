"""live streams, their chat messages and the video service's handled events

Revision ID: 0003_live
Revises: 0001
Create Date: 2026-11-25

The seed backend calls the first two tables ``liveStreams`` and ``liveMessages``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0003_live"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_streams",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "host_id", UUID, sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("room_name", sa.Text, nullable=False, unique=True),
        sa.Column("status", sa.Text, nullable=False, server_default="live"),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP),
        sa.Column("viewer_sessions", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("peak_viewers", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("status IN ('live', 'ended')", name="live_streams_status"),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 120", name="live_streams_title_length"
        ),
        sa.CheckConstraint(
            "language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'", name="live_streams_language"
        ),
        sa.CheckConstraint(
            "(status = 'live') = (ended_at IS NULL)", name="live_streams_ended_iff_ended_at"
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name="live_streams_ends_after_start"
        ),
        sa.CheckConstraint(
            "status = 'live' OR cardinality(viewer_sessions) = 0",
            name="live_streams_no_viewers_once_ended",
        ),
        sa.CheckConstraint(
            "peak_viewers >= cardinality(viewer_sessions)", name="live_streams_peak_covers_current"
        ),
    )
    # One live stream per host: the rule, enforced where concurrent starts meet.
    op.create_index(
        "live_streams_one_live_per_host",
        "live_streams",
        ["host_id"],
        unique=True,
        postgresql_where=sa.text("status = 'live'"),
    )
    op.create_index(
        "live_streams_live_newest",
        "live_streams",
        [sa.text("started_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("status = 'live'"),
    )
    op.create_table(
        "live_messages",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "stream_id",
            UUID,
            sa.ForeignKey("live_streams.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "author_id", UUID, sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 500", name="live_messages_body_length"),
    )
    op.create_index(
        "live_messages_newest",
        "live_messages",
        ["stream_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "live_messages_by_author", "live_messages", ["stream_id", "author_id", "created_at"]
    )
    op.create_table(
        "live_webhook_events",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
    )
    op.create_index("live_webhook_events_received", "live_webhook_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("live_webhook_events")
    op.drop_table("live_messages")
    op.drop_table("live_streams")
