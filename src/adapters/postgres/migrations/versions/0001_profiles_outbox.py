"""profiles and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("role", sa.Text, nullable=False, server_default="member"),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("display_name", sa.Text),
        sa.Column("languages", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("payout_currency", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('member', 'moderator', 'admin')", name="profiles_role"),
        sa.CheckConstraint("status IN ('active', 'suspended', 'banned')", name="profiles_status"),
        sa.CheckConstraint(
            "payout_currency IS NULL OR payout_currency ~ '^[A-Z]{3}$'",
            name="profiles_payout_currency",
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("status IN ('pending', 'done', 'dead')", name="outbox_status"),
    )
    op.create_index(
        "outbox_pending",
        "outbox",
        ["available_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("profiles")
